"""Persona folders: partial folders fall back to the default persona; writing creates the folder."""


import pytest

from assistant.errors import DoppelError
from persona.persona import DEFAULT_PERSONA, load_persona


def test_default_persona_has_a_licensed_portrait():
    persona = load_persona(None)
    assert persona.portrait.is_file()
    assert "public domain" in (DEFAULT_PERSONA / "LICENSE.md").read_text()


def test_a_folder_with_only_some_parts_takes_the_rest_from_the_default(tmp_path):
    (tmp_path / "persona.yaml").write_text("name: Ada\n")
    persona = load_persona(tmp_path)
    assert persona.name == "Ada"
    assert persona.portrait == DEFAULT_PERSONA / "portrait.jpg"  # still has a face
    assert persona.spec.system_prompt  # and a prompt


def test_a_folder_without_persona_yaml_still_loads(tmp_path):
    (tmp_path / "voice").mkdir()
    (tmp_path / "voice" / "reference.wav").write_bytes(b"RIFF")
    persona = load_persona(tmp_path)
    assert persona.voice_reference == tmp_path / "voice" / "reference.wav"
    assert persona.portrait.is_file()


def test_its_own_portrait_wins(tmp_path):
    (tmp_path / "portrait.jpg").write_bytes((DEFAULT_PERSONA / "portrait.jpg").read_bytes())
    assert load_persona(tmp_path).portrait == tmp_path / "portrait.jpg"


def test_saving_creates_the_folder(tmp_path):
    target = tmp_path / "new" / "twin"
    persona = load_persona(target)
    persona.save()
    assert (target / "persona.yaml").is_file()
    assert load_persona(target).name == persona.name


def test_unknown_persona_key_is_refused(tmp_path):
    (tmp_path / "persona.yaml").write_text("nmae: Ada\n")
    with pytest.raises(DoppelError, match="nmae"):
        load_persona(tmp_path)
