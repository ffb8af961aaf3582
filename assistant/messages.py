"""The small typed messages that flow between stages (source → ASR → agent → voice → face → sinks)."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np


@dataclass(frozen=True)
class AudioClip:
    """Mono float32 samples in [-1, 1]."""

    samples: np.ndarray
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


@dataclass(frozen=True)
class UserTurn:
    """What the person said, once they finished. Times are on the source's audio clock."""

    text: str
    language: str
    audio_seconds: float
    start: float = 0.0  # speech began
    end: float = 0.0  # speech ended
    decided: float = 0.0  # the end of turn was decided
    final_latency: float = 0.0  # wall seconds from that decision to this transcript
    segments: tuple = ()  # (start, end, text) on the audio clock


@dataclass(frozen=True)
class SpeechStarted:
    """The person started speaking (used for barge-in and to show 'listening…')."""

    t: float


@dataclass(frozen=True)
class PartialTranscript:
    """A hypothesis while the person still speaks; `stable` is the prefix two decodes agreed on."""

    text: str
    stable: str
    t: float


@dataclass(frozen=True)
class TextInput:
    """Typed text to speak or answer."""

    text: str


@dataclass(frozen=True)
class ReplySentence:
    """One sentence or clause of the reply, handed on as soon as it is complete."""

    text: str
    index: int
    emotion: str = "neutral"
    intensity: float = 0.0


@dataclass(frozen=True)
class Phoneme:
    symbol: str
    start: float  # seconds from the start of its SpeechChunk
    end: float


@dataclass(frozen=True)
class SpeechChunk:
    """Synthesized audio for one sentence, with the phoneme timing the face uses."""

    audio: AudioClip
    phonemes: tuple[Phoneme, ...]
    text: str
    index: int
    emotion: str = "neutral"
    intensity: float = 0.0


@dataclass(frozen=True)
class EndOfTurn:
    """The upstream stage has nothing more for this turn."""


@dataclass(frozen=True)
class Cancel:
    """Barge-in or quit: every stage drops its queued work at once."""

    reason: str = ""


@dataclass
class Timings:
    """Seconds spent per stage, filled in as a turn runs."""

    values: dict[str, float] = field(default_factory=dict)

    def add(self, stage: str, seconds: float) -> None:
        self.values[stage] = round(self.values.get(stage, 0.0) + seconds, 4)

    def set(self, stage: str, value: float) -> None:
        self.values[stage] = round(value, 4)

    @contextmanager
    def measure(self, stage: str) -> Iterator[None]:
        """Add the wall time of the block to `stage`."""
        began = time.perf_counter()
        try:
            yield
        finally:
            self.add(stage, time.perf_counter() - began)
