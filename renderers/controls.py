"""The rig's controls: how each one moves the face's landmarks at full weight.

Each control gives a motion per landmark, and optionally extra hand-placed sites (points that are
not landmarks, such as the skin above an eyelid) with their own motion. The rig turns each into a
dense warp field once; a frame blends the fields by the controls' weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import cv2
import numpy as np

from assistant.config import FaceReach
from renderers import landmarks as lm

IRIS_START = 468  # landmarks from here on are the irises
Sites = tuple[np.ndarray, np.ndarray]  # (points, their motion)


@dataclass
class Motion:
    landmarks: np.ndarray  # (478, 2) how each landmark moves at full weight
    sites: Optional[Sites] = None  # extra points and their motion
    clearance: float = 0.0  # still landmarks closer than this to the sites give way to them
    with_irises: bool = False  # irises take part (gaze); otherwise they follow the warp around them
    seam: Optional[np.ndarray] = None  # (n, 2) where a closed gap's two sides meet (lips, lids), by x


def mouth_frame(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Lip landmarks, the mouth centre and the mouth's half width."""
    lips = np.array(sorted(set(lm.UPPER_LIP_OUTER + lm.LOWER_LIP_OUTER + lm.UPPER_LIP_INNER + lm.LOWER_LIP_INNER)))
    left, right = points[61], points[291]
    return lips, (left + right) / 2, float(abs(right[0] - left[0]) / 2)


def jaw(points: np.ndarray, width: float, reach: FaceReach) -> Motion:
    """The upper lip lifts a little; the lower lip and everything below the line through the mouth
    corners drops with the jaw, less towards the sides of the face. Points above that line anchor
    the warp. Just above the lower lip, what shows (teeth in a smiling photo) stays with the upper jaw."""
    opening = reach.jaw * width
    motion = np.zeros_like(points)
    outer = np.vstack([points[lm.UPPER_LIP_OUTER], points[lm.LOWER_LIP_OUTER][::-1][1:-1]])
    upper_inner = points[lm.UPPER_LIP_INNER]
    order = np.argsort(upper_inner[:, 0])
    left, right = points[61], points[291]
    center_x, half_width = (left[0] + right[0]) / 2, abs(right[0] - left[0]) / 2
    for i, (x, y) in enumerate(points[:IRIS_START]):
        inside = cv2.pointPolygonTest(outer, (float(x), float(y)), False) >= 0
        corner_line = left[1] + (right[1] - left[1]) * (x - left[0]) / max(right[0] - left[0], 1e-6)
        if inside and y <= np.interp(x, upper_inner[order, 0], upper_inner[order, 1]) + 0.5:
            motion[i, 1] = -0.12 * opening
        elif inside or y > corner_line + 0.5:
            lateral = np.clip(1.0 - ((x - center_x) / (1.6 * half_width)) ** 2, 0.25, 1.0)
            motion[i, 1] = opening * lateral
    teeth = points[lm.LOWER_LIP_INNER[1:-1]] - np.float32([0, 1.5])
    return Motion(motion, (teeth, np.repeat(motion[lm.UPPER_LIP_INNER[5:6]], len(teeth), axis=0)))


def lip_round(points: np.ndarray, width: float, reach: FaceReach) -> Motion:
    """"oo": every lip point drawn towards the mouth's centre line (corners most), pushed a little
    forward, which a front view shows as fuller lips."""
    return Motion(_lips_scaled(points, -reach.lip_round, -0.1 * reach.lip_round))


def lip_spread(points: np.ndarray, width: float, reach: FaceReach) -> Motion:
    """"ee": the lips stretch sideways and thin."""
    return Motion(_lips_scaled(points, reach.lip_spread, -0.1 * reach.lip_spread))


def _lips_scaled(points: np.ndarray, across: float, up_down: float) -> np.ndarray:
    motion = np.zeros_like(points)
    lips, centre, _ = mouth_frame(points)
    offset = points[lips] - centre
    motion[lips, 0] = across * offset[:, 0]
    motion[lips, 1] = up_down * offset[:, 1]
    return motion


