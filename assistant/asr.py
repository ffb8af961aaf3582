"""Speech recognition with faster-whisper on the CPU (int8)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from assistant.config import AsrConfig
from assistant.errors import DoppelError
from assistant.messages import AudioClip, Timings, UserTurn
from assistant.pipeline import Stage

# What Whisper writes for sounds that are not words; such a segment is no transcript.
_NON_SPEECH = {"", "♪", "♪♪", "[music]", "(music)", "[applause]", "[silence]", "[noise]", "(upbeat music)"}


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Decoded:
    text: str
    language: str
    segments: tuple[Segment, ...]
    confidence: float = 1.0  # mean token probability of the kept segments (exp of Whisper's avg log-prob)


class Transcriber:
    def __init__(self, model_dir: Path, config: AsrConfig, language: Optional[str],
                 no_speech_threshold: float = 0.6) -> None:
        self.model_dir = model_dir
        self.config = config
        self.language = config.language or language
        self.no_speech_threshold = no_speech_threshold
        self._model = None

    def load(self) -> None:
        from faster_whisper import WhisperModel

        if self._model is not None:
            return
        try:
            self._model = WhisperModel(str(self.model_dir), device="cpu", compute_type=self.config.compute_type,
                                       cpu_threads=self.config.threads)
        except Exception as exc:  # CTranslate2 raises RuntimeError/ValueError on a bad folder
            raise DoppelError(f"models.asr: cannot load Whisper from {self.model_dir} ({exc}); "
                              "point it at a CTranslate2 Whisper folder") from None

    @property
    def multilingual(self) -> bool:
        self.load()
        return bool(self._model.model.is_multilingual)

    def decode(self, samples: np.ndarray, offset: float = 0.0) -> Decoded:
        """Transcribe 16 kHz samples; segments that are more likely not speech are dropped."""
        self.load()
        # an English-only model must be told "en"; a multilingual one detects when no language is set
        language = self.language if self.multilingual else "en"
        segments, info = self._model.transcribe(
            samples, language=language, beam_size=self.config.beam_size, vad_filter=False,
            condition_on_previous_text=False, without_timestamps=False)
        kept = [s for s in segments
                if s.no_speech_prob < self.no_speech_threshold and s.text.strip().lower() not in _NON_SPEECH]
        confidence = float(np.exp(np.mean([s.avg_logprob for s in kept]))) if kept else 0.0
        return Decoded(" ".join(s.text.strip() for s in kept).strip(), info.language,
                       tuple(Segment(offset + s.start, offset + s.end, s.text.strip()) for s in kept), confidence)

    def transcribe(self, clip: AudioClip) -> UserTurn:
        decoded = self.decode(clip.samples)
        return UserTurn(decoded.text, decoded.language, clip.duration)


class AsrStage(Stage):
    """Whole recordings → UserTurn (chat --input). The live path uses the Listener instead."""

    name = "asr"

    def __init__(self, transcriber: Transcriber, timings: Timings) -> None:
        self.transcriber = transcriber
        self.timings = timings

    def start(self) -> None:
        with self.timings.measure("load_asr"):
            self.transcriber.load()

    def handle(self, message: object) -> Iterator[object]:
        if not isinstance(message, AudioClip):
            yield message
            return
        with self.timings.measure("asr"):
            turn = self.transcriber.transcribe(message)
        if not turn.text:
            raise DoppelError("no speech was recognised in the recording; record the question again, closer to the microphone")
        yield turn
