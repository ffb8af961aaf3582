"""The OpenAI-compatible backend against a real llama.cpp server started on loopback."""

import json
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import doppel


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(config):
    from assistant import models

    port = _free_port()
    from assistant.config import load_config

    gguf = models.resolve(load_config(overrides=["models.llm=smollm2-135m"]), "llm").path
    process = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
                                "--port", str(port), "--n_ctx", "2048"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{url}/models", timeout=1)
            break
        except OSError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("the llama.cpp server did not start")
    yield url
    process.terminate()
    process.wait(timeout=10)


def test_ask_through_an_openai_compatible_server(server, tmp_path):
    settings = ["--set", "llm.backend=openai", "--set", f"llm.base_url={server}", "--set", "llm.server_model=smollm2"]
    run = doppel("ask", "My cat is called Luna.", "--user", "srv", "--json", *settings, offline=False,
                 DOPPEL_HOME=str(tmp_path), NO_PROXY="127.0.0.1,localhost")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["reply"] and result["sentences"]
    assert {"key": "cat's name", "value": "Luna"} in result["learned"]  # JSON-schema output through the server


def test_an_unreachable_server_is_one_clear_line(tmp_path):
    run = doppel("ask", "Hello", "--set", "llm.backend=openai", "--set", "llm.base_url=http://127.0.0.1:9/v1",
                 offline=False, DOPPEL_HOME=str(tmp_path), NO_PROXY="127.0.0.1,localhost")
    assert run.returncode == 2 and "cannot reach the language-model server" in run.stderr
    assert "Traceback" not in run.stderr