def lip_press(points: np.ndarray, width: float, reach: FaceReach) -> Motion:
    """p, b, m: the lips meet on their middle line (a smiling photo's parted lips close too) and
    thin a little as they press."""
    xs, upper, lower = _between(points, lm.UPPER_LIP_INNER, lm.LOWER_LIP_INNER)
    middle = (upper + lower) / 2
    sites = np.concatenate([np.stack([xs, upper], 1), np.stack([xs, lower], 1)]).astype(np.float32)
    moves = np.zeros_like(sites)
    moves[:len(xs), 1] = middle - 0.5 - upper
    moves[len(xs):, 1] = middle + 0.5 - lower
    motion = np.zeros_like(points)
    for outer, inner in ((lm.UPPER_LIP_OUTER[1:-1], lm.UPPER_LIP_INNER[1:-1]),
                         (lm.LOWER_LIP_OUTER[1:-1], lm.LOWER_LIP_INNER[1:-1])):
        closing = np.interp(points[inner, 0], xs, middle) - points[inner, 1]
        motion[inner, 1] = closing
        motion[outer, 1] = 0.5 * closing - 0.12 * (points[outer, 1] - points[inner, 1])  # pressed lips look thinner
    return Motion(motion, (sites, moves), clearance=0.01 * width, seam=np.stack([xs, middle], 1))


def lip_tuck(points: np.ndarray, width: float, reach: FaceReach) -> Motion:
    """f, v: the lower lip rises under the upper teeth (in a photo showing teeth, just up to their
    edge); the upper lip lifts a little to show them."""
    xs, upper, lower = _between(points, lm.UPPER_LIP_INNER, lm.LOWER_LIP_INNER)
    upper_thick = np.median(points[lm.UPPER_LIP_INNER[1:-1], 1] - points[lm.UPPER_LIP_OUTER[1:-1], 1])
    lower_thick = np.median(points[lm.LOWER_LIP_OUTER[1:-1], 1] - points[lm.LOWER_LIP_INNER[1:-1], 1])
    lift = 0.25 * upper_thick
    edge = upper + np.maximum(0.1 * lower_thick, 0.45 * (lower - upper))  # where the upper teeth end
    sites = np.concatenate([np.stack([xs, upper], 1), np.stack([xs, lower], 1)]).astype(np.float32)
    moves = np.zeros_like(sites)
    moves[:len(xs), 1] = -lift
    moves[len(xs):, 1] = edge - lower
    motion = np.zeros_like(points)
    motion[lm.UPPER_LIP_OUTER[1:-1], 1] = -0.4 * lift
    rise = np.interp(points[lm.LOWER_LIP_OUTER[1:-1], 0], xs, edge - lower)
    motion[lm.LOWER_LIP_OUTER[1:-1], 1] = rise - 0.35 * lower_thick  # the lip rolls in: it looks thinner
    motion[lm.UPPER_LIP_INNER[1:-1], 1] = -lift
    motion[lm.LOWER_LIP_INNER[1:-1], 1] = np.interp(points[lm.LOWER_LIP_INNER[1:-1], 0], xs, edge - lower)
    return Motion(motion, (sites, moves), clearance=0.01 * width)


def _between(points: np.ndarray, upper: list[int], lower: list[int], count: int = 21) -> tuple[np.ndarray, ...]:
    """An upper and a lower contour (sharing their end points) sampled at the same x positions:
    sites facing each other, so a gap closes evenly instead of in a zigzag."""
    xs = np.linspace(points[upper[0], 0], points[upper[-1], 0], count)[1:-1]
    def line(indices: list[int]) -> np.ndarray:
        order = np.argsort(points[indices, 0])
        return np.interp(xs, points[indices, 0][order], points[indices, 1][order])
    return xs, line(upper), line(lower)


