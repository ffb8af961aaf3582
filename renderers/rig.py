"""Face rig: the portrait cropped around the face, its landmarks, and precomputed warp fields.

Each motion (jaw open, blink) is a dense backward displacement field computed once from the
landmarks; a frame blends the fields by their weights and applies one cv2.remap.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import cv2
import numpy as np
from scipy.interpolate import griddata

from assistant.config import FaceConfig
from renderers import landmarks as lm
from renderers.portrait import prepare_portrait

IRIS_START = 468  # landmarks from here on are the irises
RIG_FORMAT = 2  # bump when the rig's computation changes, so cached rigs are rebuilt


@dataclass
class FaceRig:
    image: np.ndarray  # size x size RGB uint8, the neutral face
    points: np.ndarray  # (478, 2) landmarks on `image`
    jaw_field: np.ndarray  # (size, size, 2) backward offsets at full mouth opening
    blink_field: np.ndarray  # (size, size, 2) backward offsets with eyes closed
    jaw_motion: np.ndarray  # (478, 2) how each landmark moves at full opening
    round_field: np.ndarray  # (size, size, 2) lips rounded ("oo", "w")
    round_motion: np.ndarray  # (478, 2)
    smile_field: np.ndarray  # (size, size, 2) mouth corners up and out (negative weight: a frown)
    smile_motion: np.ndarray  # (478, 2)
    face_width: float
    pivot: tuple[float, float]  # where the head turns (below the chin)
    notes: list[str] = field(default_factory=list)  # what preparing the photo did (for the user)


def build_rig(portrait: Path, config: FaceConfig, cache: Optional[Path] = None) -> FaceRig:
    """The rig for a portrait; with `cache` (a folder), built once per photo and face settings."""
    stored = cache / f"rig-{_cache_key(portrait, config)}.npz" if cache is not None else None
    if stored is not None and stored.is_file():
        try:
            return _load(stored)
        except (OSError, ValueError, KeyError):
            pass  # an unreadable cache is rebuilt
    prepared = prepare_portrait(portrait)
    with lm.FaceMesh() as mesh:
        image, points = _crop(prepared.image, prepared.points, config)
        image = _even_lighting(image, config.clahe_clip)
        refined = mesh.find(image)
    if refined is not None:
        points = refined
    face_width = float(np.ptp(points[lm.FACE_OVAL, 0]))
    jaw_motion = _jaw_motion(points, config.mouth_open_px * face_width)
    round_motion = _round_motion(points, config.lip_round)
    smile_motion = _smile_motion(points, config.smile_px * face_width)
    size = image.shape[0]
    chin = points[152]
    rig = FaceRig(
        image=image,
        points=points,
        jaw_field=_backward_field(points, jaw_motion, size, face_width, _teeth_sites(points, jaw_motion)),
        blink_field=_backward_field(points, np.zeros_like(points), size, face_width, _blink_sites(points),
                                    clearance=0.035 * face_width),
        jaw_motion=jaw_motion,
        round_field=_backward_field(points, round_motion, size, face_width),
        round_motion=round_motion,
        smile_field=_backward_field(points, smile_motion, size, face_width),
        smile_motion=smile_motion,
        face_width=face_width,
        pivot=(float(chin[0]), float(min(size - 1, chin[1] + 0.35 * face_width))),
        notes=prepared.notes,
    )
    if stored is not None:
        _save(rig, stored)
    return rig


def _cache_key(portrait: Path, config: FaceConfig) -> str:
    digest = hashlib.sha256(Path(portrait).read_bytes() if Path(portrait).is_file() else b"")
    digest.update(repr((RIG_FORMAT, config.size, config.face_fraction, config.mouth_open_px, config.lip_round, config.smile_px,
                        config.clahe_clip)).encode())
    return digest.hexdigest()[:16]


def _save(rig: FaceRig, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.npz")
    arrays = {k: v for k, v in vars(rig).items() if isinstance(v, np.ndarray)}
    np.savez(tmp, face_width=rig.face_width, pivot=np.float32(rig.pivot), notes=np.array(rig.notes, dtype=str),
             **arrays)
    os.replace(tmp, path)


def _load(path: Path) -> FaceRig:
    with np.load(path) as data:
        values = {k: data[k] for k in data.files}
    scalars = {"face_width": float(values.pop("face_width")), "pivot": tuple(float(v) for v in values.pop("pivot")),
               "notes": [str(n) for n in values.pop("notes")]}
    return FaceRig(**values, **scalars)


def _even_lighting(rgb: np.ndarray, clip: float) -> np.ndarray:
    """CLAHE on lightness only, so a dim or side-lit photo reads clearly without shifting colours."""
    if clip <= 0:
        return rgb
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    lab[..., 0] = cv2.createCLAHE(clipLimit=clip, tileGridSize=(8, 8)).apply(lab[..., 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def _crop(rgb: np.ndarray, points: np.ndarray, config: FaceConfig) -> tuple[np.ndarray, np.ndarray]:
    """A square around the face, the face taking config.face_fraction of its width, scaled to config.size."""
    oval = points[lm.FACE_OVAL]
    width = float(np.ptp(oval[:, 0]))
    side = width / config.face_fraction
    cx = float(oval[:, 0].mean())
    cy = float((oval[:, 1].min() + oval[:, 1].max()) / 2)
    scale = config.size / side
    # maps the portrait onto the output square; the border is mirrored where the crop leaves the photo
    matrix = np.float32([[scale, 0, config.size / 2 - cx * scale], [0, scale, config.size / 2 - cy * scale]])
    image = cv2.warpAffine(rgb, matrix, (config.size, config.size), flags=cv2.INTER_CUBIC,
                           borderMode=cv2.BORDER_REFLECT101)
    moved = points @ matrix[:, :2].T + matrix[:, 2]
    return image, moved.astype(np.float32)


def _jaw_motion(points: np.ndarray, opening: float) -> np.ndarray:
    """Per-landmark displacement at full opening.

    The upper lip lifts a little; the lower lip and everything below the line through the
    mouth corners drops with the jaw, less towards the sides of the face. Points above that
    line stay put and anchor the warp.
    """
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
    return motion


def _mouth_region(points: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Lip landmarks, the mouth centre and the mouth's half width."""
    lips = np.array(sorted(set(lm.UPPER_LIP_OUTER + lm.LOWER_LIP_OUTER + lm.UPPER_LIP_INNER + lm.LOWER_LIP_INNER)))
    left, right = points[61], points[291]
    return lips, (left + right) / 2, float(abs(right[0] - left[0]) / 2)


