"""Audio output: the one clock. The face shows the frame for the player's position."""

from __future__ import annotations

import threading
import time

import numpy as np

from assistant.messages import AudioClip


class ClockPlayer:
    """No sound device: time runs as if the audio were playing (headless, CI, no speakers)."""

    device = "none (silent clock)"

    def __init__(self) -> None:
        self._started = 0.0
        self._duration = 0.0

    def play(self, clip: AudioClip) -> None:
        self._duration = clip.duration
        self._started = time.monotonic()

    def position(self) -> float:
        return min(time.monotonic() - self._started, self._duration)

    def stop(self) -> None:
        self._duration = self.position()


class SoundDevicePlayer:
    """Plays through PortAudio; the position counts the samples the device has taken, less its latency."""

    def __init__(self) -> None:
        import sounddevice as sd

        self._sd = sd
        self._stream = None
        self._lock = threading.Lock()
        self._samples = np.zeros(0, np.float32)
        self._cursor = 0
        self._rate = 1
        self.device = str(sd.query_devices(kind="output")["name"])

    def play(self, clip: AudioClip) -> None:
        self.stop()
        self._samples, self._cursor, self._rate = clip.samples.astype(np.float32), 0, clip.sample_rate
        self._stream = self._sd.OutputStream(samplerate=clip.sample_rate, channels=1, dtype="float32",
                                             callback=self._fill)
        self._stream.start()

    def _fill(self, out: np.ndarray, frames: int, _time, _status) -> None:
        with self._lock:
            chunk = self._samples[self._cursor:self._cursor + frames]
            self._cursor += len(chunk)
        out[:len(chunk), 0] = chunk
        out[len(chunk):, 0] = 0.0

    def position(self) -> float:
        with self._lock:
            cursor = self._cursor
        latency = self._stream.latency if self._stream is not None else 0.0
        return max(0.0, min(cursor / self._rate - latency, len(self._samples) / self._rate))

    def stop(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None


def open_player() -> ClockPlayer | SoundDevicePlayer:
    """The sound card when PortAudio finds one, else the silent clock."""
    try:
        return SoundDevicePlayer()
    except Exception:  # no PortAudio library or no output device: play silently, keep the timing
        return ClockPlayer()
