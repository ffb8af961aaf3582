"""Turns a speech timeline (phonemes with times) into face frames, one for any audio position.

Frames are chosen by time, never by a timer of their own: the caller passes the playback
position (window) or each frame's time (video file).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Optional

import cv2
import numpy as np

from assistant.config import FaceConfig
from assistant.messages import Phoneme
from renderers import landmarks as lm
from renderers.rig import FaceRig

TRACK_RATE = 200  # samples per second of the mouth-openness track

# How far each phoneme (espeak IPA, as piper emits them) opens the jaw, 0 closed .. 1 widest.
_OPENNESS = {
    **dict.fromkeys("aɑæɐɒ", 1.0),
    **dict.fromkeys("ɛeʌɔoɜɚ", 0.75),
    **dict.fromkeys("əɪiʊuɨy", 0.5),
    **dict.fromkeys("mbp", 0.0),
    **dict.fromkeys("fv", 0.12),
    **dict.fromkeys("wɹrjlhɾ", 0.3),
    **dict.fromkeys("θðsztdnʃʒkgɡŋʔ", 0.22),
}
_BILABIALS = set("pbm")
_CONTINUE = set("ˈˌːˑ")  # stress and length marks carry the previous phoneme on
# How much each phoneme rounds the lips, 0 spread/neutral .. 1 fully rounded ("oo").
_ROUNDING = {**dict.fromkeys("uʊw", 1.0), **dict.fromkeys("oɔɒ", 0.7), **dict.fromkeys("ʃʒ", 0.4), "ɹ": 0.3}
# The mouth-corner lift each emotion brings at full intensity (negative: corners down, a frown).
EMOTION_SMILE = {"happy": 1.0, "tender": 0.5, "surprised": 0.15, "neutral": 0.0, "afraid": -0.3,
                 "angry": -0.5, "sad": -0.8}


@dataclass(frozen=True)
class SpeechTimeline:
    """The whole reply as the face sees it: where phonemes fall on the audio clock."""

    phonemes: tuple[Phoneme, ...]
    duration: float
    moods: tuple[tuple[float, float, str, float], ...] = ()  # (start, end, emotion, intensity) per sentence
    loudness: Optional[np.ndarray] = None  # RMS of the audio at TRACK_RATE (see loudness_track), if known

    @staticmethod
    def join(chunks: Iterable[tuple[float, tuple[Phoneme, ...]]], duration: float,
             moods: tuple[tuple[float, float, str, float], ...] = ()) -> "SpeechTimeline":
        """Chunks as (start time in the reply, phonemes timed from the chunk's own start)."""
        joined = tuple(Phoneme(p.symbol, p.start + t0, p.end + t0) for t0, phonemes in chunks for p in phonemes)
        return SpeechTimeline(joined, duration, tuple(moods))


def loudness_track(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """RMS of the speech in windows centred on each TRACK_RATE step (the jaw opens with loudness)."""
    hop = sample_rate / TRACK_RATE
    count = int(len(samples) / hop) + 1
    power = np.convolve(samples.astype(np.float64) ** 2, np.ones(int(2 * hop)) / int(2 * hop), mode="same")
    return np.sqrt(power[np.minimum((np.arange(count) * hop).astype(int), len(samples) - 1)]).astype(np.float32)


class Animator:
    def __init__(self, rig: FaceRig, timeline: SpeechTimeline, config: FaceConfig, seed: int = 0,
                 idle_span: float = 60.0) -> None:
        self.rig = rig
        self.config = config
        self.set_timeline(timeline)
        self.blinks = _blink_times(timeline.duration + idle_span, config.blink_every, seed)
        size = rig.image.shape[0]
        self._grid_y, self._grid_x = np.mgrid[0:size, 0:size].astype(np.float32)
        self._mouth_box = _mouth_box(rig, size)
        gap = rig.points[lm.LOWER_LIP_INNER[5], 1] - rig.points[lm.UPPER_LIP_INNER[5], 1]
        self._photo_shows_teeth = gap > 0.02 * rig.face_width

    def set_timeline(self, timeline: SpeechTimeline) -> None:
        """A new or longer reply (a live reply grows sentence by sentence)."""
        self.timeline = timeline
        self.track = _phoneme_track(timeline, _OPENNESS, self.config.mouth_smoothing)
        if timeline.loudness is not None and len(timeline.loudness):
            self.track = _with_loudness(self.track, timeline.loudness, self.config.loudness_share)
        _press_lips(self.track, timeline, 1.0 / self.config.fps)
        self.rounding = _phoneme_track(timeline, _ROUNDING, self.config.mouth_smoothing)
        self.smiles = _mood_track(timeline, self.config.expression, self.config.expression_smoothing)

    def _sample(self, track: np.ndarray, t: float) -> float:
        index = int(round(t * TRACK_RATE))
        return float(track[min(max(index, 0), len(track) - 1)]) if len(track) and index >= 0 else 0.0

    def mouth_open(self, t: float) -> float:
        return _during(self.track, t)

    def lips_round(self, t: float) -> float:
        return _during(self.rounding, t)

    def smile(self, t: float) -> float:
        """The expression's corner lift at t; it holds after the reply ends (the last sentence's mood)."""
        return self._sample(self.smiles, t)

    def eyes_closed(self, t: float) -> float:
        """0 open .. 1 closed: a quick close and a slower open around each blink time."""
        half = self.config.blink_duration / 2
        nearest = self.blinks[np.argmin(np.abs(self.blinks - t))] if len(self.blinks) else -1e9
        phase = (t - nearest) / half
        if -1.0 <= phase <= 0.0:
            return 1.0 + phase
        if 0.0 < phase <= 2.0:
            return 1.0 - phase / 2.0
        return 0.0

    def head_angle(self, t: float) -> float:
        """Degrees of idle sway: two slow incommensurate sines, so it never looks looped."""
        amp = self.config.sway_degrees
        return amp * (0.7 * math.sin(2 * math.pi * t / 5.3) + 0.3 * math.sin(2 * math.pi * t / 2.9 + 1.0))

    def frame_at(self, t: float) -> np.ndarray:
        """The RGB face at audio time t."""
        return self.frame(t, t)

    def frame(self, speech_t: float, life_t: float) -> np.ndarray:
        """The face with the mouth at speech_t on the reply's audio clock, blinks and sway at life_t
        (the same clock for a file; a session clock in a live conversation, where replies restart)."""
        rig = self.rig
        open_, closed = self.mouth_open(speech_t), self.eyes_closed(life_t)
        rounded, smile = self.lips_round(speech_t), self.smile(speech_t)
        field = rig.jaw_field * open_ + rig.blink_field * closed + rig.round_field * rounded + rig.smile_field * smile
        matrix = cv2.getRotationMatrix2D(rig.pivot, self.head_angle(life_t), 1.0)
        inverse = cv2.invertAffineTransform(matrix)
        map_x = inverse[0, 0] * self._grid_x + inverse[0, 1] * self._grid_y + inverse[0, 2] + field[..., 0]
        map_y = inverse[1, 0] * self._grid_x + inverse[1, 1] * self._grid_y + inverse[1, 2] + field[..., 1]
        frame = cv2.remap(rig.image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if open_ > 0.03:
            self._paint_mouth(frame, open_, matrix, rig.round_motion * rounded + rig.smile_motion * smile)
        return frame

    def _paint_mouth(self, frame: np.ndarray, open_: float, matrix: np.ndarray, shape: np.ndarray) -> None:
        """Fill the gap the jaw opened: dark mouth, upper teeth where the photo shows none, soft edges.
        `shape`: how rounding and smiling moved each landmark (the gap follows the lips)."""
        rig = self.rig
        lower_lip = rig.points[lm.LOWER_LIP_INNER] + shape[lm.LOWER_LIP_INNER]
        lifted = lower_lip + rig.jaw_motion[lm.UPPER_LIP_INNER[5]] * open_  # the upper jaw's edge
        dropped = lower_lip + rig.jaw_motion[lm.LOWER_LIP_INNER] * open_
        upper, lower = (_transform(lifted, matrix), _transform(dropped, matrix)[::-1])
        x0, y0, x1, y1 = self._mouth_box
        roi = frame[y0:y1, x0:x1]
        offset = np.float32([x0, y0])
        mask = np.zeros(roi.shape[:2], np.float32)
        cv2.fillPoly(mask, [np.round(np.vstack([upper, lower]) - offset).astype(np.int32)], 1.0, cv2.LINE_AA)
        mask = cv2.GaussianBlur(mask, (0, 0), 1.0)[..., None]
        color = np.broadcast_to(_CAVITY, roi.shape).astype(np.float32)
        if not self._photo_shows_teeth:
            teeth = np.zeros(roi.shape[:2], np.float32)
            band = upper[2:-2] + np.float32([0, 0.035 * rig.face_width * open_])
            cv2.fillPoly(teeth, [np.round(np.vstack([upper[2:-2], band[::-1]]) - offset).astype(np.int32)], 1.0, cv2.LINE_AA)
            teeth = cv2.GaussianBlur(teeth, (0, 0), 0.8)[..., None]
            color = color * (1 - teeth) + _TEETH * teeth
        roi[:] = (roi * (1 - mask) + color * mask).astype(np.uint8)


_CAVITY = np.float32([44, 16, 20])
_TEETH = np.float32([215, 208, 200])


def _transform(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


def _mouth_box(rig: FaceRig, size: int) -> tuple[int, int, int, int]:
    """A box that holds the mouth at any opening and sway, so painting touches only that region."""
    pts = np.vstack([rig.points[lm.UPPER_LIP_OUTER + lm.LOWER_LIP_OUTER],
                     rig.points[lm.LOWER_LIP_OUTER] + rig.jaw_motion[lm.LOWER_LIP_OUTER]])
    pad = int(0.15 * rig.face_width)
    x0, y0 = np.maximum(np.floor(pts.min(axis=0)).astype(int) - pad, 0)
    x1, y1 = np.minimum(np.ceil(pts.max(axis=0)).astype(int) + pad, size)
    return int(x0), int(y0), int(x1), int(y1)


def _during(track: np.ndarray, t: float) -> float:
    """A viseme track's value at t; 0 (at rest) outside the reply."""
    index = int(round(t * TRACK_RATE))
    return float(track[index]) if 0 <= index < len(track) else 0.0


def _press_lips(track: np.ndarray, timeline: SpeechTimeline, frame: float) -> None:
    """p, b, m close the lips whatever smoothing brings from their neighbours, for at least one
    video frame around the sound, so every bilabial is seen closed."""
    for p in timeline.phonemes:
        if p.symbol in _BILABIALS:
            middle, half = (p.start + p.end) / 2, max(p.end - p.start, frame) / 2
            track[max(0, int((middle - half) * TRACK_RATE)):int(math.ceil((middle + half) * TRACK_RATE)) + 1] = 0.0


def _with_loudness(track: np.ndarray, loudness: np.ndarray, share: float) -> np.ndarray:
    """Scale the viseme openness by the audio's loudness (relative to the reply's loud parts):
    the visemes say the shape, the sound says how wide."""
    level = np.zeros(len(track), np.float32)
    n = min(len(track), len(loudness))
    level[:n] = np.clip(loudness[:n] / (np.percentile(loudness[:n], 80) + 1e-9), 0.0, 1.0)
    return track * ((1.0 - share) + share * level)


def _mood_track(timeline: SpeechTimeline, strength: float, smoothing: float) -> np.ndarray:
    """Corner lift sampled at TRACK_RATE: each sentence's emotion × intensity × the user's setting,
    held to the next sentence and smoothed, so expressions change gently between sentences."""
    n = int(math.ceil(timeline.duration * TRACK_RATE)) + 1
    track = np.zeros(n, np.float32)
    for start, _end, emotion, intensity in timeline.moods:
        track[int(start * TRACK_RATE):] = EMOTION_SMILE.get(emotion, 0.0) * intensity * strength
    sigma = max(1.0, smoothing * TRACK_RATE)
    return cv2.GaussianBlur(track.reshape(1, -1), (0, 0), sigmaX=sigma, sigmaY=0,
                            borderType=cv2.BORDER_REPLICATE).ravel()


def _phoneme_track(timeline: SpeechTimeline, table: dict[str, float], smoothing: float) -> np.ndarray:
    """A viseme weight sampled at TRACK_RATE: per-phoneme targets, smoothed so visemes blend
    (coarticulation)."""
    n = int(math.ceil(timeline.duration * TRACK_RATE)) + 1
    track = np.zeros(n, np.float32)
    previous = 0.0
    for p in timeline.phonemes:
        value = previous if p.symbol in _CONTINUE else table.get(p.symbol, 0.0)
        previous = value
        track[int(p.start * TRACK_RATE):int(math.ceil(p.end * TRACK_RATE))] = value
    sigma = max(1.0, smoothing * TRACK_RATE)
    return cv2.GaussianBlur(track.reshape(1, -1), (0, 0), sigmaX=sigma, sigmaY=0).ravel()


def _blink_times(span: float, every: float, seed: int) -> np.ndarray:
    """Blink moments with natural irregularity (gamma-distributed gaps), the same for a given seed."""
    rng = np.random.default_rng(seed)
    times, t = [], 0.8
    while t < span:
        times.append(t)
        t += max(1.2, rng.gamma(4.0, every / 4.0))
    return np.asarray(times, np.float32)
