"""Doppel's voice reaching the microphone: the reply through a room response, at a set level."""

from __future__ import annotations

import numpy as np

SR = 16000


def room_response(seconds: float = 0.25, decay: float = 0.05, seed: int = 0) -> np.ndarray:
    """Exponentially decaying noise: a small room's reverberant tail (RT60 ≈ 0.35 s)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    ir = rng.normal(0, 1, n) * np.exp(-np.arange(n) / (decay * SR))
    ir[0] += 3.0  # the direct path
    return ir / np.sqrt(np.sum(ir ** 2))


def mix(reply: np.ndarray, user: np.ndarray | None, echo_db: float, onset: float, delay: float = 0.04,
        noise: float = 0.002, seed: int = 0) -> np.ndarray:
    """Microphone signal: echo of `reply` `echo_db` above the person's speech level, room noise,
    and the person speaking from `onset` seconds (if `user` is given)."""
    reference_level = np.sqrt(np.mean(user[np.abs(user) > 0.01] ** 2)) if user is not None else 0.1
    echo = np.convolve(np.concatenate([np.zeros(int(delay * SR)), reply]), room_response(seed=seed))[:len(reply)]
    echo *= 10 ** (echo_db / 20) * reference_level / np.sqrt(np.mean(echo[np.abs(echo) > 0.01] ** 2))
    mic = echo + np.random.default_rng(seed).normal(0, noise, len(echo))
    if user is not None:
        i = int(onset * SR)
        mic[i:i + len(user)] += user[:len(mic) - i]
    return mic.astype(np.float32)
