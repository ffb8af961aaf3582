"""Microphone front-end: WebRTC noise suppression and a running estimate of the signal-to-noise ratio."""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from assistant.vad import BLOCK, SAMPLE_RATE

FRAME = SAMPLE_RATE // 100  # WebRTC processes 10 ms frames
SURE_SPEECH, SURE_SILENCE = 0.8, 0.15  # VAD probabilities the SNR estimate trusts


class Denoiser:
    """WebRTC noise suppression on 512-sample blocks (WebRTC wants 160): the output lags by < 10 ms."""

    def __init__(self, level: int) -> None:
        from pywebrtc_audio import NoiseSuppressor

        self._ns = NoiseSuppressor(SAMPLE_RATE, 1, level)
        self._pending = np.zeros(0, np.float32)
        self._ready = np.zeros(FRAME, np.float32)  # primes the lag so every block comes out at once

    def __call__(self, block: np.ndarray) -> np.ndarray:
        self._pending = np.concatenate([self._pending, block.astype(np.float32)])
        frames = len(self._pending) // FRAME
        if frames:
            cleaned = [self._ns.process(self._pending[i * FRAME:(i + 1) * FRAME]) for i in range(frames)]
            self._ready = np.concatenate([self._ready, *cleaned])
            self._pending = self._pending[frames * FRAME:]
        out, self._ready = self._ready[:BLOCK], self._ready[BLOCK:]
        return np.pad(out, (0, BLOCK - len(out)))


class SnrTracker:
    """Speech power (a slow average over sure-speech blocks) against the noise floor (a low
    percentile of recent sure-silence blocks, so a word's onset, quiet to the VAD, does not count)."""

    def __init__(self, smoothing: float = 0.02, history: int = 100) -> None:
        self.smoothing = smoothing
        self.speech = 0.0
        self._speech_blocks = 0
        self._quiet: deque = deque(maxlen=history)

    def update(self, block: np.ndarray, probability: float, in_turn: bool) -> None:
        power = float(np.mean(block.astype(np.float64) ** 2)) + 1e-12
        if probability > SURE_SPEECH:
            self._speech_blocks += 1  # a plain mean over the first blocks, then a slow moving average
            self.speech += max(self.smoothing, 1 / self._speech_blocks) * (power - self.speech)
        elif probability < SURE_SILENCE and not in_turn:
            self._quiet.append(power)

    @property
    def noise(self) -> float:
        return float(np.percentile(self._quiet, 20)) if self._quiet else 0.0

    @property
    def db(self) -> float:
        noise = self.noise
        if self.speech == 0.0 or noise == 0.0:
            return math.inf
        return 10 * math.log10(max(self.speech - noise, 1e-12) / noise)
