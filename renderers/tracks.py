"""What drives the rig's controls over time: visemes from the phonemes, the speech's loudness, each
sentence's emotion, and idle life (blinks, glances, breathing, small head motion).

Speech tracks are sampled at TRACK_RATE on the reply's audio clock; idle life is a function of the
session clock, so a new reply restarting the audio clock never makes the face jump.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Optional

import cv2
import numpy as np

from assistant.config import FaceConfig
from assistant.messages import Phoneme

TRACK_RATE = 200  # samples per second of the speech tracks

# Phoneme (espeak IPA, as piper emits them) -> viseme weights, per mouth control.
_OPENNESS = {
    **dict.fromkeys("aɑæɐɒ", 1.0),
    **dict.fromkeys("ɛeʌɔoɜɚ", 0.75),
    **dict.fromkeys("əɪiʊuɨy", 0.5),
    **dict.fromkeys("mbp", 0.0),
    **dict.fromkeys("fv", 0.1),
    **dict.fromkeys("wɹrjlhɾ", 0.3),
    **dict.fromkeys("θðsztdnʃʒkgɡŋʔ", 0.22),
}
VISEMES = {
    "jaw": _OPENNESS,
    "lip_round": {**dict.fromkeys("uʊw", 1.0), **dict.fromkeys("oɔɒ", 0.7), **dict.fromkeys("ʃʒ", 0.4), "ɹ": 0.3},
    "lip_spread": {**dict.fromkeys("iɪj", 1.0), **dict.fromkeys("eɛæ", 0.6), **dict.fromkeys("sz", 0.5),
                   **dict.fromkeys("tdnθðlkgɡ", 0.25)},
    "lip_tuck": dict.fromkeys("fv", 1.0),
    "lip_press": dict.fromkeys("pbm", 1.0),
}
BILABIALS = set("pbm")
_CONTINUE = set("ˈˌːˑ")  # stress and length marks carry the previous phoneme on


@dataclass(frozen=True)
class SpeechTimeline:
    """The whole reply as the face sees it: where phonemes fall on the audio clock."""

    phonemes: tuple[Phoneme, ...]
    duration: float
    moods: tuple[tuple[float, float, str, float], ...] = ()  # (start, end, emotion, intensity) per sentence
    loudness: Optional[np.ndarray] = None  # RMS of the audio at TRACK_RATE (see loudness_track), if known

    @staticmethod
    def join(chunks: Iterable[tuple[float, tuple[Phoneme, ...]]], duration: float,
             moods: tuple[tuple[float, float, str, float], ...] = ()) -> SpeechTimeline:
        """Chunks as (start time in the reply, phonemes timed from the chunk's own start)."""
        joined = tuple(Phoneme(p.symbol, p.start + t0, p.end + t0) for t0, phonemes in chunks for p in phonemes)
        return SpeechTimeline(joined, duration, tuple(moods))


def loudness_track(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """RMS of the speech in windows centred on each TRACK_RATE step (the jaw opens with loudness)."""
    hop = sample_rate / TRACK_RATE
    count = int(len(samples) / hop) + 1
    power = np.convolve(samples.astype(np.float64) ** 2, np.ones(int(2 * hop)) / int(2 * hop), mode="same")
    return np.sqrt(power[np.minimum((np.arange(count) * hop).astype(int), len(samples) - 1)]).astype(np.float32)


def speech_tracks(timeline: SpeechTimeline, config: FaceConfig) -> dict[str, np.ndarray]:
    """Per mouth control, its weight at TRACK_RATE: viseme targets smoothed into each other
    (coarticulation: the Gaussian reaches ahead, so lips start moving before the sound), the jaw
    scaled by loudness, and every p/b/m pressed shut for at least one video frame."""
    heard = timeline
    timeline = _led(timeline, config.viseme_lead)
    tracks = {name: _phoneme_track(timeline, table, config.mouth_smoothing) for name, table in VISEMES.items()}
    if timeline.loudness is not None and len(timeline.loudness):
        tracks["jaw"] = _with_loudness(tracks["jaw"], timeline.loudness, config.loudness_share)
    # between words the lips relax shut (a photo's open smile would otherwise grin through every pause)
    pauses = _phoneme_track(timeline, {}, config.mouth_smoothing, default=config.rest_press, sounding=0.0)
    tracks["lip_press"] = np.maximum(tracks["lip_press"], pauses)
    for start, stop in _bilabial_spans(heard, 1.0 / config.fps, config.viseme_lead):
        tracks["jaw"][start:stop] = 0.0
        tracks["lip_press"][start:stop] = 1.0
        tracks["lip_round"][start:stop] *= 0.5  # pressed lips cannot stay fully rounded
    return tracks


def _led(timeline: SpeechTimeline, lead: float) -> SpeechTimeline:
    """The phonemes `lead` seconds early: lips take their shape just before the sound is heard."""
    shifted = tuple(Phoneme(p.symbol, max(0.0, p.start - lead), max(0.0, p.end - lead)) for p in timeline.phonemes)
    return SpeechTimeline(shifted, timeline.duration, timeline.moods, timeline.loudness)


def expression_tracks(timeline: SpeechTimeline, config: FaceConfig) -> dict[str, np.ndarray]:
    """Per control an emotion moves, its weight at TRACK_RATE: each sentence's emotion × intensity ×
    the user's setting, held to the next sentence and smoothed so expressions change gently."""
    n = int(math.ceil(timeline.duration * TRACK_RATE)) + 1
    names = sorted({c for weights in config.expressions.values() for c in weights})
    tracks = {name: np.zeros(n, np.float32) for name in names}
    for start, _end, emotion, intensity in timeline.moods:
        for name in names:
            weight = config.expressions.get(emotion, {}).get(name, 0.0)
            tracks[name][int(start * TRACK_RATE):] = weight * intensity * config.expression
    sigma = max(1.0, config.expression_smoothing * TRACK_RATE)
    return {name: _smooth(track, sigma) for name, track in tracks.items()}


def _smooth(track: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(track.reshape(1, -1), (0, 0), sigmaX=sigma, sigmaY=0,
                            borderType=cv2.BORDER_REPLICATE).ravel()


def _bilabial_spans(timeline: SpeechTimeline, frame: float, lead: float) -> list[tuple[int, int]]:
    """Track index ranges where each p/b/m holds the lips shut, led like the other visemes and at
    least one video frame long (a short one is still seen)."""
    spans = []
    for p in timeline.phonemes:
        if p.symbol in BILABIALS:
            middle, half = (p.start + p.end) / 2 - lead, max(p.end - p.start, frame) / 2
            spans.append((max(0, int((middle - half) * TRACK_RATE)), math.ceil((middle + half) * TRACK_RATE) + 1))
    return spans


def _with_loudness(track: np.ndarray, loudness: np.ndarray, share: float) -> np.ndarray:
    """Scale the viseme openness by the audio's loudness (relative to the reply's loud parts):
    the visemes say the shape, the sound says how wide."""
    level = np.zeros(len(track), np.float32)
    n = min(len(track), len(loudness))
    level[:n] = np.clip(loudness[:n] / (np.percentile(loudness[:n], 80) + 1e-9), 0.0, 1.0)
    return track * ((1.0 - share) + share * level)


def _phoneme_track(timeline: SpeechTimeline, table: dict[str, float], smoothing: float, default: float = 0.0,
                   sounding: float | None = None) -> np.ndarray:
    """A control's weight at TRACK_RATE over the reply: `default` where nothing is said, each
    phoneme's table value (or `sounding` for every letter) where it is, smoothed."""
    n = int(math.ceil(timeline.duration * TRACK_RATE)) + 1
    track = np.full(n, default, np.float32)
    previous = default
    for p in timeline.phonemes:
        if p.symbol in _CONTINUE:
            value = previous
        elif sounding is not None:
            value = sounding if p.symbol.isalpha() else default
        else:
            value = table.get(p.symbol, 0.0)
        previous = value
        track[int(p.start * TRACK_RATE):math.ceil(p.end * TRACK_RATE)] = value
    return _smooth(track, max(1.0, smoothing * TRACK_RATE))


class IdleLife:
    """Blinks at natural irregular intervals, glances away and back, breathing and a slow head
    drift: functions of the session clock, the same for a given seed."""

    GLANCE_MOVE = 0.05  # seconds a saccade takes

    def __init__(self, config: FaceConfig, span: float, seed: int) -> None:
        self.config = config
        rng = np.random.default_rng(seed)
        self.blinks = _gamma_times(rng, span, config.blink_every, 1.2, 0.8)
        starts = _gamma_times(rng, span, config.gaze_every, 1.0, 1.5)
        holds = rng.uniform(0.4, 1.4, len(starts))
        self.glances = np.stack([starts, starts + holds], axis=1) if len(starts) else np.zeros((0, 2))
        self.directions = np.stack([rng.uniform(-1.0, 1.0, len(starts)), rng.uniform(-0.4, 0.6, len(starts))], axis=1)

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

    def gaze(self, t: float) -> tuple[float, float]:
        """(x, y) weights of the eyes' direction: at the viewer, except during a glance."""
        i = int(np.searchsorted(self.glances[:, 0], t, side="right")) - 1
        if i < 0:
            return 0.0, 0.0
        start, end = self.glances[i]
        going = min(max((t - start) / self.GLANCE_MOVE, 0.0), 1.0)
        back = min(max((end + self.GLANCE_MOVE - t) / self.GLANCE_MOVE, 0.0), 1.0)
        ramp = going * back
        return float(self.directions[i, 0] * ramp), float(self.directions[i, 1] * ramp)

    def head(self, t: float) -> tuple[float, float, float]:
        """(yaw, pitch) weights and roll in degrees: slow incommensurate sines (never looks looped);
        pitch also rises and falls with each breath."""
        amount, roll = self.config.head_motion, self.config.sway_degrees
        yaw = amount * (0.6 * math.sin(2 * math.pi * t / 7.1) + 0.4 * math.sin(2 * math.pi * t / 3.7 + 2.0))
        breath = math.sin(2 * math.pi * t / self.config.breath_seconds)
        pitch = amount * (0.5 * math.sin(2 * math.pi * t / 6.3 + 1.0) + 0.3 * breath)
        angle = roll * (0.7 * math.sin(2 * math.pi * t / 5.3) + 0.3 * math.sin(2 * math.pi * t / 2.9 + 1.0))
        return yaw, pitch, angle


def _gamma_times(rng: np.random.Generator, span: float, mean_gap: float, min_gap: float, first: float) -> np.ndarray:
    """Event moments with natural irregularity (gamma-distributed gaps)."""
    times, t = [], first
    while t < span:
        times.append(t)
        t += max(min_gap, rng.gamma(4.0, mean_gap / 4.0))
    return np.asarray(times, np.float32)