def _round_motion(points: np.ndarray, share: float) -> np.ndarray:
    """Lips rounded: every lip point drawn towards the mouth's centre line by `share` of its distance
    (corners most), the lips pushed a little forward, which a front view shows as fuller."""
    motion = np.zeros_like(points)
    lips, centre, _ = _mouth_region(points)
    offset = points[lips] - centre
    motion[lips, 0] = -share * offset[:, 0]
    motion[lips, 1] = -0.25 * share * offset[:, 1]
    return motion


def _smile_motion(points: np.ndarray, lift: float) -> np.ndarray:
    """Smile: the corners go up and out, the lips and cheeks near them follow (less with distance)."""
    motion = np.zeros_like(points)
    lips, centre, half = _mouth_region(points)
    near = np.arange(IRIS_START)
    for corner in (61, 291):
        side = np.sign(points[corner, 0] - centre[0])
        distance = np.linalg.norm(points[near] - points[corner], axis=1)
        weight = np.exp(-(distance / (0.8 * half)) ** 2)
        weight[points[near, 1] < points[corner, 1] - 1.2 * half] = 0  # eyes and brows stay
        motion[near, 0] += side * 0.6 * lift * weight
        motion[near, 1] -= lift * weight
    return motion


def _teeth_sites(points: np.ndarray, motion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Just above the lower lip, what shows (teeth in a smiling photo) stays with the upper jaw."""
    lower = points[lm.LOWER_LIP_INNER[1:-1]]
    sites = lower - np.float32([0, 1.5])
    return sites, np.repeat(motion[lm.UPPER_LIP_INNER[5:6]], len(sites), axis=0)


def _blink_sites(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eyes closed: the upper lid and the skin just above it slide down onto the lower lid."""
    sites, motion = [], []
    for upper, lower in ((lm.RIGHT_EYE_UPPER, lm.RIGHT_EYE_LOWER), (lm.LEFT_EYE_UPPER, lm.LEFT_EYE_LOWER)):
        for u, l in zip(upper, lower):
            gap = max(0.0, float(points[l, 1] - points[u, 1]) - 1.0)
            for lift, share in ((0.0, 1.0), (0.5, 0.8), (1.2, 0.3)):  # the skin above follows less and less
                sites.append(points[u] - (0.0, lift * gap))
                motion.append((0.0, share * gap))
            sites.append(points[l])  # the lower lid stays
            motion.append((0.0, 0.0))
    return np.asarray(sites, np.float32), np.asarray(motion, np.float32)


def _backward_field(points: np.ndarray, motion: np.ndarray, size: int, face_width: float,
                    extra: tuple[np.ndarray, np.ndarray] | None = None, clearance: float = 0.0) -> np.ndarray:
    """Dense offsets: the output pixel at p shows the neutral image at p + field(p).

    Known where landmarks land (p = point + motion, offset = -motion); zero on the still
    landmarks and on a frame around the face; linear in between, then softened.
    """
    ring = _ring(points, face_width, size)
    points, motion = points[:IRIS_START], motion[:IRIS_START]  # irises move with the eyes, not the face
    moving = np.linalg.norm(motion, axis=1) > 0
    still = points[~moving]
    if extra is not None:
        # landmarks near the hand-placed sites would pin what those sites move; they give way
        if clearance > 0:
            near = np.min(np.linalg.norm(still[:, None] - extra[0][None], axis=2), axis=1) < clearance
            still = still[~near]
        still = np.vstack([extra[0][np.linalg.norm(extra[1], axis=1) == 0], still])
        points = np.vstack([extra[0], points[moving]])
        motion = np.vstack([extra[1], motion[moving]])
        moving = np.linalg.norm(motion, axis=1) > 0
    targets = points + motion
    sites = np.vstack([targets[moving], still, ring])
    values = np.vstack([-motion[moving], np.zeros((len(still) + len(ring), 2), np.float32)])
    sites, keep = np.unique(np.round(sites, 1), axis=0, return_index=True)
    values = values[keep]
    grid_y, grid_x = np.mgrid[0:size, 0:size].astype(np.float32)
    field = np.zeros((size, size, 2), np.float32)
    for axis in range(2):
        field[..., axis] = griddata(sites, values[:, axis], (grid_x, grid_y), method="linear", fill_value=0.0)
    sigma = max(1.0, face_width * 0.006)
    return cv2.GaussianBlur(field, (0, 0), sigma)


def _ring(points: np.ndarray, face_width: float, size: int) -> np.ndarray:
    """Fixed points around the face (and the image border) that keep the warp local."""
    center = points[lm.FACE_OVAL].mean(axis=0)
    angles = np.linspace(0, 2 * np.pi, 32, endpoint=False)
    circle = center + 0.85 * face_width * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    edge = np.linspace(0, size - 1, 9)
    border = np.array([(x, y) for x in edge for y in (0, size - 1)] + [(x, y) for y in edge for x in (0, size - 1)])
    return np.vstack([circle, border]).astype(np.float32)
