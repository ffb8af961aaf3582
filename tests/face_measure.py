"""Measures of a rendered face, taken by MediaPipe's face mesh on the frame itself (shared by the
face tests and bench/face.py)."""

from __future__ import annotations

import cv2
import numpy as np
from skimage.metrics import structural_similarity

from renderers import landmarks as lm


def measures(p: np.ndarray) -> dict[str, float]:
    """Pixels: lip width and opening, corners above the lips' middle, brow height over the lids,
    inner brows' gap, each eye's opening, where each iris sits across its eye, the nose's offset."""
    lips_middle = (p[13, 1] + p[14, 1]) / 2

    def across(iris: int, outer: int, inner: int) -> float:  # 0 at the outer corner .. 1 at the inner one
        return float((p[iris, 0] - p[outer, 0]) / (p[inner, 0] - p[outer, 0]))

    oval = p[lm.FACE_OVAL]
    return {
        "width": float(np.linalg.norm(p[291] - p[61])),
        "open": float(p[14, 1] - p[13, 1]),
        "lower_lip": float(p[14, 1]),
        "corners_above": float(lips_middle - (p[61, 1] + p[291, 1]) / 2),
        "brow_height": float(((p[159, 1] - p[105, 1]) + (p[386, 1] - p[334, 1])) / 2),
        "inner_brow_height": float(((p[133, 1] - p[107, 1]) + (p[362, 1] - p[336, 1])) / 2),
        "inner_brow_gap": float(p[336, 0] - p[107, 0]),
        "eye_right": float(p[145, 1] - p[159, 1]),
        "eye_left": float(p[374, 1] - p[386, 1]),
        "iris_right": across(468, 33, 133),
        "iris_left": 1.0 - across(473, 362, 263),
        "nose_x": float(p[1, 0] - (oval[:, 0].min() + oval[:, 0].max()) / 2),
        "nose_y": float(p[1, 1] - (p[33, 1] + p[263, 1]) / 2),
    }


def identity_mask(points: np.ndarray, size: int) -> np.ndarray:
    """The face away from the mouth and the eyes: what must keep the person's look. The mouth's
    part runs from the lips, a little wider, down to the chin (the jaw moves it all); the eyes'
    part includes the brows."""
    face = np.zeros((size, size), np.uint8)
    cv2.fillConvexPoly(face, np.round(cv2.convexHull(points[lm.FACE_OVAL])).astype(np.int32), 1)
    width = float(np.ptp(points[lm.FACE_OVAL, 0]))
    mouth = lm.UPPER_LIP_OUTER + lm.LOWER_LIP_OUTER + lm.CHIN
    for feature, margin in ((mouth, 0.12), (lm.RIGHT_EYE_UPPER + lm.RIGHT_EYE_LOWER + lm.RIGHT_BROW, 0.05),
                            (lm.LEFT_EYE_UPPER + lm.LEFT_EYE_LOWER + lm.LEFT_BROW, 0.05)):
        x0, y0 = points[feature].min(axis=0) - margin * width
        x1, y1 = points[feature].max(axis=0) + margin * width
        face[max(0, int(y0)):int(y1) + 1, max(0, int(x0)):int(x1) + 1] = 0
    return face.astype(bool)


def identity_ssim(frame: np.ndarray, source: np.ndarray, points: np.ndarray) -> float:
    """SSIM of the frame to the prepared portrait, over the identity region only."""
    gray = [cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) for image in (frame, source)]
    _, full = structural_similarity(gray[0], gray[1], data_range=255, full=True)
    return float(full[identity_mask(points, frame.shape[0])].mean())


def envelope_per_frame(audio: np.ndarray, rate: int, fps: int, frames: int) -> np.ndarray:
    """RMS of the audio in a window of one frame centred on each frame's time."""
    hop = rate / fps
    return np.array([np.sqrt(np.mean(audio[max(0, int((i - 0.5) * hop)):max(1, int((i + 0.5) * hop))] ** 2))
                     for i in range(frames)])


def lag_correlations(opening: np.ndarray, envelope: np.ndarray, lags: tuple[int, ...] = (-1, 0, 1)) -> dict[int, float]:
    """Pearson r of the mouth opening with the envelope, the opening shifted by each lag (frames;
    positive: the mouth later than the sound)."""
    out = {}
    for lag in lags:
        a, b = (opening[lag:], envelope[:len(envelope) - lag]) if lag >= 0 else (opening[:lag], envelope[-lag:])
        out[lag] = float(np.corrcoef(a, b)[0, 1])
    return out
