"""Synthetic conversations of known text: utterances from piper and espeak-ng joined by pauses.

Short pauses inside a turn sit where a person hesitates mid-thought (after "and", "the", "um",
"to"...): they must not end the turn. Long pauses between turns must. Noise is added at a given
SNR (white noise over the whole signal, scaled against the speech power).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000

# Each turn: its pieces, spoken with `mid_pause` seconds between them.
TURNS = [
    ["I would like to go to the", "beach tomorrow morning."],
    ["What is the weather going to be like on Saturday?"],
    ["My sister and", "her husband are planning a trip to Spain."],
    ["Can you remind me to call the", "doctor at three o'clock?"],
    ["Tell me a joke about cats."],
    ["I was thinking about, um", "buying a new bicycle for my son."],
    ["Please play some music because", "it is too quiet in here."],
    ["Thank you very much."],
]


@dataclass
class Conversation:
    audio: np.ndarray
    turns: list[tuple[float, float, str]]  # start, end, text of each true turn


def _resample(x: np.ndarray, rate: int) -> np.ndarray:
    from scipy.signal import resample_poly

    g = np.gcd(rate, SAMPLE_RATE)
    return resample_poly(x, SAMPLE_RATE // g, rate // g).astype(np.float32)


def piper_say(text: str, voice) -> np.ndarray:
    """`voice` is a loaded PiperVoice; noise off so the same text always gives the same audio."""
    from piper.config import SynthesisConfig

    config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
    audio = np.concatenate([c.audio_float_array for c in voice.synthesize(text, config)])
    return _trim(_resample(audio, voice.config.sample_rate))


def espeak_say(text: str, voice: str = "en-us") -> np.ndarray:
    from assistant.sources import read_audio_file

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "say.wav"
        subprocess.run([shutil.which("espeak-ng"), "-v", voice, "-s", "155", "-w", str(wav), text], check=True)
        return _trim(read_audio_file(wav).samples)


def _trim(x: np.ndarray) -> np.ndarray:
    """Cut the synthesizer's own leading and trailing silence so pauses are exactly what we set."""
    loud = np.flatnonzero(np.abs(x) > 0.02 * np.abs(x).max())
    return x[max(0, loud[0] - 160):loud[-1] + 160] if len(loud) else x


def build(say, mid_pause: float = 0.6, gap: float = 2.0, snr_db: float | None = None, seed: int = 0) -> Conversation:
    pieces, turns, t = [np.zeros(int(0.5 * SAMPLE_RATE), np.float32)], [], 0.5
    for turn in TURNS:
        start = t
        for i, part in enumerate(turn):
            if i:
                pieces.append(np.zeros(int(mid_pause * SAMPLE_RATE), np.float32))
                t += mid_pause
            audio = say(part)
            pieces.append(audio)
            t += len(audio) / SAMPLE_RATE
        turns.append((start, t, " ".join(turn)))
        pieces.append(np.zeros(int(gap * SAMPLE_RATE), np.float32))
        t += gap
    audio = np.concatenate(pieces)
    audio = 0.5 * audio / np.abs(audio).max()
    if snr_db is not None:
        audio = add_noise(audio, snr_db, seed)
    return Conversation(audio.astype(np.float32), turns)


def add_noise(audio: np.ndarray, snr_db: float, seed: int = 0) -> np.ndarray:
    speech = audio[np.abs(audio) > 0.01]
    power = float(np.mean(speech ** 2))
    noise = np.random.default_rng(seed).normal(0, np.sqrt(power / 10 ** (snr_db / 10)), len(audio))
    return np.clip(audio + noise, -1, 1).astype(np.float32)
