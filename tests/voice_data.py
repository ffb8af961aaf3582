"""Recordings for the voice tests, made from real speech (ALSA's speaker) and espeak-ng voices."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

ALSA = Path("/usr/share/sounds/alsa")
# One real female speaker; the first five clips are enrolled, the other three held out.
ENROLL_CLIPS = ["Front_Center", "Front_Left", "Front_Right", "Rear_Center", "Rear_Left"]
HELD_OUT_CLIPS = ["Rear_Right", "Side_Left", "Side_Right"]
RATE = 48_000


def alsa_clip(name: str) -> np.ndarray:
    samples, rate = sf.read(ALSA / f"{name}.wav")
    assert rate == RATE
    return samples


def joined(names: list[str], gap: float = 0.3) -> np.ndarray:
    silence = np.zeros(int(gap * RATE))
    return np.concatenate([part for name in names for part in (alsa_clip(name), silence)])


def espeak(text: str, voice: str, path: Path) -> np.ndarray:
    """espeak-ng speech at RATE (espeak writes 22.05 kHz)."""
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(raw), text], check=True)
    samples, rate = sf.read(raw)
    return resample_poly(samples, RATE, rate)


def write(path: Path, samples: np.ndarray, rate: int = RATE, subtype: str = "PCM_16") -> Path:
    sf.write(path, samples, rate, subtype=subtype)
    return path


def music(seconds: float = 8.0) -> np.ndarray:
    """Chords switching on and off: tonal and rhythmic, no speech."""
    t = np.arange(int(seconds * RATE)) / RATE
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6)) + 0.3 * np.sin(2 * np.pi * 110 * t)
    gate = 0.5 + 0.5 * np.sign(np.sin(2 * np.pi * 2 * t))
    out = chord * gate
    return 0.2 * out / np.abs(out).max()


def make_all(folder: Path) -> dict[str, Path]:
    """Every recording the tests use, by name."""
    folder.mkdir(parents=True, exist_ok=True)
    reference = joined(ENROLL_CLIPS)
    male = espeak("The quick brown fox jumps over the lazy dog while the farmer watches from the old fence.",
                  "en-us+m3", folder / "male")
    files = {
        "reference": write(folder / "reference.wav", reference),
        "held_out": write(folder / "held_out.wav", joined(HELD_OUT_CLIPS)),
        "one_second": write(folder / "one_second.wav", alsa_clip("Front_Center")),
        "silence": write(folder / "silence.wav", np.random.default_rng(0).normal(0, 1e-4, RATE * 5)),
        "music": write(folder / "music.wav", music()),
        "clipped": write(folder / "clipped.wav", np.clip(reference * 8, -1, 1)),
        "two_speakers": write(folder / "two_speakers.wav",
                              np.concatenate([reference, np.zeros(RATE // 3), 0.5 * male / np.abs(male).max()])),
        "german": write(folder / "german.wav", espeak(
            "Guten Morgen, ich heiße Anna und ich wohne seit vielen Jahren in einer kleinen Stadt am Rhein.",
            "de", folder / "german")),
        "impostor_consent": write(folder / "impostor_consent.wav", espeak(
            "I agree that Doppel may learn my voice and speak with it.", "en-us+m3", folder / "impostor")),
        # 8-bit, stereo, 44.1 kHz: must be accepted as it is
        "odd_format": write(folder / "odd_format.wav", np.stack([r := resample_poly(reference, 441, 480), r], 1),
                            44_100, "PCM_U8"),
    }
    corrupt = folder / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(range(256)) * 16)
    files["corrupt"] = corrupt
    return files
