"""The OpenAI-compatible backend against a real llama.cpp server started on loopback."""

import json
import subprocess
import sys

import pytest

from conftest import doppel, free_port, wait_for


@pytest.fixture(scope="module")
def server(config):
    from assistant import models

    port = free_port()
    from assistant.config import load_config

    gguf = models.resolve(load_config(overrides=["models.llm=smollm2-135m"]), "llm").path
    process = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
                                "--port", str(port), "--n_ctx", "2048"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    wait_for(f"{url}/models", process, "the llama.cpp server")
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
