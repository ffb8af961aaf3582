import pytest

from assistant.config import DEFAULT_CONFIG, load_config
from assistant.errors import DoppelError


def test_config_yaml_loads_into_typed_models():
    config = load_config()
    assert config.face.fps == 25 and isinstance(config.llm.temperature, float)


def test_set_overrides_one_key():
    config = load_config(overrides=["face.fps=30", "asr.language=de"])
    assert config.face.fps == 30 and config.asr.language == "de"


def test_user_file_merges_over_defaults(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("tts:\n  length_scale: 1.2\n")
    config = load_config(mine)
    assert config.tts.length_scale == 1.2 and config.face.fps == 25


@pytest.mark.parametrize("override, words", [
    (["face.fsp=30"], ["face.fsp", "did you mean 'face.fps'"]),
    (["vidoe.crf=20"], ["vidoe", "did you mean 'video'"]),
    (["face.fps=fast"], ["face.fps", "bad value"]),
    (["face"], ["section.key=value"]),
])
def test_typos_and_wrong_types_are_refused_with_the_key(override, words):
    with pytest.raises(DoppelError) as error:
        load_config(overrides=override)
    for word in words:
        assert word in str(error.value)


def test_config_yaml_documents_every_key():
    """Every setting line in config.yaml carries a comment that explains it."""
    for line in DEFAULT_CONFIG.read_text().splitlines():
        if line.startswith("  ") and ":" in line:
            assert "#" in line, f"undocumented setting: {line.strip()}"


def test_face_size_outside_256_to_1024_is_refused():
    from assistant.config import load_config
    from assistant.errors import DoppelError

    for bad in ("128", "2048"):
        with pytest.raises(DoppelError, match="face.size"):
            load_config(overrides=[f"face.size={bad}"])
    assert load_config(overrides=["face.size=1024"]).face.size == 1024
