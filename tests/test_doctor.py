import json

from conftest import doppel


def test_doctor_loads_every_model_and_reports_versions():
    run = doppel("doctor", "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert not report["problems"]
    keys = {m["key"] for m in report["models"]}
    assert keys == {f"models.{k}" for k in ("asr", "vad", "llm", "tts_voice", "embeddings", "speaker", "face_mesh")}
    for model in report["models"]:
        assert model["load_seconds"] >= 0 and model["size_mb"] > 0 and model["origin"].startswith("pip:")
    assert report["libraries"]["llama-cpp-python"] == "0.3.36"


def test_doctor_names_a_broken_model_setting(tmp_path):
    run = doppel("doctor", "--json", "--set", f"models.llm={tmp_path}/missing.gguf")
    assert run.returncode == 1
    assert any("models.llm" in p for p in json.loads(run.stdout)["problems"])
