"""Voice backends behind one interface (assistant.tts.Voice), chosen by tts.backend:

- `clone`: piper, then conversion towards the persona's enrolled voice (plain piper until one is enrolled);
- `piper`: the bundled or configured piper voice, no cloning;
- `http`: any OpenAI-compatible `/v1/audio/speech` server (a neural cloner on a GPU box, or `doppel serve`).

All of them follow the tagged emotion (rate, pitch, loudness) and the live speech-rate setting.
"""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Optional

import numpy as np

from assistant import models
from assistant.config import Config
from assistant.conversion import Prosody, VoiceMap, convert, f0_ceiling
from assistant.errors import DoppelError
from assistant.messages import AudioClip, Phoneme
from assistant.tts import PiperSpeaker
from persona.persona import Persona


CALIBRATION = "We were away a year ago, and now we are home again."  # mostly voiced


def emotion_prosody(config: Config, emotion: str, intensity: float) -> tuple[float, Prosody]:
    """(speaking-rate factor, prosody) for an emotion at an intensity, scaled by voice.emotion_prosody."""
    shape = config.prosody.get(emotion)
    if shape is None:
        return 1.0, Prosody()
    weight = float(np.clip(intensity, 0.0, 1.0)) * config.voice.emotion_prosody

    def towards(value: float) -> float:
        return 1.0 + (value - 1.0) * weight

    return towards(shape.rate), Prosody(towards(shape.pitch), towards(shape.range), shape.energy_db * weight)


class ConvertedVoice:
    """Piper speaks; WORLD changes the voice (when a map is given) and the prosody, same length."""

    def __init__(self, config: Config, piper: PiperSpeaker, vmap: Optional[VoiceMap]) -> None:
        self.config, self.piper, self.vmap = config, piper, vmap
        self.rate = config.tts.rate  # the speech-rate setting; the CLI may change it live
        self.ceiling = vmap.source_ceiling if vmap is not None else 0.0

    @property
    def sample_rate(self) -> int:
        return self.piper.sample_rate

    def load(self) -> None:
        self.piper.load()

    def speak(self, text: str, emotion: str = "neutral", intensity: float = 0.0) -> tuple[AudioClip, tuple[Phoneme, ...]]:
        speed, prosody = emotion_prosody(self.config, emotion, intensity)
        clip, phonemes = self.piper.speak(text, self.rate * speed)
        if self.vmap is None and prosody.neutral:
            return clip, phonemes
        if not self.ceiling:  # once, when first needed: the F0 range this voice's sentences are analysed in
            self.ceiling = f0_ceiling(self.piper.speak(CALIBRATION)[0].samples, self.piper.sample_rate)
        frame_ms = self.vmap.frame_ms if self.vmap is not None else self.config.voice.frame_ms
        audio = convert(clip.samples, self.vmap, prosody, clip.sample_rate, frame_ms, self.ceiling)
        return AudioClip(np.clip(audio, -1.0, 1.0), clip.sample_rate), phonemes


class HttpVoice:
    """An OpenAI-compatible speech server. It sends no phoneme timings, so the face follows the
    loudness of the audio instead (open on sound, closed in silence)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.rate = config.tts.rate
        self.sample_rate = 0

    def load(self) -> None:
        if not self.sample_rate:
            self.sample_rate = self._request("Hello.", 1.0).sample_rate  # also checks the server is there

    def speak(self, text: str, emotion: str = "neutral", intensity: float = 0.0) -> tuple[AudioClip, tuple[Phoneme, ...]]:
        speed, _ = emotion_prosody(self.config, emotion, intensity)
        clip = self._request(text, self.rate * speed)
        return clip, loudness_phonemes(clip)

    def _request(self, text: str, speed: float) -> AudioClip:
        import httpx
        import soundfile

        tts = self.config.tts
        url = tts.http_url.rstrip("/") + "/audio/speech"
        body = {"model": tts.http_model, "voice": tts.http_voice, "input": text, "response_format": "wav",
                "speed": round(speed, 3)}
        try:
            response = httpx.post(url, json=body, timeout=tts.http_timeout)
        except httpx.HTTPError as exc:
            raise DoppelError(f"tts.http_url: cannot reach {url} ({type(exc).__name__}); start the server "
                              "(e.g. `doppel serve`) or set tts.backend: clone") from None
        if response.status_code != 200:
            raise DoppelError(f"the speech server at {url} answered {response.status_code}: "
                              f"{response.text[:120]}; check tts.http_model and tts.http_voice")
        try:
            samples, rate = soundfile.read(io.BytesIO(response.content), dtype="float32", always_2d=True)
        except RuntimeError:
            raise DoppelError(f"the speech server at {url} sent audio that is not WAV; it must support "
                              "response_format=wav") from None
        return AudioClip(samples.mean(axis=1), rate)


def loudness_phonemes(clip: AudioClip, frame: float = 0.04) -> tuple[Phoneme, ...]:
    """Open-mouth 'a' where the audio is loud, closed '_' where it is quiet, per 40 ms."""
    hop = max(1, int(frame * clip.sample_rate))
    count = len(clip.samples) // hop
    if count == 0:
        return ()
    rms = np.sqrt((clip.samples[: count * hop].reshape(count, hop) ** 2).mean(axis=1))
    loud = rms > 0.15 * (np.percentile(rms, 95) + 1e-9)
    return tuple(Phoneme("a" if on else "_", i * frame, (i + 1) * frame) for i, on in enumerate(loud))


def make_voice(config: Config, persona: Persona, progress=None):
    """The configured backend, loaded and ready."""
    if config.tts.backend == "http":
        voice = HttpVoice(config)
    else:
        scale = config.tts.length_scale * persona.spec.voice.length_scale
        piper = PiperSpeaker(models.resolve(config, "tts_voice", progress).path, scale, config.tts.sentence_pause,
                             config.tts.seed)
        vmap = None
        if config.tts.backend == "clone":
            from persona.voiceprint import load_voiceprint

            voiceprint = load_voiceprint(persona.folder)
            if voiceprint is not None:
                method = voiceprint.vmap.method if config.voice.method == "auto" else config.voice.method
                vmap = replace(voiceprint.vmap, neighbours=config.voice.neighbours, method=method)
        voice = ConvertedVoice(config, piper, vmap)
    voice.load()
    if isinstance(voice, ConvertedVoice) and voice.vmap is not None and voice.vmap.rate != voice.sample_rate:
        raise DoppelError(f"the voice enrolled in {persona.folder} was learned for another piper voice "
                          f"({voice.vmap.rate} Hz); enroll it again with `doppel enroll`")
    return voice
