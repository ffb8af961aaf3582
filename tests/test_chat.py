"""`doppel chat --input`: a full turn in a fresh process, with the network made impossible."""

import json

from conftest import NO_NETWORK, QUESTION, QUESTION_TEXT, doppel, wer
from renderers.video import probe


def test_chat_answers_the_recorded_question_offline(tmp_path):
    out = tmp_path / "reply.mp4"
    run = doppel("chat", "--input", str(QUESTION), "--out", str(out), "--no-window", "--json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)  # --json prints exactly one JSON object
    assert set(result) == {"transcript", "reply", "timings"}
    assert wer(QUESTION_TEXT, result["transcript"]) <= 0.2, result["transcript"]
    assert len(result["reply"].split()) >= 3
    for stage in ("asr", "llm_first_token", "tts", "render", "mux"):
        assert result["timings"][stage] > 0
    info = probe(out)
    assert info["video_codec"] == "h264" and info["audio_codec"] == "aac"


def test_the_offline_run_really_had_no_network():
    if not NO_NETWORK:
        import pytest

        pytest.skip("unshare -n is not permitted here; the chat test ran with HF_HUB_OFFLINE and dead proxies")
    import subprocess

    probe_net = subprocess.run(NO_NETWORK + ["python3", "-c", "import socket; socket.create_connection(('127.0.0.1', 9), 1)"],
                               capture_output=True, text=True)
    assert probe_net.returncode != 0


def test_plain_output_shows_transcript_and_reply():
    run = doppel("chat", "--input", str(QUESTION), "--no-window", "--set", "models.llm=smollm2-135m")
    assert run.returncode == 0, run.stderr
    heard, said = run.stdout.strip().splitlines()[-2:]
    assert heard.startswith("you: ") and said.startswith("Nova: ") and len(said) > len("Nova: ")
