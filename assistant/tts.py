"""Piper, the synthesizer under every built-in voice, and the voice stage that speaks each sentence."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Protocol

import numpy as np

from assistant.errors import DoppelError
from assistant.messages import AudioClip, Phoneme, ReplySentence, SpeechChunk, Timings
from assistant.pipeline import Stage


class PiperSpeaker:
    """Text → audio + phoneme timings, with the bundled piper voice or the user's."""

    def __init__(self, model_path: Path, length_scale: float, sentence_pause: float, seed: int | None = None) -> None:
        self.model_path = model_path
        self.length_scale = length_scale
        self.sentence_pause = sentence_pause
        self.seed = seed  # piper samples noise (durations, voice quality); a seed makes the takes repeatable
        self._voice = None

    def load(self) -> None:
        from piper import PiperVoice

        if self._voice is not None:
            return
        if self.seed is not None:
            import onnxruntime

            onnxruntime.set_seed(self.seed)
        try:
            self._voice = PiperVoice.load(self.model_path, include_alignments=True)
        except Exception as exc:  # onnxruntime/JSON errors from a bad user voice
            raise DoppelError(f"models.tts_voice: cannot load {self.model_path} ({type(exc).__name__}); "
                              "point it at a piper .onnx voice with its .onnx.json") from None

    @property
    def sample_rate(self) -> int:
        return self._voice.config.sample_rate

    def speak(self, text: str, rate: float = 1.0) -> tuple[AudioClip, tuple[Phoneme, ...]]:
        """Synthesize text (one or more sentences) followed by a short pause; rate 1.2 is 20% faster."""
        from piper.config import SynthesisConfig

        if self._voice is None:
            self.load()
        config = SynthesisConfig(length_scale=self.length_scale / max(rate, 0.25))
        pieces: list[np.ndarray] = []
        phonemes: list[Phoneme] = []
        offset = 0
        rate = self.sample_rate
        pause = np.zeros(int(self.sentence_pause * rate), dtype=np.float32)
        for chunk in self._voice.synthesize(text, config, include_alignments=True):
            cursor = offset
            for align in chunk.phoneme_alignments or ():
                phonemes.append(Phoneme(align.phoneme, cursor / rate, (cursor + align.num_samples) / rate))
                cursor += align.num_samples
            pieces += [chunk.audio_float_array.astype(np.float32), pause]
            offset += len(chunk.audio_float_array) + len(pause)
        samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
        return AudioClip(samples, rate), tuple(phonemes)


class Voice(Protocol):
    """What the voice stage needs from a backend (assistant/voices.py builds one from config)."""

    sample_rate: int

    def load(self) -> None: ...

    def speak(self, text: str, emotion: str = "neutral",
              intensity: float = 0.0) -> tuple[AudioClip, tuple[Phoneme, ...]]: ...


class VoiceStage(Stage):
    name = "voice"

    def __init__(self, speaker: "Voice", timings: Timings) -> None:
        self.speaker = speaker
        self.timings = timings

    def start(self) -> None:
        with self.timings.measure("load_tts"):
            self.speaker.load()

    def handle(self, message: object) -> Iterator[object]:
        if not isinstance(message, ReplySentence):
            yield message
            return
        with self.timings.measure("tts"):
            clip, phonemes = self.speaker.speak(message.text, message.emotion, message.intensity)
        self.timings.add("speech_seconds", clip.duration)
        yield SpeechChunk(clip, phonemes, message.text, message.index, message.emotion, message.intensity)
