"""Face landmarks with MediaPipe's face mesh (478 points, with irises), the model inside the wheel."""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator, Optional

import numpy as np

# MediaPipe face-mesh indices of the features the animator moves.
UPPER_LIP_INNER = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308]
LOWER_LIP_INNER = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308]
UPPER_LIP_OUTER = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291]
LOWER_LIP_OUTER = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291]
CHIN = [152, 148, 176, 149, 150, 136, 377, 400, 378, 379, 365, 175, 199, 200, 18]
JAW_SIDES = [172, 58, 132, 397, 288, 361]
RIGHT_EYE_UPPER = [246, 161, 160, 159, 158, 157, 173]
RIGHT_EYE_LOWER = [7, 163, 144, 145, 153, 154, 155]
LEFT_EYE_UPPER = [466, 388, 387, 386, 385, 384, 398]
LEFT_EYE_LOWER = [249, 390, 373, 374, 380, 381, 382]
RIGHT_BROW = [70, 63, 105, 66, 107]
LEFT_BROW = [300, 293, 334, 296, 336]
NOSE = [1, 4, 5, 195, 197, 6, 168, 98, 327]
FACE_OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
             152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109]


@contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """MediaPipe's C++ logs warnings straight to fd 2 while its graph starts; keep the terminal clean."""
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


@contextmanager
def _nothing() -> Iterator[None]:
    yield


class FaceMesh:
    """Finds faces' landmarks in an RGB image, in pixel coordinates."""

    def __init__(self, max_faces: int = 1) -> None:
        self._mesh = None
        self.max_faces = max_faces

    def __enter__(self) -> "FaceMesh":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._mesh is not None:
            self._mesh.close()
            self._mesh = None

    def _open(self):
        import mediapipe as mp

        return mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=self.max_faces,
                                               refine_landmarks=True, min_detection_confidence=0.5)

    def find(self, rgb: np.ndarray) -> Optional[np.ndarray]:
        """(478, 2) float32 pixel coordinates of the first face, or None when no face is found."""
        faces = self.find_all(rgb)
        return faces[0] if faces else None

    def find_all(self, rgb: np.ndarray) -> list[np.ndarray]:
        """(478, 2) float32 pixel coordinates for each face found (up to max_faces)."""
        first = self._mesh is None
        if first:
            with _native_stderr_silenced():
                self._mesh = self._open()
        rgb = np.ascontiguousarray(rgb[..., :3], dtype=np.uint8)
        height, width = rgb.shape[:2]
        with _native_stderr_silenced() if first else _nothing():
            result = self._mesh.process(rgb)
        return [(np.asarray([(p.x, p.y) for p in face.landmark], dtype=np.float32) * [width, height]).astype(np.float32)
                for face in result.multi_face_landmarks or []]
