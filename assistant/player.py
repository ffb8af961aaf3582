"""Audio output: the one clock.

The player counts the samples the output has taken; the face shows the frame for that position.
Audio is queued sentence by sentence as it is synthesized, and `stop()` drops everything at once
(barge-in). What was played is also kept, resampled to 16 kHz, as the echo canceller's far end.
Without a sound device a timer thread takes the audio at the same pace, so timing stays true.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Optional, Union

import numpy as np

from assistant.messages import AudioClip
from assistant.vad import SAMPLE_RATE as FAR_RATE

FAR_END_SECONDS = 1.0  # far-end audio the microphone side has not taken yet is dropped beyond this


class StreamPlayer:
    def __init__(self, sample_rate: int, device: Optional[Union[int, str]] = None, use_device: bool = True,
                 silent_clock: bool = True) -> None:
        """use_device: play on a sound device if one opens; otherwise (or without one) a silent
        clock thread takes the audio at the same pace, unless silent_clock is False: then the
        caller drives `fill` itself (a simulated sound card)."""
        self.sample_rate = sample_rate
        self._lock = threading.Lock()
        self._queue: deque[np.ndarray] = deque()
        self._played = 0  # samples since begin()
        self._queued = 0
        self._far: deque[np.ndarray] = deque()
        self._far_len = 0
        self._stream = None
        self._timer: Optional[threading.Thread] = None
        self._closed = False
        self.device = "none (silent clock)"
        if use_device:
            self._open_device(device)
        if self._stream is None and silent_clock:
            self._timer = threading.Thread(target=self._tick, daemon=True, name="silent-player")
            self._timer.start()

    def _open_device(self, device: Optional[Union[int, str]]) -> None:
        try:
            import sounddevice as sd

            from assistant.sources import find_device

            index = find_device(device, "outputs")
            self._stream = sd.OutputStream(device=index, samplerate=self.sample_rate, channels=1, dtype="float32",
                                           latency="low",  # barge-in must silence it fast
                                           callback=lambda out, frames, _t, _s: self.fill(out[:, 0]))
            self._stream.start()
            self.device = str(sd.query_devices(index)["name"])
        except Exception:  # no PortAudio or no output device: the silent clock keeps the timing
            self._stream = None

    def _tick(self) -> None:
        last = time.monotonic()
        while not self._closed:
            time.sleep(0.01)
            now = time.monotonic()
            frames = int((now - last) * self.sample_rate)
            if frames:
                last += frames / self.sample_rate
                self.fill(np.zeros(frames, np.float32))

    def fill(self, out: np.ndarray) -> None:
        """The sound device's callback: copy queued audio into `out`, silence after it."""
        filled = 0
        with self._lock:
            while filled < len(out) and self._queue:
                head = self._queue[0]
                take = min(len(head), len(out) - filled)
                out[filled:filled + take] = head[:take]
                filled += take
                if take == len(head):
                    self._queue.popleft()
                else:
                    self._queue[0] = head[take:]
            out[filled:] = 0.0
            self._played += filled
            self._queued -= filled
            if self._stream is not None:  # the silent clock makes no sound: nothing can echo
                self._keep_far_end(out.copy())

    def _keep_far_end(self, played: np.ndarray) -> None:
        n = int(round(len(played) * FAR_RATE / self.sample_rate))
        if n:
            self._far.append(np.interp(np.linspace(0, len(played) - 1, n), np.arange(len(played)), played)
                             .astype(np.float32))
            self._far_len += n
        while self._far_len > FAR_END_SECONDS * FAR_RATE:
            self._far_len -= len(self._far.popleft())

    def far_end(self, n: int) -> np.ndarray:
        """The next n samples (16 kHz) of what the speakers played; zeros if nothing was."""
        with self._lock:
            chunks, got = [], 0
            while got < n and self._far:
                head = self._far.popleft()
                take = min(len(head), n - got)
                chunks.append(head[:take])
                if take < len(head):
                    self._far.appendleft(head[take:])
                got += take
            self._far_len -= got
        out = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
        return np.pad(out, (0, n - len(out)))

    def begin(self) -> None:
        """A new reply starts: its clock starts at zero."""
        with self._lock:
            self._queue.clear()
            self._played = self._queued = 0

    def enqueue(self, samples: np.ndarray) -> None:
        with self._lock:
            self._queue.append(samples.astype(np.float32))
            self._queued += len(samples)

    def play(self, clip: AudioClip) -> None:
        self.begin()
        self.enqueue(clip.samples)

    def stop(self) -> float:
        """Drop all queued audio now; returns the position reached."""
        with self._lock:
            self._queue.clear()
            self._queued = 0
            return self._played / self.sample_rate

    @property
    def playing(self) -> bool:
        with self._lock:
            return self._queued > 0

    def position(self) -> float:
        with self._lock:
            played = self._played
        latency = self._stream.latency if self._stream is not None else 0.0
        return max(0.0, played / self.sample_rate - latency)

    def close(self) -> None:
        self._closed = True
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None
