"""Shared helpers: run the real `doppel` command offline, read back what it wrote."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]

# Tests never touch the user's own twin: they run in a throw-away data directory that borrows the
# prepared models (make test prepares them in the real data directory first).
_REAL_HOME = Path(os.environ.get("DOPPEL_HOME") or Path.home() / ".local/share/doppel")
TEST_HOME = Path(tempfile.mkdtemp(prefix="doppel-test-home-"))


def with_models(home: str | Path) -> str:
    """A data directory (created if needed) whose models/ is the prepared one."""
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "models").exists() and (_REAL_HOME / "models").is_dir():
        (home / "models").symlink_to(_REAL_HOME / "models")
    return str(home)


os.environ["DOPPEL_HOME"] = with_models(TEST_HOME)
QUESTION = REPO / "assistant" / "samples" / "question.wav"
QUESTION_TEXT = "What should I pack for a trip to the mountains?"


def offline_env(**extra: str) -> dict[str, str]:
    """No hub, no proxy that works: a run that tried the network would fail."""
    env = dict(os.environ)
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HTTP_PROXY="http://127.0.0.1:9",
               HTTPS_PROXY="http://127.0.0.1:9", ALL_PROXY="http://127.0.0.1:9", NO_PROXY="",
               SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    env.pop("DISPLAY", None)
    env.update(extra)
    env["DOPPEL_HOME"] = with_models(env["DOPPEL_HOME"])
    return env


def _no_network_prefix() -> list[str]:
    """`unshare -n` puts the command in a network namespace with no interfaces, where that is allowed."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


NO_NETWORK = _no_network_prefix()


def doppel(*args: str, offline: bool = True, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "assistant.cli", *args]
    return subprocess.run((NO_NETWORK if offline else []) + command, capture_output=True, text=True,
                          env=offline_env(**env), cwd=cwd or REPO, timeout=600)


_CONTRACTIONS = {"i'm": "i am", "it's": "it is", "you're": "you are", "what's": "what is", "that's": "that is",
                 "don't": "do not", "can't": "cannot", "we're": "we are", "let's": "let us"}


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate after the usual normalisation (case, punctuation, contractions)."""
    import jiwer

    clean = jiwer.Compose([jiwer.ToLowerCase(), jiwer.SubstituteWords(_CONTRACTIONS), jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(),
                           jiwer.Strip(), jiwer.ReduceToListOfListOfWords()])
    return jiwer.wer(reference, hypothesis, reference_transform=clean, hypothesis_transform=clean)


@pytest.fixture(scope="session")
def config():
    from assistant.config import load_config

    return load_config()


@pytest.fixture(scope="session")
def transcriber(config):
    from assistant.asr import Transcriber
    from assistant import models

    t = Transcriber(models.resolve(config, "asr").path, config.asr, "en")
    t.load()
    return t


def read_video(path: Path) -> tuple[list[np.ndarray], np.ndarray]:
    """All frames (RGB) and the audio track (16 kHz mono) of an MP4."""
    import imageio.v3 as iio
    from faster_whisper import decode_audio

    frames = list(iio.imiter(str(path), plugin="pyav"))
    return frames, decode_audio(str(path), sampling_rate=16000)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, what: str, seconds: float = 60) -> None:
    """Poll url until it answers; fail (and stop the process) when it does not in time."""
    import time
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.5)
    process.kill()
    pytest.fail(f"{what} did not start")


def parse_json(stdout: str) -> dict:
    return json.loads(stdout)
