"""Voice conversion with the WORLD vocoder: piper's voice → the enrolled speaker's.

Every method keeps the number of samples (so piper's phoneme timings stay valid for the face):
WORLD analyses the piper audio into F0, a spectral envelope and aperiodicity, the method changes
them, and WORLD resynthesizes the same frames. Frames are compared by a mel-cepstrum computed with
one matrix product (fast enough to run per sentence).

Methods (compared in bench/voice.py; enrollment picks the best it can verify):
- `world`: F0 mapped by log mean/variance, the envelope warped along frequency (formants) and
  equalized to the person's average spectrum.
- `exemplar`: parallel frames made at enrollment (the person's words, piper saying the same words,
  aligned by DTW). Each piper frame is matched against piper's own aligned frames, which are in the
  same voice, so matching is reliable; the person's frames aligned to the k best matches replace it.
- `residual`: matched like `exemplar`, but piper's own envelope is kept and only the person-minus-piper
  difference of the matched pairs is added: a per-sound equalizer, clearer than replacing frames.
- `nearest`: each (warped, equalized) frame replaced by the person's k nearest frames.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

with warnings.catch_warnings():  # pyworld imports pkg_resources, which warns
    warnings.simplefilter("ignore")
    import pyworld

METHODS = ("world", "exemplar", "residual", "nearest")
MEL_BANDS, CEPSTRA = 40, 25


@dataclass
class Frames:
    """WORLD features of one recording, one row per frame."""

    f0: np.ndarray  # Hz, 0 where unvoiced
    log_envelope: np.ndarray  # (frames, bins) natural log of the power spectral envelope
    aperiodicity: np.ndarray  # (frames, bins)
    rate: int

    @property
    def voiced(self) -> np.ndarray:
        return self.f0 > 0

    def features(self) -> np.ndarray:
        """Mel-cepstra (frames, CEPSTRA); column 0 is log energy."""
        return mel_cepstra(self.log_envelope, self.rate)


def _f64(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=np.float64)


def f0_ceiling(samples: np.ndarray, rate: int) -> float:
    """The highest F0 to look for in this voice: 1.7x its median by Harvest. Without it DIO doubles
    some voices' pitch (on piper's joe it finds 158 Hz where Harvest, SWIPE and RAPT agree on ~105)."""
    f0, _ = pyworld.harvest(_f64(samples), rate, frame_period=10.0)
    return float(1.7 * np.median(f0[f0 > 0])) if (f0 > 0).any() else 500.0


def analyze(samples: np.ndarray, rate: int, frame_ms: float, ceiling: float | None = None) -> Frames:
    """WORLD analysis. With a ceiling: DIO (fast, for every sentence); without: Harvest (slow,
    robust, for a person's reference at enrollment)."""
    x = _f64(samples)
    if ceiling is None:
        f0, times = pyworld.harvest(x, rate, frame_period=frame_ms)
    else:
        f0, times = pyworld.dio(x, rate, frame_period=frame_ms, f0_floor=min(71.0, ceiling / 3), f0_ceil=ceiling)
        f0 = pyworld.stonemask(x, f0, times, rate)
    envelope = pyworld.cheaptrick(x, f0, times, rate)
    aperiodicity = pyworld.d4c(x, f0, times, rate)
    return Frames(f0, np.log(envelope + 1e-16), aperiodicity, rate)


def synthesize(frames: Frames, frame_ms: float, length: int) -> np.ndarray:
    audio = pyworld.synthesize(_f64(frames.f0), _f64(np.exp(frames.log_envelope)),
                               _f64(np.clip(frames.aperiodicity, 0.0, 1.0)), frames.rate, frame_ms)
    audio = audio[:length] if len(audio) >= length else np.pad(audio, (0, length - len(audio)))
    return audio.astype(np.float32)


@lru_cache(maxsize=4)
def _mel_dct(bins: int, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Triangular mel filters (bins, MEL_BANDS) and a DCT-II matrix (MEL_BANDS, CEPSTRA)."""
    def mel(hz):
        return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)

    edges = 700.0 * (10 ** (np.linspace(mel(60.0), mel(rate / 2 * 0.95), MEL_BANDS + 2) / 2595.0) - 1)
    hz = np.linspace(0, rate / 2, bins)
    filters = np.zeros((bins, MEL_BANDS))
    for band in range(MEL_BANDS):
        low, centre, high = edges[band:band + 3]
        filters[:, band] = np.clip(np.minimum((hz - low) / (centre - low), (high - hz) / (high - centre)), 0, None)
    n = np.arange(MEL_BANDS)
    dct = np.cos(np.pi / MEL_BANDS * (n[:, None] + 0.5) * np.arange(CEPSTRA)[None, :])
    return filters, dct


def mel_cepstra(log_envelope: np.ndarray, rate: int) -> np.ndarray:
    filters, dct = _mel_dct(log_envelope.shape[1], rate)
    return np.log(np.exp(log_envelope) @ filters + 1e-16) @ dct


@dataclass
class Prosody:
    """Changes on top of the voice: F0 level and range, loudness (speaking rate is piper's)."""

    pitch: float = 1.0  # F0 multiplier
    pitch_range: float = 1.0  # multiplier of log-F0 deviations around the sentence mean
    energy_db: float = 0.0

    @property
    def neutral(self) -> bool:
        return self.pitch == 1.0 and self.pitch_range == 1.0 and self.energy_db == 0.0


@dataclass
class VoiceMap:
    """What enrollment learned; saved in the persona folder (persona/voiceprint.py)."""

    rate: int
    frame_ms: float
    method: str  # the method enrollment chose by measurement
    source_ceiling: float  # the F0 ceiling used to analyse the piper voice (see f0_ceiling)
    source_logf0: tuple[float, float]  # piper's log-F0 mean and std
    target_logf0: tuple[float, float]  # the person's
    warp: float  # frequency warp of the envelope (>1 moves formants up)
    equalizer: np.ndarray  # (bins,) mean log-envelope difference person − warped piper
    source_pairs: np.ndarray  # (pairs, CEPSTRA) piper features of the parallel data
    target_pairs: np.ndarray  # (pairs, bins) the person's log envelopes aligned to them
    target_aperiodicity: np.ndarray  # (pairs, bins)
    pair_differences: np.ndarray  # (pairs, bins) person − piper log envelopes of the aligned pairs
    target_features: np.ndarray  # (frames, CEPSTRA) the person's voiced frames, for `nearest`
    target_frames: np.ndarray  # (frames, bins) their log envelopes
    neighbours: int = 8
    strength: float = 1.0  # share of the method's change; the rest is `world` (clearer)


def map_f0(f0: np.ndarray, vmap: VoiceMap | None, prosody: Prosody) -> np.ndarray:
    out = f0.copy()
    voiced = f0 > 0
    if not voiced.any():
        return out
    log = np.log(f0[voiced])
    if vmap is not None:
        (s_mean, s_std), (t_mean, t_std) = vmap.source_logf0, vmap.target_logf0
        log = (log - s_mean) / max(s_std, 1e-3) * t_std + t_mean
    mean = log.mean()
    out[voiced] = np.exp(mean + (log - mean) * prosody.pitch_range) * prosody.pitch
    return out


def warp_envelope(log_envelope: np.ndarray, factor: float) -> np.ndarray:
    """Stretch along frequency by `factor` (formants move up when > 1): one gather per frame row."""
    if factor == 1.0:
        return log_envelope
    bins = log_envelope.shape[1]
    source = np.clip(np.arange(bins) / factor, 0, bins - 1)
    low = np.floor(source).astype(int)
    high = np.minimum(low + 1, bins - 1)
    share = source - low
    return log_envelope[:, low] * (1 - share) + log_envelope[:, high] * share


def nearest(queries: np.ndarray, pool: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k nearest pool rows (Euclidean, energy column left out) for each query row."""
    q, p = queries[:, 1:], pool[:, 1:]
    distance = (q * q).sum(1)[:, None] + (p * p).sum(1)[None, :] - 2.0 * q @ p.T
    k = min(k, len(pool))
    return np.argpartition(distance, k - 1, axis=1)[:, :k]


def convert(samples: np.ndarray, vmap: VoiceMap | None, prosody: Prosody, rate: int, frame_ms: float,
            ceiling: float) -> np.ndarray:
    """Piper audio → converted audio of exactly the same length (ceiling: see f0_ceiling)."""
    if vmap is None and prosody.neutral:
        return samples.astype(np.float32)
    frames = analyze(samples, rate, frame_ms, ceiling)
    frames.f0 = map_f0(frames.f0, vmap, prosody)
    if vmap is not None:
        convert_envelope(frames, vmap, vmap.method)
    audio = synthesize(frames, frame_ms, len(samples))
    return audio * np.float32(10 ** (prosody.energy_db / 20))


def convert_envelope(frames: Frames, vmap: VoiceMap, method: str) -> None:
    loudness = np.log(np.exp(frames.log_envelope).sum(axis=1))
    shaped = warp_envelope(frames.log_envelope, vmap.warp) + vmap.equalizer  # the `world` envelope
    if method == "world":
        frames.log_envelope = shaped
    elif method == "exemplar":
        picks = nearest(frames.features(), vmap.source_pairs, vmap.neighbours)
        chosen = vmap.target_pairs[picks].astype(np.float64).mean(axis=1)
        frames.log_envelope = vmap.strength * chosen + (1 - vmap.strength) * shaped
        frames.aperiodicity = vmap.target_aperiodicity[picks].astype(np.float64).mean(axis=1)
    elif method == "residual":
        picks = nearest(frames.features(), vmap.source_pairs, vmap.neighbours)
        changed = frames.log_envelope + vmap.pair_differences[picks].astype(np.float64).mean(axis=1)
        frames.log_envelope = vmap.strength * changed + (1 - vmap.strength) * shaped
    elif method == "nearest":
        picks = nearest(mel_cepstra(shaped, frames.rate), vmap.target_features, vmap.neighbours)
        chosen = vmap.target_frames[picks].astype(np.float64).mean(axis=1)
        frames.log_envelope = vmap.strength * chosen + (1 - vmap.strength) * shaped
    else:
        raise ValueError(f"unknown conversion method {method}")
    # loudness follows piper's own contour, frame by frame
    frames.log_envelope += (loudness - np.log(np.exp(frames.log_envelope).sum(axis=1)))[:, None]
