"""The bundled-model registry: found in their packages, joined, verified, cached; overrides by path."""

import shutil

import pytest

from assistant import models
from assistant.config import load_config
from assistant.errors import DoppelError


def test_every_bundled_model_is_prepared_and_verified(tmp_path):
    config = load_config(overrides=[f"data_dir={tmp_path}"])
    for spec in models.BUNDLED:
        folder = models.prepare(spec, config.home)
        assert models.sha256(folder / spec.main) == spec.sha256
    assert {m.key for m in models.BUNDLED} == {"asr", "vad", "llm", "tts_voice", "embeddings", "speaker", "face_mesh"}


def test_a_model_in_parts_is_rejoined_when_its_cache_is_corrupted(tmp_path):
    config = load_config(overrides=[f"data_dir={tmp_path}"])
    spec = models.bundled("base")
    folder = models.prepare(spec, config.home)
    with open(folder / spec.main, "r+b") as fh:  # flip bytes in the middle of the joined file
        fh.seek(1000)
        fh.write(b"\xff" * 64)
    folder = models.prepare(spec, config.home)
    assert models.sha256(folder / spec.main) == spec.sha256


def test_resolve_uses_a_user_path_as_it_is(tmp_path, config):
    bundled = models.resolve(config, "tts_voice").path
    mine = tmp_path / "my-voice.onnx"
    shutil.copy(bundled, mine)
    shutil.copy(f"{bundled}.json", f"{mine}.json")
    resolved = models.resolve(load_config(overrides=[f"models.tts_voice={mine}"]), "tts_voice")
    assert resolved.path == mine and resolved.bundled is None


@pytest.mark.parametrize("key, value, words", [
    ("asr", "{tmp}", "model.bin is missing"),
    ("llm", "tiny.en", "is a asr model"),
    ("face_mesh", "{tmp}/face.tflite", "only the bundled 'mediapipe'"),
    ("tts_voice", "{tmp}/none.onnx", "does not exist"),
])
def test_bad_model_settings_name_the_key_the_path_and_the_fix(tmp_path, key, value, words):
    (tmp_path / "face.tflite").write_bytes(b"x")
    config = load_config(overrides=[f"models.{key}={value.format(tmp=tmp_path)}"])
    with pytest.raises(DoppelError) as error:
        models.resolve(config, key)
    assert f"models.{key}" in str(error.value) and words in str(error.value)
