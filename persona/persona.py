"""A persona folder: persona.yaml, a portrait, and an optional voice reference.

A folder may hold only some of these: every key and file it lacks comes from the default
persona shipped in persona/default, so a folder with only an enrolled voice still has a face.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from assistant.errors import DoppelError

DEFAULT_PERSONA = Path(__file__).resolve().parent / "default"
PERSONA_FILE = "persona.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VoiceSettings(_Strict):
    reference: str
    length_scale: float


class FaceSettings(_Strict):
    portrait: str


class PersonaSpec(_Strict):
    name: str
    language: str
    system_prompt: str
    voice: VoiceSettings
    face: FaceSettings
    licence: str = ""


class Persona:
    """A loaded persona: its settings and the files it uses (each from its own folder or the default)."""

    def __init__(self, folder: Path, spec: PersonaSpec) -> None:
        self.folder = folder
        self.spec = spec

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def portrait(self) -> Path:
        return self._part(self.spec.face.portrait, "face.portrait")

    @property
    def face_cache(self) -> Path:
        """Where the prepared portrait's rig is kept (built once per photo and face settings)."""
        return self.folder / "face"

    @property
    def voice_reference(self) -> Optional[Path]:
        try:
            return self._part(self.spec.voice.reference, "voice.reference")
        except DoppelError:
            return None  # optional: the bundled voice speaks until one is enrolled

    def _part(self, relative: str, key: str) -> Path:
        own = self.folder / relative
        if own.is_file():
            return own
        named_here = key.split(".")[1] in _own_keys(self.folder).get(key.split(".")[0], {})
        fallback = DEFAULT_PERSONA / relative
        if not named_here and fallback.is_file():
            return fallback
        raise DoppelError(
            f"persona {self.folder}: {key} names {own}, which does not exist; "
            f"put the file there or fix {key} in {self.folder / PERSONA_FILE}"
        )

    def save(self) -> Path:
        """Write persona.yaml, creating the folder when it does not exist yet."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / PERSONA_FILE
        path.write_text(yaml.safe_dump(self.spec.model_dump(), sort_keys=False, allow_unicode=True), encoding="utf-8")
        return path


def load_persona(folder: Path | None) -> Persona:
    """Load a persona folder (None: the default), filling gaps from the default persona."""
    if folder is None:
        folder = DEFAULT_PERSONA
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise DoppelError(f"persona {folder} is a file; pass the persona's folder (the one holding persona.yaml)")
    data = _read(DEFAULT_PERSONA / PERSONA_FILE)
    _merge(data, _own_keys(folder))
    try:
        spec = PersonaSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise DoppelError(f"persona {folder / PERSONA_FILE}: key '{key}': {err['msg'].lower()}") from None
    return Persona(folder, spec)


def _own_keys(folder: Path) -> dict[str, Any]:
    path = folder / PERSONA_FILE
    return _read(path) if path.is_file() else {}


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
        raise DoppelError(f"cannot read {path}: {type(exc).__name__}; fix or remove the file") from None
    if not isinstance(data, dict):
        raise DoppelError(f"{path} must be a mapping of keys like persona/default/persona.yaml")
    return data


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def update_persona_file(folder: Path, changes: dict[str, Any]) -> Path:
    """Merge `changes` into the folder's own persona.yaml (creating both when missing); keys it does
    not name keep falling back to the default persona."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = _own_keys(folder)
    _merge(data, changes)
    path = folder / PERSONA_FILE
    tmp = folder / f".{PERSONA_FILE}.tmp"
    tmp.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    tmp.replace(path)
    return path
