"""Parallel data for voice conversion: the person's frames aligned with piper saying the same words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from assistant.conversion import Frames


def dtw(a: np.ndarray, b: np.ndarray) -> Optional[list[tuple[int, int]]]:
    """Align rows of a and b (Euclidean). Steps (1,1), (1,2), (2,1) keep the local tempo between
    half and double and let each row depend only on earlier rows, so a row is one numpy step.
    None when the lengths are too different for that slope (more than 2x)."""
    n, m = len(a), len(b)
    if n < 2 or m < 2 or n > 2 * m or m > 2 * n:
        return None
    cost = np.sqrt(np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T, 0))
    total = np.full((n, m), np.inf)
    step = np.zeros((n, m), np.int8)  # 0: diagonal, 1: (1,2), 2: (2,1)
    total[0, 0] = cost[0, 0]
    for i in range(1, n):
        diagonal = np.full(m, np.inf)
        diagonal[1:] = total[i - 1, :-1]
        skip_b = np.full(m, np.inf)
        skip_b[2:] = total[i - 1, :-2]
        skip_a = np.full(m, np.inf)
        if i >= 2:
            skip_a[1:] = total[i - 2, :-1]
        options = np.stack([diagonal, skip_b, skip_a])
        step[i] = np.argmin(options, axis=0)
        total[i] = cost[i] + options.min(axis=0)
    if not np.isfinite(total[-1, -1]):
        return None
    path, i, j = [], n - 1, m - 1
    while i > 0 or j > 0:
        path.append((i, j))
        move = step[i, j]
        i, j = (i - 1, j - 1) if move == 0 else (i - 1, j - 2) if move == 1 else (i - 2, j - 1)
        if i < 0 or j < 0:
            return None
    path.append((0, 0))
    return path[::-1]


def sounding(features: np.ndarray, quantile: float = 0.3) -> np.ndarray:
    """Frames louder than the quietest `quantile` (column 0 is log energy): silence is not aligned."""
    return features[:, 0] > np.quantile(features[:, 0], quantile)


@dataclass
class Pairs:
    """Aligned frame pairs: piper's features and log envelopes, the person's envelopes and aperiodicity."""

    source_features: np.ndarray
    source_envelopes: np.ndarray
    target_envelopes: np.ndarray
    target_aperiodicity: np.ndarray


def pair_frames(person: Frames, piper: Frames) -> Optional[Pairs]:
    piper_features, person_features = piper.features(), person.features()
    keep_a, keep_b = sounding(piper_features), sounding(person_features)
    source, target = piper_features[keep_a], person_features[keep_b]
    # align on the spectral shape, each voice's average removed (it is the difference we learn)
    path = dtw(source[:, 1:] - source[:, 1:].mean(0), target[:, 1:] - target[:, 1:].mean(0))
    if path is None:
        return None
    rows_a, rows_b = (np.array(index) for index in zip(*path))
    return Pairs(source[rows_a], piper.log_envelope[keep_a][rows_a], person.log_envelope[keep_b][rows_b],
                 person.aperiodicity[keep_b][rows_b])
