"""Speech recognition stage: faster-whisper on the CPU."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator, Optional

from assistant.config import AsrConfig
from assistant.errors import DoppelError
from assistant.messages import AudioClip, Timings, UserTurn
from assistant.pipeline import Stage


class Transcriber:
    def __init__(self, model_dir: Path, config: AsrConfig, language: Optional[str]) -> None:
        self.model_dir = model_dir
        self.config = config
        self.language = config.language or language
        self._model = None

    def load(self) -> None:
        from faster_whisper import WhisperModel

        try:
            self._model = WhisperModel(str(self.model_dir), device="cpu", compute_type=self.config.compute_type,
                                       cpu_threads=self.config.threads)
        except Exception as exc:  # CTranslate2 raises RuntimeError/ValueError on a bad folder
            raise DoppelError(f"models.asr: cannot load Whisper from {self.model_dir} ({exc}); "
                              "point it at a CTranslate2 Whisper folder") from None

    def transcribe(self, clip: AudioClip) -> UserTurn:
        if self._model is None:
            self.load()
        # an English-only model must be told "en"; a multilingual one detects when no language is set
        language = self.language if self._model.model.is_multilingual else "en"
        segments, info = self._model.transcribe(clip.samples, language=language, beam_size=self.config.beam_size,
                                                vad_filter=False, condition_on_previous_text=False)
        text = " ".join(s.text.strip() for s in segments).strip()
        return UserTurn(text, info.language, clip.duration)


class AsrStage(Stage):
    name = "asr"

    def __init__(self, transcriber: Transcriber, timings: Timings) -> None:
        self.transcriber = transcriber
        self.timings = timings

    def start(self) -> None:
        began = time.perf_counter()
        self.transcriber.load()
        self.timings.add("load_asr", time.perf_counter() - began)

    def handle(self, message: object) -> Iterator[object]:
        if not isinstance(message, AudioClip):
            yield message
            return
        began = time.perf_counter()
        turn = self.transcriber.transcribe(message)
        self.timings.add("asr", time.perf_counter() - began)
        if not turn.text:
            raise DoppelError("no speech was recognised in the recording; record the question again, closer to the microphone")
        yield turn
