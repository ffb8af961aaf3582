"""Audio sources behind one interface: blocks of 16 kHz mono float32 samples, 512 at a time.

The microphone (sounddevice/PortAudio) and a file (any format PyAV reads, resampled as it is
decoded, so a 2-hour file streams in bounded memory) feed the same listener code path.
"""

from __future__ import annotations

import queue
import time
from pathlib import Path
from typing import Iterator, Optional, Protocol, Union

import numpy as np

from assistant.config import AudioConfig
from assistant.errors import DoppelError
from assistant.messages import AudioClip
from assistant.vad import BLOCK, SAMPLE_RATE

ASR_SAMPLE_RATE = SAMPLE_RATE


class AudioSource(Protocol):
    name: str

    def blocks(self) -> Iterator[np.ndarray]:
        """512-sample float32 blocks until the source ends (a file) or is closed (a microphone)."""

    def close(self) -> None: ...


def read_audio_file(path: Path, sample_rate: int = ASR_SAMPLE_RATE) -> AudioClip:
    """A whole (short) recording at once, mono at `sample_rate`: a question for `chat --input`."""
    blocks = list(FileSource(path, rate=sample_rate).blocks())
    if not blocks:
        raise DoppelError(f"audio file {path} holds no sound; record the question again")
    return AudioClip(np.concatenate(blocks), sample_rate)


class FileSource:
    """Decodes as it goes; `realtime` paces blocks like a microphone would."""

    def __init__(self, path: Path, realtime: bool = False, rate: int = SAMPLE_RATE) -> None:
        self.path = Path(path)
        self.realtime = realtime
        self.rate = rate
        self.name = f"file {self.path.name}"
        if not self.path.is_file():
            raise DoppelError(f"audio file not found: {self.path}; pass a recording that exists")

    def duration(self) -> float:
        """Seconds, from the container's header (0 when it does not say)."""
        import av

        try:
            with av.open(str(self.path)) as container:
                return float(container.duration or 0) / 1_000_000
        except av.error.FFmpegError:
            return 0.0

    def blocks(self) -> Iterator[np.ndarray]:
        pending = np.zeros(0, np.float32)
        started = time.monotonic()
        sent = 0
        for samples in self._decoded():
            pending = np.concatenate([pending, samples])
            while len(pending) >= BLOCK:
                block, pending = pending[:BLOCK], pending[BLOCK:]
                if self.realtime:
                    time.sleep(max(0.0, started + sent * BLOCK / self.rate - time.monotonic()))
                sent += 1
                yield block
        if len(pending):
            yield np.pad(pending, (0, BLOCK - len(pending)))

    def _decoded(self) -> Iterator[np.ndarray]:
        import av

        try:
            container = av.open(str(self.path))
            stream = next(s for s in container.streams if s.type == "audio")
        except (av.error.FFmpegError, StopIteration, UnicodeDecodeError, ValueError) as exc:
            raise DoppelError(f"cannot read audio file {self.path} ({type(exc).__name__}); "
                              "use a WAV, FLAC, MP3 or OGG recording") from None
        resampler = av.AudioResampler(format="flt", layout="mono", rate=self.rate)
        with container:
            try:
                for frame in container.decode(stream):
                    for out in resampler.resample(frame):
                        yield out.to_ndarray().reshape(-1).astype(np.float32)
                for out in resampler.resample(None):
                    yield out.to_ndarray().reshape(-1).astype(np.float32)
            except av.error.FFmpegError as exc:
                raise DoppelError(f"audio file {self.path} is damaged ({exc}); re-export it") from None

    def close(self) -> None:
        pass


def list_devices() -> list[dict]:
    """Every PortAudio device: index, name, input and output channels, default rate."""
    try:
        import sounddevice as sd

        devices = sd.query_devices()
    except OSError:
        raise DoppelError("PortAudio is missing: install the Debian package libportaudio2") from None
    return [{"index": d["index"], "name": d["name"], "inputs": d["max_input_channels"],
             "outputs": d["max_output_channels"], "default_rate": d["default_samplerate"]} for d in devices]