def smile(points: np.ndarray, width: float, reach: FaceReach) -> Motion:
    """The corners go up and out, the lips and cheeks near them follow (less with distance).
    A negative weight is a frown."""
    lift = reach.smile * width
    motion = np.zeros_like(points)
    _, centre, half = mouth_frame(points)
    face = np.arange(IRIS_START)
    for corner in (61, 291):
        side = np.sign(points[corner, 0] - centre[0])
        weight = _falloff(points[face], points[corner:corner + 1], 0.8 * half)
        weight[points[face, 1] < points[corner, 1] - 1.2 * half] = 0  # eyes and brows stay
        motion[face, 0] += side * 0.6 * lift * weight
        motion[face, 1] -= lift * weight
    return Motion(motion)


def brow_raise(points: np.ndarray, width: float, reach: FaceReach) -> Motion:
    """Both brows and the forehead just above them go up; the lids stay, the skin between stretches."""
    return Motion(_brow_motion(points, width, lambda share: (0.0, -reach.brow_raise * width)))


def brow_furrow(points: np.ndarray, width: float, reach: FaceReach) -> Motion:
    """The inner ends of the brows come down and together (anger, concentration); a negative weight
    lifts them and draws them apart (sadness, worry)."""
    def pull(inner_share: float) -> tuple[float, float]:
        return (inner_share * 0.5 * reach.brow_furrow * width, inner_share * reach.brow_furrow * width)
    return Motion(_brow_motion(points, width, pull))


def _brow_motion(points: np.ndarray, width: float, move: Callable[[float], tuple[float, float]]) -> np.ndarray:
    """Each brow point moves by move(share) (share 1 at the brow's inner end, 0 at its outer end;
    x towards the nose); the skin around follows its nearest brow point less with distance, the
    eyelids not at all."""
    nose_x = points[168, 0]
    brows, moves = [], []
    for brow in (lm.RIGHT_BROW, lm.LEFT_BROW):  # each listed outer to inner
        inward = np.sign(nose_x - points[brow, 0].mean())
        for index, share in zip(brow, np.linspace(0.0, 1.0, len(brow))):
            dx, dy = move(share)
            brows.append(index)
            moves.append((inward * dx, dy))
    distance = np.linalg.norm(points[:IRIS_START, None] - points[brows][None], axis=2)
    weight = np.exp(-(distance.min(axis=1) / (0.06 * width)) ** 2)
    weight[lm.RIGHT_EYE_UPPER + lm.RIGHT_EYE_LOWER + lm.LEFT_EYE_UPPER + lm.LEFT_EYE_LOWER] = 0.0
    motion = np.zeros_like(points)
    motion[:IRIS_START] = np.float32(moves)[distance.argmin(axis=1)] * weight[:, None]
    return motion


EYE_CORNERS = {"right": (33, 133), "left": (263, 362)}
EYELIDS = {"right": (lm.RIGHT_EYE_UPPER, lm.RIGHT_EYE_LOWER), "left": (lm.LEFT_EYE_UPPER, lm.LEFT_EYE_LOWER)}


def eyelids(points: np.ndarray, eye: str, count: int = 17) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x positions across one eye and its upper and lower lid's y there."""
    upper, lower = EYELIDS[eye]
    outer, inner = EYE_CORNERS[eye]
    return _between(points, [outer, *upper, inner], [outer, *lower, inner], count)


def blink(points: np.ndarray, width: float, reach: FaceReach, eye: str) -> Motion:
    """One eye closed: the upper lid comes down onto the lower lid and the skin above it follows,
    less and less; the lower lid stays."""
    xs, top, bottom = eyelids(points, eye)
    gap = np.maximum(bottom - top, 0.0)
    sites, moves = [], []
    for lift, share in ((0.0, 1.0), (0.4, 0.6), (0.9, 0.2), (1.6, 0.0)):  # the skin above follows less; the brow stays
        sites.append(np.stack([xs, top - lift * gap], 1))
        moves.append(np.stack([np.zeros_like(xs), share * gap - (0.5 if lift == 0 else 0.0)], 1))
    sites.append(np.stack([xs, bottom + 0.5], 1))  # the lower lid stays
    moves.append(np.zeros((len(xs), 2)))
    return Motion(np.zeros_like(points), (np.vstack(sites).astype(np.float32), np.vstack(moves).astype(np.float32)),
                  clearance=0.035 * width, seam=np.stack([xs, bottom], 1))


