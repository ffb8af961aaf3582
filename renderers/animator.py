"""Turns a speech timeline into face frames, one for any audio position: the controls' weights
at that moment (tracks.py), blended into one warp field and one remap, then the mouth painted.

Frames are chosen by time, never by a timer of their own: the caller passes the playback
position (window) or each frame's time (video file).
"""

from __future__ import annotations

import cv2
import numpy as np

from assistant.config import FaceConfig
from renderers import controls
from renderers import landmarks as lm
from renderers.rig import FaceRig
from renderers.tracks import TRACK_RATE, IdleLife, SpeechTimeline, expression_tracks, loudness_track, speech_tracks

__all__ = ["Animator", "SpeechTimeline", "loudness_track"]

LIP_SHAPES = ("lip_round", "lip_spread", "lip_press", "lip_tuck", "smile")  # what moves the lips besides the jaw
TEETH_SHARE = 0.4  # of the inner-lip area bright and pale enough to be teeth (measured: 0.56 open smile, 0.25 closed)
LASH_FROM = 0.6  # eyes closed beyond this show a painted lash line
MIN_WEIGHT = 0.01  # controls weaker than this are left out of the blend (they would move < 0.1 px)


class Animator:
    def __init__(self, rig: FaceRig, timeline: SpeechTimeline, config: FaceConfig, seed: int = 0,
                 idle_span: float = 60.0) -> None:
        self.rig = rig
        self.config = config
        self.set_timeline(timeline)
        self.life = IdleLife(config, timeline.duration + idle_span, seed)
        size = rig.image.shape[0]
        self._grid_y, self._grid_x = np.mgrid[0:size, 0:size].astype(np.float32)
        self._field = np.zeros((size, size, 2), np.float32)
        self._scratch = np.zeros_like(self._field)
        self._mouth_box = _mouth_box(rig, size)
        self._photo_shows_teeth = _shows_teeth(rig)
        self._teeth = _teeth_color(rig)
        self._lids = {eye: controls.eyelids(rig.points, eye) for eye in ("left", "right")}
        self._lash_color = _lash_color(rig, self._lids)
        self._seam_color = _seam_color(rig)

    def set_timeline(self, timeline: SpeechTimeline) -> None:
        """A new or longer reply (a live reply grows sentence by sentence)."""
        self.timeline = timeline
        self.speech = speech_tracks(timeline, self.config)
        self.expressions = expression_tracks(timeline, self.config)

    def mouth_open(self, t: float) -> float:
        return _during(self.speech["jaw"], t, self.config.rest_fade)

    def expression(self, t: float) -> dict[str, float]:
        """The emotion's control weights at t; they hold after the reply ends (the last sentence's mood)."""
        return {name: _held(track, t) for name, track in self.expressions.items()}

    def weights(self, speech_t: float, life_t: float) -> dict[str, float]:
        """Every control's weight: the mouth at speech_t on the reply's audio clock, blinks, glances
        and head motion at life_t (the same clock for a file; a session clock in a live conversation,
        where replies restart)."""
        weights = {name: _during(track, speech_t, self.config.rest_fade) for name, track in self.speech.items()}
        for name, value in self.expression(speech_t).items():
            weights[name] = weights.get(name, 0.0) + value
        closed = self.life.eyes_closed(life_t)
        weights["blink_left"] = weights["blink_right"] = closed
        gaze_x, gaze_y = self.life.gaze(life_t)
        weights["gaze_x"], weights["gaze_y"] = weights.get("gaze_x", 0.0) + gaze_x, weights.get("gaze_y", 0.0) + gaze_y
        yaw, pitch, _roll = self.life.head(life_t)
        weights["yaw"], weights["pitch"] = weights.get("yaw", 0.0) + yaw, weights.get("pitch", 0.0) + pitch
        return weights

    def frame_at(self, t: float) -> np.ndarray:
        """The RGB face at audio time t."""
        return self.frame(t, t)

    def frame(self, speech_t: float, life_t: float, weights: dict[str, float] | None = None) -> np.ndarray:
        """The face for the given moment (see weights), or for explicit control weights."""
        rig = self.rig
        weights = self.weights(speech_t, life_t) if weights is None else weights
        field = self._blend(weights)
        matrix = cv2.getRotationMatrix2D(rig.pivot, self.life.head(life_t)[2], 1.0)
        inverse = cv2.invertAffineTransform(matrix)
        map_x = inverse[0, 0] * self._grid_x + inverse[0, 1] * self._grid_y + inverse[0, 2] + field[..., 0]
        map_y = inverse[1, 0] * self._grid_x + inverse[1, 1] * self._grid_y + inverse[1, 2] + field[..., 1]
        frame = cv2.remap(rig.image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        head = rig.motions["yaw"] * weights.get("yaw", 0.0) + rig.motions["pitch"] * weights.get("pitch", 0.0)
        shape = head + sum((rig.motions[name] * weights.get(name, 0.0) for name in LIP_SHAPES),
                           np.zeros_like(rig.points))
        open_ = weights.get("jaw", 0.0)
        if open_ > 0.03:
            self._paint_mouth(frame, open_, matrix, shape)
        press = weights.get("lip_press", 0.0)
        if press > 0.3 and self._photo_shows_teeth:
            self._paint_seam(frame, min(1.0, (press - 0.3) / 0.5), matrix, shape)
        tuck = weights.get("lip_tuck", 0.0)
        if tuck > 0.2 and not self._photo_shows_teeth:
            self._paint_upper_teeth(frame, tuck, matrix, shape)
        for eye in ("left", "right"):
            closed = weights.get(f"blink_{eye}", 0.0)
            if closed > LASH_FROM:
                self._paint_lashes(frame, eye, (closed - LASH_FROM) / (1 - LASH_FROM), matrix, head)
        return frame

    def _blend(self, weights: dict[str, float]) -> np.ndarray:
        """One warp field: the controls' fields by their weights (only those that move anything)."""
        field = self._field
        field.fill(0.0)
        for name, weight in weights.items():
            if abs(weight) >= MIN_WEIGHT:
                np.multiply(self.rig.fields[name], weight, out=self._scratch)
                field += self._scratch
        return field

    def _paint_mouth(self, frame: np.ndarray, open_: float, matrix: np.ndarray, shape: np.ndarray) -> None:
        """Fill the gap the jaw opened: a dark mouth with a hint of tongue at its floor, and (where
        the photo shows none) upper teeth under the upper lip and lower teeth, dimmer, above the
        lower lip; soft edges. `shape`: how the other controls moved each landmark."""
        jaw, width = self.rig.motions["jaw"], self.rig.face_width
        lower_lip = self.rig.points[lm.LOWER_LIP_INNER] + shape[lm.LOWER_LIP_INNER]
        upper = _transform(lower_lip + jaw[lm.UPPER_LIP_INNER[5]] * open_, matrix)  # the upper jaw's edge
        lower = _transform(lower_lip + jaw[lm.LOWER_LIP_INNER] * open_, matrix)[::-1]
        roi, offset = self._mouth_roi(frame)
        color = np.broadcast_to(_CAVITY, roi.shape).astype(np.float32)
        tongue = np.zeros(roi.shape[:2], np.float32)  # its back, in shadow, resting above the lower lip
        middle = lower[len(lower) // 2] - offset - np.float32([0, 0.012 * width * open_])
        half_width = 0.3 * float(np.linalg.norm(upper[-1] - upper[0]))
        axes = (round(half_width), max(1, round(0.02 * width * open_)))
        cv2.ellipse(tongue, (round(middle[0]), round(middle[1])), axes, 0, 180, 360, 1.0, -1, cv2.LINE_AA)
        tongue = cv2.GaussianBlur(tongue, (0, 0), 1.5)[..., None] * 0.7 * min(1.0, open_)
        color = color * (1 - tongue) + _TONGUE * tongue
        if not self._photo_shows_teeth:
            for edge, depth, shade in ((upper[2:-2], 0.035, 1.0), (lower[3:-3], -0.02, 0.8)):
                band = edge + np.float32([0, depth * width * open_])
                teeth = self._soft_mask(roi, [np.vstack([edge, band[::-1]]) - offset], 0.8)
                color = color * (1 - teeth) + self._teeth * shade * teeth
        mask = self._soft_mask(roi, [np.vstack([upper, lower]) - offset], 1.0)
        roi[:] = (roi * (1 - mask) + color * mask).astype(np.uint8)

    def _paint_upper_teeth(self, frame: np.ndarray, tuck: float, matrix: np.ndarray, shape: np.ndarray) -> None:
        """f, v: the upper teeth show between the lifted upper lip and the tucked lower lip."""
        inner = lm.UPPER_LIP_INNER[2:-2]
        rest = self.rig.points[inner] + shape[inner] - self.rig.motions["lip_tuck"][inner] * tuck  # lip before lifting
        edge = _transform(rest + np.float32([0, 0.01 * self.rig.face_width * tuck]), matrix)  # teeth's edge
        lifted = _transform(self.rig.points[inner] + shape[inner], matrix)
        roi, offset = self._mouth_roi(frame)
        mask = self._soft_mask(roi, [np.vstack([lifted, edge[::-1]]) - offset], 0.7) * min(1.0, tuck)
        roi[:] = (roi * (1 - mask) + self._teeth * mask).astype(np.uint8)

    def _paint_seam(self, frame: np.ndarray, strength: float, matrix: np.ndarray, shape: np.ndarray) -> None:
        """Lips pressed on a photo with parted lips: the line where they meet, in a darkened lip
        colour (it hides the sliver of teeth a warp leaves between them)."""
        inner = lm.UPPER_LIP_INNER
        roi, offset = self._mouth_roi(frame)  # every pause presses the lips: keep this to the mouth
        line = _transform(self.rig.points[inner] + shape[inner], matrix) - offset
        _draw_line(roi, line, self._seam_color, 0.006 * self.rig.face_width, 0.7 * strength)

    def _paint_lashes(self, frame: np.ndarray, eye: str, strength: float, matrix: np.ndarray, head: np.ndarray) -> None:
        """A closing eye: the lashes' dark line along the lower lid, where the warp alone leaves a
        sliver of the eye's white (a field cannot fold the lid over the eye)."""
        xs, _, bottom = self._lids[eye]
        shift = head[controls.EYE_CORNERS[eye][0]]  # the eye moves with the head's turn
        line = _transform(np.stack([xs, bottom], 1) + shift, matrix)
        _draw_line(frame, line, self._lash_color, 0.008 * self.rig.face_width, 0.8 * strength)

    def _mouth_roi(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x0, y0, x1, y1 = self._mouth_box
        return frame[y0:y1, x0:x1], np.float32([x0, y0])

    @staticmethod
    def _soft_mask(roi: np.ndarray, polygons: list[np.ndarray], blur: float) -> np.ndarray:
        mask = np.zeros(roi.shape[:2], np.float32)
        cv2.fillPoly(mask, [np.round(p).astype(np.int32) for p in polygons], 1.0, cv2.LINE_AA)
        return cv2.GaussianBlur(mask, (0, 0), blur)[..., None]


def _shows_teeth(rig: FaceRig) -> bool:
    """Whether the photo shows teeth between the lips: enough of the inner-lip area is brighter and
    less saturated than the lips (a closed mouth's seam is lip-coloured; MediaPipe's lip lines
    alone cannot tell, they leave a gap of some pixels on closed lips too)."""
    hsv = cv2.cvtColor(rig.image, cv2.COLOR_RGB2HSV)
    inner = _inside(hsv, rig.points, [(lm.UPPER_LIP_INNER, lm.LOWER_LIP_INNER)])
    lip = _inside(hsv, rig.points, [(lm.UPPER_LIP_OUTER, lm.UPPER_LIP_INNER)])
    if len(inner) < 0.004 * rig.face_width ** 2 or not len(lip):
        return False
    teeth = (inner[:, 2] > np.median(lip[:, 2]) + 15) & (inner[:, 1] < 0.8 * np.median(lip[:, 1]))
    return float(np.mean(teeth)) > TEETH_SHARE


def _inside(image: np.ndarray, points: np.ndarray, contours: list[tuple[list[int], list[int]]]) -> np.ndarray:
    """The pixels (float32 rows) inside the regions each bounded by an upper and a lower contour."""
    mask = np.zeros(image.shape[:2], np.uint8)
    for upper, lower in contours:
        cv2.fillPoly(mask, [np.round(np.vstack([points[upper], points[lower][::-1]])).astype(np.int32)], 1)
    return image[mask > 0].astype(np.float32)


def _draw_line(region: np.ndarray, line: np.ndarray, color: tuple[int, int, int], width: float, alpha: float) -> None:
    """An anti-aliased polyline blended into the region with the given opacity (sub-pixel precise)."""
    overlay = region.copy()
    cv2.polylines(overlay, [np.round(line * 4).astype(np.int32)], False, color, max(1, round(width)), cv2.LINE_AA,
                  shift=2)
    cv2.addWeighted(overlay, alpha, region, 1 - alpha, 0, dst=region)


def _teeth_color(rig: FaceRig) -> np.ndarray:
    """Painted teeth in the photo's own light: a little darker than the whites of its eyes."""
    eyes = _inside(rig.image, rig.points, list(controls.EYELIDS.values()))
    if len(eyes) < 20:
        return _TEETH
    pale = eyes[eyes.sum(axis=1) >= np.percentile(eyes.sum(axis=1), 85)]  # the whites, not iris or lashes
    return np.clip(0.95 * pale.mean(axis=0) + 10, 0, 255).astype(np.float32)


def _lash_color(rig: FaceRig, lids: dict) -> tuple[int, int, int]:
    """The photo's own lash colour: the darkest tenth of the pixels along the upper lids."""
    samples = np.vstack([rig.image[np.clip(np.round(top).astype(int), 0, rig.image.shape[0] - 1),
                                   np.clip(np.round(xs).astype(int), 0, rig.image.shape[1] - 1)]
                         for xs, top, _ in lids.values()])
    darkest = samples[np.argsort(samples.sum(axis=1))[:max(1, len(samples) // 10)]]
    return tuple(int(v) for v in darkest.mean(axis=0))


def _seam_color(rig: FaceRig) -> tuple[int, int, int]:
    """The upper lip's colour (between its outer and inner edge), darkened as in a lip's shadow."""
    outer, inner = rig.points[lm.UPPER_LIP_OUTER[2:-2]], rig.points[lm.UPPER_LIP_INNER[2:-2]]
    middle = np.clip(np.round((outer + inner) / 2).astype(int), 0, rig.image.shape[0] - 1)
    return tuple(int(v) for v in 0.75 * rig.image[middle[:, 1], middle[:, 0]].mean(axis=0))


_CAVITY = np.float32([44, 16, 20])
_TEETH = np.float32([215, 208, 200])
_TONGUE = np.float32([112, 44, 50])


def _transform(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


def _mouth_box(rig: FaceRig, size: int) -> tuple[int, int, int, int]:
    """A box that holds the mouth at any opening and sway, so painting touches only that region."""
    pts = np.vstack([rig.points[lm.UPPER_LIP_OUTER + lm.LOWER_LIP_OUTER],
                     rig.points[lm.LOWER_LIP_OUTER] + rig.motions["jaw"][lm.LOWER_LIP_OUTER]])
    pad = int(0.15 * rig.face_width)
    x0, y0 = np.maximum(np.floor(pts.min(axis=0)).astype(int) - pad, 0)
    x1, y1 = np.minimum(np.ceil(pts.max(axis=0)).astype(int) + pad, size)
    return int(x0), int(y0), int(x1), int(y1)


def _during(track: np.ndarray, t: float, fade: float) -> float:
    """A speech track's value at t: 0 (at rest) before the reply; after it, easing from its last
    value back to rest over `fade` seconds (the lips leave their between-word closure gently)."""
    index = round(t * TRACK_RATE)
    if index < 0 or not len(track):
        return 0.0
    if index < len(track):
        return float(track[index])
    return float(track[-1]) * max(0.0, 1.0 - (index - len(track)) / (fade * TRACK_RATE))


def _held(track: np.ndarray, t: float) -> float:
    """An expression track's value at t, holding its last value after the reply."""
    index = round(t * TRACK_RATE)
    return float(track[min(max(index, 0), len(track) - 1)]) if len(track) and index >= 0 else 0.0
