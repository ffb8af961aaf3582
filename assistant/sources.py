"""Audio sources. For now: a recorded file, decoded and resampled to 16 kHz mono."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant.errors import DoppelError
from assistant.messages import AudioClip

ASR_SAMPLE_RATE = 16000


def read_audio_file(path: Path, sample_rate: int = ASR_SAMPLE_RATE) -> AudioClip:
    """Decode any audio file ffmpeg/PyAV can read (WAV, FLAC, MP3, OGG, any rate or channels)."""
    from faster_whisper import decode_audio

    path = Path(path)
    if not path.is_file():
        raise DoppelError(f"audio file not found: {path}; pass a recording that exists")
    try:
        samples = decode_audio(str(path), sampling_rate=sample_rate)
    except Exception as exc:  # PyAV raises many types for undecodable input
        raise DoppelError(f"cannot read audio file {path} ({type(exc).__name__}); use a WAV, FLAC, MP3 or OGG recording") from None
    if samples.size == 0:
        raise DoppelError(f"audio file {path} holds no sound; record the question again")
    return AudioClip(np.asarray(samples, dtype=np.float32), sample_rate)
