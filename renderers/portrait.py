"""Portrait preparation: any photo a person is likely to have → an upright RGB image and the face in it.

Honours EXIF rotation; accepts JPEG/PNG in RGB, grayscale, CMYK or with alpha (composited on a
plain background); shrinks huge photos before detection; finds every face and takes the largest
(saying so); enlarges small photos until a small face is found; refuses a face turned sideways.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from assistant.errors import DoppelError
from renderers import landmarks as lm

MAX_SIDE = 2048  # larger photos are shrunk before detection: detail beyond this is not used
UPSCALES = (2, 4)  # tried in turn when no face is found in a small photo
SMALL_SIDE = 1200  # photos below this are worth enlarging to find a small face
MAX_YAW = 0.35  # nose offset from the eyes' middle, as a share of the eye distance: more is a side view
BACKGROUND = (235, 235, 235)  # what shows through a transparent PNG


@dataclass
class Portrait:
    image: np.ndarray  # upright RGB uint8
    points: np.ndarray  # (478, 2) landmarks of the chosen face
    notes: list[str] = field(default_factory=list)  # what was done that the user should know


def read_image(path: Path) -> tuple[np.ndarray, list[str]]:
    """Upright RGB uint8 from any JPEG/PNG mode, and notes on what was converted."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise DoppelError(f"portrait not found: {path}; put a photo there or set face.portrait in persona.yaml")
    notes = []
    try:
        with Image.open(path) as opened:
            image = ImageOps.exif_transpose(opened)
            if image is not opened and opened.getexif().get(0x0112, 1) != 1:
                notes.append("turned upright as its EXIF orientation says")
            if image.width * image.height > 80_000_000:
                raise DoppelError(f"portrait {path.name} is {image.width}x{image.height}: too large; "
                                  "use a photo under 80 megapixels")
            image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEGs decode at a reduced size directly
            rgb = _to_rgb(image, notes)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise DoppelError(f"cannot read portrait {path.name} ({type(exc).__name__}); use a JPEG or PNG photo") from None
    if max(rgb.shape[:2]) > MAX_SIDE:
        import cv2

        scale = MAX_SIDE / max(rgb.shape[:2])
        rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        notes.append(f"shrunk to {rgb.shape[1]}x{rgb.shape[0]} for face detection")
    return rgb, notes


def _to_rgb(image, notes: list[str]) -> np.ndarray:
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, BACKGROUND)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        notes.append("transparent background filled with light grey")
        return np.asarray(flat)
    if image.mode == "CMYK":
        notes.append("converted from CMYK")
    elif image.mode in ("L", "I", "I;16", "F", "1"):
        notes.append("grayscale photo: the face will be grey too")
        image = image.convert("L")
    return np.asarray(image.convert("RGB"))


def find_face(rgb: np.ndarray, mesh: "lm.FaceMesh", name: str) -> tuple[np.ndarray, int]:
    """Landmarks of the largest face and how many faces there were. MediaPipe's detector sees the
    photo shrunk to 128 px, so a face small in a wide photo is looked for in square tiles too, and
    in a small photo enlarged."""
    faces = mesh.find_all(rgb) or _in_tiles(rgb, mesh)
    if not faces and max(rgb.shape[:2]) < SMALL_SIDE:
        import cv2

        for factor in UPSCALES:
            bigger = cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
            faces = [points / factor for points in mesh.find_all(bigger)]
            if faces:
                break
    if not faces:
        raise DoppelError(f"no face found in portrait {name}; use a photo with one clear, frontal, well-lit "
                          "face (drawings and cartoons are often not recognised)")
    largest = max(faces, key=_width)
    return largest, len(faces)


def _width(points: np.ndarray) -> float:
    return float(np.ptp(points[lm.FACE_OVAL, 0]))


def _in_tiles(rgb: np.ndarray, mesh: "lm.FaceMesh") -> list[np.ndarray]:
    """Faces found in overlapping squares (the short side, then half of it), each counted once."""
    height, width = rgb.shape[:2]
    found: list[np.ndarray] = []
    for side in (min(height, width), min(height, width) // 2):
        if side < 64:
            break
        for y in _starts(height, side):
            for x in _starts(width, side):
                for points in mesh.find_all(rgb[y:y + side, x:x + side]):
                    points = points + np.float32([x, y])
                    if all(np.linalg.norm(points[1] - f[1]) > 0.3 * _width(f) for f in found):
                        found.append(points)
        if found:
            break
    return found


def _starts(length: int, side: int) -> list[int]:
    """Tile origins every half tile, the last one flush with the end."""
    if length <= side:
        return [0]
    return sorted(set(list(range(0, length - side, side // 2)) + [length - side]))


def check_frontal(points: np.ndarray, name: str) -> None:
    eyes_middle = (points[33] + points[263]) / 2
    eye_distance = float(np.linalg.norm(points[263] - points[33]))
    yaw = abs(float(points[1, 0] - eyes_middle[0])) / max(eye_distance, 1e-6)
    if yaw > MAX_YAW:
        raise DoppelError(f"the face in portrait {name} is turned to the side; use a photo looking at the camera")


def prepare_portrait(path: Path, mesh: Optional["lm.FaceMesh"] = None) -> Portrait:
    rgb, notes = read_image(path)
    own = mesh is None
    mesh = mesh or lm.FaceMesh(max_faces=4)
    try:
        points, count = find_face(rgb, mesh, Path(path).name)
    finally:
        if own:
            mesh.close()
    if count > 1:
        notes.append(f"{count} faces found: using the largest")
    face_width = float(np.ptp(points[lm.FACE_OVAL, 0]))
    if face_width < 80:
        notes.append(f"the face is small ({face_width:.0f} px wide): it is enlarged and will look soft")
    check_frontal(points, Path(path).name)
    return Portrait(rgb, points, notes)