def squint(points: np.ndarray, width: float, reach: FaceReach) -> Motion:
    """Both lower lids rise (a real smile narrows the eyes from below); the upper lids drop a little."""
    motion = np.zeros_like(points)
    for upper, lower in EYELIDS.values():
        gap = np.maximum(points[lower, 1] - points[upper, 1], 0.0)
        motion[lower, 1] = -reach.squint * gap
        motion[upper, 1] = 0.15 * reach.squint * gap
    return Motion(motion)


def head_turn(points: np.ndarray, width: float, reach: FaceReach, axis: int) -> Motion:
    """A small turn (axis 0: yaw, 1: pitch) seen from the front: the middle of the face (nose most)
    moves, the outline much less, so the face appears to rotate rather than slide."""
    motion = np.zeros_like(points)
    centre = points[lm.NOSE].mean(axis=0)
    half = width / 2
    distance = np.linalg.norm(points - centre, axis=1) / half
    motion[:, axis] = reach.head_turn * width * np.clip(1.0 - 0.75 * distance ** 2, 0.2, 1.0)
    motion[lm.FACE_OVAL, axis] *= 0.5
    return Motion(motion, with_irises=True)


def gaze(points: np.ndarray, width: float, reach: FaceReach, axis: int) -> Motion:
    """Both irises move inside still lids (axis 0: looking to the image's right, 1: down)."""
    motion = np.zeros_like(points)
    iris = points[IRIS_START:]
    iris_width = float(np.ptp(iris[:5, 0]) + np.ptp(iris[5:, 0])) / 2
    motion[IRIS_START:, axis] = reach.gaze * iris_width
    return Motion(motion, with_irises=True)


def _falloff(points: np.ndarray, anchors: np.ndarray, radius: float) -> np.ndarray:
    """exp(-(d/radius)^2) with d each point's distance to the nearest anchor."""
    distance = np.min(np.linalg.norm(points[:, None] - anchors[None], axis=2), axis=1)
    return np.exp(-(distance / radius) ** 2)


def all_motions(points: np.ndarray, width: float, reach: FaceReach) -> dict[str, Motion]:
    """Every control's motion, by the control's name (the names `face.expressions` uses)."""
    return {
        "jaw": jaw(points, width, reach), "lip_round": lip_round(points, width, reach),
        "lip_spread": lip_spread(points, width, reach), "lip_press": lip_press(points, width, reach),
        "lip_tuck": lip_tuck(points, width, reach), "smile": smile(points, width, reach),
        "brow_raise": brow_raise(points, width, reach), "brow_furrow": brow_furrow(points, width, reach),
        "blink_left": blink(points, width, reach, "left"), "blink_right": blink(points, width, reach, "right"),
        "squint": squint(points, width, reach),
        "yaw": head_turn(points, width, reach, 0), "pitch": head_turn(points, width, reach, 1),
        "gaze_x": gaze(points, width, reach, 0), "gaze_y": gaze(points, width, reach, 1),
    }


CONTROLS = ("jaw", "lip_round", "lip_spread", "lip_press", "lip_tuck", "smile", "brow_raise", "brow_furrow",
            "blink_left", "blink_right", "squint", "yaw", "pitch", "gaze_x", "gaze_y")
# What an emotion may move (config face.expressions); speech drives the mouth, idle life the rest.
EXPRESSION_CONTROLS = ("smile", "squint", "brow_raise", "brow_furrow", "lip_round", "lip_spread", "yaw", "pitch",
                       "gaze_x", "gaze_y")
