"""Bad input: one line on stderr naming the problem and the fix, exit code 2, no traceback, nothing lost."""


import numpy as np
from PIL import Image

from conftest import QUESTION, doppel


def _assert_clean_error(run, *words):
    assert run.returncode == 2, (run.returncode, run.stderr)
    lines = [l for l in run.stderr.strip().splitlines() if l.strip()]
    assert "Traceback" not in run.stderr
    assert len(lines) == 1 and lines[0].startswith("error:"), run.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_empty_text():
    _assert_clean_error(doppel("say", "   ", "--no-window"), "text is empty")


def test_unreadable_audio_file(tmp_path):
    junk = tmp_path / "question.wav"
    junk.write_bytes(b"this is not audio at all" * 100)
    _assert_clean_error(doppel("chat", "--input", str(junk), "--no-window"), "cannot read audio file", str(junk))


def test_missing_audio_file(tmp_path):
    _assert_clean_error(doppel("chat", "--input", str(tmp_path / "nope.wav"), "--no-window"), "not found")


def test_config_typo():
    _assert_clean_error(doppel("say", "hi", "--set", "face.fsp=30"), "face.fsp", "did you mean 'face.fps'")


def test_config_wrong_type():
    _assert_clean_error(doppel("say", "hi", "--set", "tts.length_scale=slow"), "tts.length_scale")


def test_missing_portrait(tmp_path):
    persona = tmp_path / "me"
    persona.mkdir()
    (persona / "persona.yaml").write_text("face:\n  portrait: me.jpg\n")
    before = (persona / "persona.yaml").read_text()
    _assert_clean_error(doppel("say", "hi", "--persona", str(persona), "--no-window"), "me.jpg", "face.portrait")
    assert (persona / "persona.yaml").read_text() == before


def test_photo_without_a_face(tmp_path):
    persona = tmp_path / "landscape"
    persona.mkdir()
    sky = np.zeros((400, 400, 3), np.uint8)
    sky[:200] = (120, 170, 230)
    sky[200:] = (60, 140, 60)
    Image.fromarray(sky).save(persona / "portrait.jpg")
    _assert_clean_error(doppel("say", "hi", "--persona", str(persona), "--out", str(tmp_path / "x.mp4")),
                        "no face found")
    assert not (tmp_path / "x.mp4").exists()


def test_missing_user_model_names_the_key(tmp_path):
    _assert_clean_error(doppel("say", "hi", "--set", f"models.tts_voice={tmp_path}/voice.onnx"),
                        "models.tts_voice", "does not exist")


def test_corrupt_user_gguf_names_the_key(tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"NOPE" + b"\0" * 100)
    _assert_clean_error(doppel("chat", "--input", str(QUESTION), "--set", f"models.llm={fake}"),
                        "models.llm", "not a GGUF")


def test_wrong_output_name(tmp_path):
    _assert_clean_error(doppel("say", "hi", "--out", str(tmp_path / "x.avi"), "--no-window"), ".mp4")
