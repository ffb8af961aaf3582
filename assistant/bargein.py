"""Barge-in: hear the person over Doppel's own voice.

The microphone also picks up the speakers. WebRTC's echo canceller (AEC3, through pywebrtc-audio)
subtracts what is being played (the far end) from what the microphone hears; Silero then judges
what is left. Measured on piper replies mixed into the microphone through a room response at the
person's level and 6 and 12 dB above it: without the canceller Silero fires on Doppel's own voice
within 0.3 s every time, with it never (bench/README.md).
"""

from __future__ import annotations

import numpy as np

from assistant.config import BargeInConfig
from assistant.vad import BLOCK, SAMPLE_RATE, SileroVad

FRAME = SAMPLE_RATE // 100  # the canceller works on 10 ms frames
BLOCK_SECONDS = BLOCK / SAMPLE_RATE


class EchoCanceller:
    """Removes the far-end signal (what the speakers play) from 512-sample microphone blocks."""

    def __init__(self, delay_ms: int) -> None:
        from pywebrtc_audio import EchoCanceller as Aec3

        self._aec = Aec3(SAMPLE_RATE, 1, delay_ms)
        self._near = np.zeros(0, np.float32)
        self._far = np.zeros(0, np.float32)
        self._out = np.zeros(FRAME, np.float32)  # a 10 ms lag, so every block comes out whole

    def __call__(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        self._near = np.concatenate([self._near, near.astype(np.float32)])
        self._far = np.concatenate([self._far, far.astype(np.float32)])
        frames = len(self._near) // FRAME
        if frames:
            done = [self._aec.process(self._near[i * FRAME:(i + 1) * FRAME], self._far[i * FRAME:(i + 1) * FRAME])
                    for i in range(frames)]
            self._out = np.concatenate([self._out, *done])
            self._near, self._far = self._near[frames * FRAME:], self._far[frames * FRAME:]
        block, self._out = self._out[:BLOCK], self._out[BLOCK:]
        return np.pad(block, (0, BLOCK - len(block)))


class BargeInDetector:
    """Fires once the person has spoken `min_speech` seconds over the playback."""

    def __init__(self, vad: SileroVad, config: BargeInConfig) -> None:
        self.vad = vad
        self.config = config
        self.canceller = EchoCanceller(config.echo_delay_ms)
        self._voiced = 0.0

    def reset(self) -> None:
        self._voiced = 0.0
        self.vad.reset()

    def feed(self, mic: np.ndarray, far: np.ndarray) -> tuple[bool, np.ndarray]:
        """(fired, the echo-cancelled block). The cleaned block is what the listener should hear."""
        cleaned = self.canceller(mic, far)
        if self.vad(cleaned) >= self.config.vad_threshold:
            self._voiced += BLOCK_SECONDS
        else:
            self._voiced = 0.0
        return self.config.enabled and self._voiced >= self.config.min_speech, cleaned
