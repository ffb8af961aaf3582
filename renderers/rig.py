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
from renderers import controls
from renderers import landmarks as lm
from renderers.portrait import prepare_portrait

RIG_FORMAT = 6  # bump when the rig's computation changes, so cached rigs are rebuilt
KEEP_RIGS = 3  # cached rigs kept per persona (the newest)


@dataclass
class FaceRig:
    image: np.ndarray  # size x size RGB uint8, the neutral face
    points: np.ndarray  # (478, 2) landmarks on `image`
    fields: dict[str, np.ndarray]  # per control: (size, size, 2) backward offsets at full weight
    motions: dict[str, np.ndarray]  # per control: (478, 2) how each landmark moves at full weight
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
    size = image.shape[0]
    motions = controls.all_motions(points, face_width, config.reach)
    chin = points[152]
    rig = FaceRig(
        image=image,
        points=points,
        fields={name: _backward_field(points, motion, size, face_width) for name, motion in motions.items()},
        motions={name: motion.landmarks for name, motion in motions.items()},
        face_width=face_width,
        pivot=(float(chin[0]), float(min(size - 1, chin[1] + 0.35 * face_width))),
        notes=prepared.notes,
    )
    if stored is not None:
        _save(rig, stored)
    return rig


def _cache_key(portrait: Path, config: FaceConfig) -> str:
    digest = hashlib.sha256(Path(portrait).read_bytes() if Path(portrait).is_file() else b"")
    digest.update(repr((RIG_FORMAT, config.size, config.face_fraction, config.reach, config.clahe_clip)).encode())
    return digest.hexdigest()[:16]


def _save(rig: FaceRig, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.npz")
    np.savez(tmp, image=rig.image, points=rig.points, face_width=rig.face_width, pivot=np.float32(rig.pivot),
             notes=np.array(rig.notes, dtype=str), **{f"field.{k}": v for k, v in rig.fields.items()},
             **{f"motion.{k}": v for k, v in rig.motions.items()})
    os.replace(tmp, path)
    # rigs for other settings or older formats pile up otherwise (one is ~10-120 MB)
    for stale in sorted(path.parent.glob("rig-*.npz"), key=lambda p: p.stat().st_mtime)[:-KEEP_RIGS]:
        stale.unlink(missing_ok=True)


def _load(path: Path) -> FaceRig:
    with np.load(path) as data:
        values = {k: data[k] for k in data.files}
    named = {kind: {k.split(".", 1)[1]: v for k, v in values.items() if k.startswith(f"{kind}.")}
             for kind in ("field", "motion")}
    if set(named["field"]) != set(controls.CONTROLS):
        raise KeyError("the cached rig has other controls")
    return FaceRig(image=values["image"], points=values["points"], fields=named["field"], motions=named["motion"],
                   face_width=float(values["face_width"]), pivot=tuple(float(v) for v in values["pivot"]),
                   notes=[str(n) for n in values["notes"]])


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


def _backward_field(points: np.ndarray, motion: controls.Motion, size: int, face_width: float) -> np.ndarray:
    """Dense offsets: the output pixel at p shows the neutral image at p + field(p).

    Known where landmarks land (p = point + motion, offset = -motion); zero on the still
    landmarks and on a frame around the face; linear in between, then softened. Where a gap
    closes (a seam), each side is interpolated from its own sites only, so the step from the upper
    to the lower lip (or lid) stays sharp instead of showing what was in the gap.
    """
    sites, values = _known_offsets(points, motion, size, face_width)
    sigma = max(1.0, face_width * 0.006)
    whole = _interpolate(sites, values, size, sigma)
    if motion.seam is None:
        return whole
    line = motion.seam
    grid_y, grid_x = np.mgrid[0:size, 0:size].astype(np.float32)
    across = (grid_x >= line[0, 0]) & (grid_x <= line[-1, 0])
    below_line = grid_y > np.interp(grid_x, line[:, 0], line[:, 1])
    spans = (sites[:, 0] >= line[0, 0]) & (sites[:, 0] <= line[-1, 0])
    site_below = sites[:, 1] > np.interp(sites[:, 0], line[:, 0], line[:, 1])
    upper = _interpolate(sites[~spans | ~site_below], values[~spans | ~site_below], size, sigma)
    lower = _interpolate(sites[~spans | site_below], values[~spans | site_below], size, sigma)
    return np.where((across & below_line)[..., None], lower, np.where(across[..., None], upper, whole))


def _known_offsets(points: np.ndarray, motion: controls.Motion, size: int,
                   face_width: float) -> tuple[np.ndarray, np.ndarray]:
    """Output positions where the offset is known, and the offsets there."""
    ring = _ring(points, face_width, size)
    count = len(points) if motion.with_irises else controls.IRIS_START  # irises otherwise follow the warp
    points, moves = points[:count], motion.landmarks[:count]
    moving = np.linalg.norm(moves, axis=1) > 0
    still = points[~moving]
    if motion.sites is not None:
        sites, site_moves = motion.sites
        if motion.clearance > 0:  # landmarks near the hand-placed sites would pin what those sites move
            near = np.min(np.linalg.norm(still[:, None] - sites[None], axis=2), axis=1) < motion.clearance
            still = still[~near]
        still = np.vstack([sites[np.linalg.norm(site_moves, axis=1) == 0], still])
        points = np.vstack([sites, points[moving]])
        moves = np.vstack([site_moves, moves[moving]])
        moving = np.linalg.norm(moves, axis=1) > 0
    targets = points + moves
    sites = np.vstack([targets[moving], still, ring])
    values = np.vstack([-moves[moving], np.zeros((len(still) + len(ring), 2), np.float32)])
    sites, keep = np.unique(np.round(sites, 1), axis=0, return_index=True)
    return sites, values[keep]


def _interpolate(sites: np.ndarray, values: np.ndarray, size: int, sigma: float) -> np.ndarray:
    grid_y, grid_x = np.mgrid[0:size, 0:size].astype(np.float32)
    field = np.zeros((size, size, 2), np.float32)
    for axis in range(2):
        field[..., axis] = griddata(sites, values[:, axis], (grid_x, grid_y), method="linear", fill_value=0.0)
    return cv2.GaussianBlur(field, (0, 0), sigma)


def _ring(points: np.ndarray, face_width: float, size: int) -> np.ndarray:
    """Fixed points around the face (and the image border) that keep the warp local."""
    center = points[lm.FACE_OVAL].mean(axis=0)
    angles = np.linspace(0, 2 * np.pi, 32, endpoint=False)
    circle = center + 0.85 * face_width * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    edge = np.linspace(0, size - 1, 9)
    border = np.array([(x, y) for x in edge for y in (0, size - 1)] + [(x, y) for y in edge for x in (0, size - 1)])
    return np.vstack([circle, border]).astype(np.float32)
