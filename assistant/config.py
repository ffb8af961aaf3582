"""Typed configuration, loaded once from config.yaml.

The repository's config.yaml holds every knob with its default and its documentation;
a user's file (--config) is merged over it, then each --set section.key=value.
Unknown keys and wrong types are refused with the key's name and a suggestion.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistant.errors import DoppelError

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = REPO_ROOT / "config.yaml"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelsConfig(Section):
    asr: str
    vad: str
    llm: str
    tts_voice: str
    embeddings: str
    speaker: str
    face_mesh: str


class AsrConfig(Section):
    compute_type: str
    beam_size: int
    threads: int
    language: Optional[str]


class AudioConfig(Section):
    input_device: Optional[Union[int, str]]
    output_device: Optional[Union[int, str]]
    buffer_seconds: float
    stall_seconds: float
    reconnect_attempts: int


class ListenConfig(Section):
    vad_threshold: float
    pre_roll: float
    min_speech: float
    end_silence_complete: float
    end_silence_incomplete: float
    complete_confidence: float
    end_silence_noisy: float
    noisy_below_snr_db: float
    noise_suppression: int
    partial_every: float
    max_turn: float
    no_speech_threshold: float


class BargeInConfig(Section):
    enabled: bool
    vad_threshold: float
    min_speech: float
    echo_delay_ms: int


class MemoryConfig(Section):
    recall: int
    min_score: float
    recency_weight: float


class EmotionConfig(Section):
    method: Literal["prototypes", "vader", "llm"]


class LlmConfig(Section):
    backend: Literal["llama_cpp", "openai"]
    base_url: str
    server_model: str
    api_key: Optional[str]
    context_tokens: int
    threads: int
    max_reply_tokens: int
    max_reply_sentences: int
    history_turns: int
    temperature: float
    seed: int
    min_clause_words: int


class TtsConfig(Section):
    length_scale: float
    sentence_pause: float
    rate: float
    backend: Literal["clone", "piper", "http"]
    http_url: str
    http_voice: str
    http_model: str
    http_timeout: float
    seed: Optional[int]


class VoiceConfig(Section):
    method: Literal["auto", "exemplar", "residual", "world", "nearest"]
    max_check_wer: float
    min_similarity_gain: float
    frame_ms: float
    neighbours: int
    enroll_asr: str
    min_speech_seconds: float
    min_snr_db: float
    max_clipped: float
    one_speaker_min_cosine: float
    consent_threshold: float
    consent_words_min: float
    emotion_prosody: float


class ProsodyShape(Section):
    rate: float
    pitch: float
    range: float
    energy_db: float


class FaceReach(Section):
    """How far each face control moves at full weight (fractions of the face width unless noted)."""

    jaw: float
    lip_round: float  # share of the way lip points are drawn towards the mouth's centre line
    lip_spread: float  # share of the way they stretch out from it
    smile: float
    brow_raise: float
    brow_furrow: float
    squint: float  # share of the eye's opening the lower lid rises
    head_turn: float
    gaze: float  # share of the iris's width


class FaceConfig(Section):
    size: Annotated[int, Field(ge=256, le=1024)]
    fps: int
    face_fraction: float
    clahe_clip: float
    reach: FaceReach
    expressions: dict[str, dict[str, float]]
    loudness_share: float
    rest_press: float
    rest_fade: float
    viseme_lead: float
    expression: float
    expression_smoothing: float
    mouth_smoothing: float
    blink_every: float
    blink_duration: float
    gaze_every: float
    breath_seconds: float
    head_motion: float
    sway_degrees: float

    @field_validator("expressions")
    @classmethod
    def _known_controls(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        from renderers.controls import EXPRESSION_CONTROLS

        for emotion, weights in value.items():
            unknown = set(weights) - set(EXPRESSION_CONTROLS)
            if unknown:
                raise ValueError(f"face.expressions.{emotion}: unknown control {sorted(unknown)[0]!r} "
                                 f"(use {', '.join(EXPRESSION_CONTROLS)})")
        return value


class VideoConfig(Section):
    crf: int
    preset: str
    audio_bitrate: str


class WindowConfig(Section):
    enabled: bool
    title: str
    drop_late_ms: float


class Config(Section):
    models: ModelsConfig
    data_dir: Optional[Path]
    persona: Optional[Path]
    asr: AsrConfig
    audio: AudioConfig
    listen: ListenConfig
    barge_in: BargeInConfig
    llm: LlmConfig
    memory: MemoryConfig
    emotion: EmotionConfig
    tts: TtsConfig
    voice: VoiceConfig
    prosody: dict[str, ProsodyShape]
    face: FaceConfig
    video: VideoConfig
    window: WindowConfig

    @property
    def home(self) -> Path:
        """The data directory: models cache, memory, logs."""
        if self.data_dir is not None:
            return self.data_dir.expanduser()
        env = os.environ.get("DOPPEL_HOME")
        return Path(env).expanduser() if env else Path.home() / ".local/share/doppel"


def load_config(path: Path | None = None, overrides: list[str] | None = None) -> Config:
    """Load config.yaml, merge the user's file and --set overrides, and validate."""
    data = _read_yaml(DEFAULT_CONFIG)
    if path is not None:
        _merge(data, _read_yaml(Path(path)), source=str(path))
    for item in overrides or []:
        key, value = _parse_override(item)
        _merge(data, _nest(key, value), source="--set")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise DoppelError(_explain(exc)) from None


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise DoppelError(f"config file not found: {path}; pass an existing file to --config")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where else ""
        raise DoppelError(f"config file {path} is not valid YAML{line}; fix the syntax there") from None
    if not isinstance(data, dict):
        raise DoppelError(f"config file {path} must hold a mapping of sections (like config.yaml)")
    return data


def _parse_override(item: str) -> tuple[str, Any]:
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise DoppelError(f"--set expects section.key=value, got {item!r}")
    return key.strip(), yaml.safe_load(raw) if raw.strip() else None


def _nest(dotted: str, value: Any) -> dict[str, Any]:
    out: Any = value
    for part in reversed(dotted.split(".")):
        out = {part: out}
    return out


def _merge(base: dict[str, Any], extra: dict[str, Any], source: str, prefix: str = "") -> None:
    """Merge extra into base, refusing keys that config.yaml does not define."""
    for key, value in extra.items():
        name = f"{prefix}{key}"
        if key not in base:
            raise DoppelError(_unknown_key(name, base, prefix, source))
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise DoppelError(f"config key '{name}' is a section; set one of its keys, e.g. {name}.{next(iter(base[key]))}")
            _merge(base[key], value, source, prefix=f"{name}.")
        else:
            base[key] = value


def _unknown_key(name: str, siblings: dict[str, Any], prefix: str, source: str) -> str:
    close = difflib.get_close_matches(name.rsplit(".", 1)[-1], list(siblings), n=1)
    hint = f"did you mean '{prefix}{close[0]}'?" if close else f"known keys here: {', '.join(prefix + k for k in siblings)}"
    return f"unknown config key '{name}' (from {source}); {hint}"


def _explain(exc: ValidationError) -> str:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"])
    return f"config key '{key}' has a bad value {err.get('input')!r}: {err['msg'].lower()}; see config.yaml for its meaning"