def _describe(devices: list[dict], kind: str) -> str:
    found = [f"{d['index']}: {d['name']}" for d in devices if d[kind] > 0]
    return "; ".join(found) if found else "none"


def find_device(wanted: Optional[Union[int, str]], kind: str) -> int:
    """The device index for config audio.input_device/output_device (index, part of a name, or default)."""
    import sounddevice as sd

    devices = list_devices()
    usable = [d for d in devices if d[kind] > 0]
    key = "audio.input_device" if kind == "inputs" else "audio.output_device"
    if not usable:
        what = "microphone" if kind == "inputs" else "sound output"
        raise DoppelError(f"no {what} found (devices: {_describe(devices, 'inputs' if kind == 'inputs' else 'outputs')}); "
                          "connect one, or use the text modes: doppel say / doppel chat --input FILE")
    if wanted is None:
        default = sd.default.device[0 if kind == "inputs" else 1]
        return default if any(d["index"] == default for d in usable) else usable[0]["index"]
    for d in usable:
        if d["index"] == wanted or (isinstance(wanted, str) and wanted.lower() in d["name"].lower()):
            return d["index"]
    raise DoppelError(f"{key} {wanted!r} matches no device; choose one of: {_describe(devices, kind)}")


class MicrophoneSource:
    """A 16 kHz mono callback stream into a bounded ring buffer; reconnects if the device stalls."""

    def __init__(self, config: AudioConfig) -> None:
        self.config = config
        import sounddevice as sd

        self.device = find_device(config.input_device, "inputs")
        self.name = f"microphone {self.device} ({sd.query_devices(self.device)['name']})"
        self._ring: queue.Queue[np.ndarray] = queue.Queue(max(1, int(config.buffer_seconds * SAMPLE_RATE / BLOCK)))
        self._stream = None
        self._closed = False
        self.dropped_blocks = 0

    def _callback(self, indata: np.ndarray, frames: int, _time, _status) -> None:
        block = indata[:, 0].copy()
        try:
            self._ring.put_nowait(block)
        except queue.Full:  # processing fell behind: keep the newest audio
            self.dropped_blocks += 1
            try:
                self._ring.get_nowait()
            except queue.Empty:
                pass
            self._ring.put_nowait(block)

    def _open(self) -> None:
        import sounddevice as sd

        self._stream = sd.InputStream(device=self.device, samplerate=SAMPLE_RATE, channels=1, dtype="float32",
                                      blocksize=BLOCK, callback=self._callback)
        self._stream.start()

    def blocks(self) -> Iterator[np.ndarray]:
        attempts = 0
        self._open_or_explain()
        while not self._closed:
            try:
                yield self._ring.get(timeout=self.config.stall_seconds)
                attempts = 0
            except queue.Empty:
                if self._closed:
                    return
                attempts += 1
                if attempts > self.config.reconnect_attempts:
                    raise DoppelError(f"the microphone ({self.name}) stopped sending audio and did not come back; "
                                      "check it is connected, then start again")
                self._reopen()

    def _open_or_explain(self) -> None:
        try:
            self._open()
        except Exception as exc:  # PortAudioError and friends
            raise DoppelError(f"cannot open the microphone ({self.name}): {exc}; "
                              "pick another with audio.input_device (see doppel devices)") from None

    def _reopen(self) -> None:
        self._shutdown()
        try:
            self.device = find_device(self.config.input_device, "inputs")
            self._open()
        except Exception:  # still gone: the caller counts the attempt and tries again later
            self._stream = None

    def _shutdown(self) -> None:
        if self._stream is not None:
            try:
                self._stream.abort()
                self._stream.close()
            except Exception:  # the device may already be gone
                pass
            self._stream = None

    def close(self) -> None:
        self._closed = True
        self._shutdown()
