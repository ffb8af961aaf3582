"""Voice enrollment: check a reference recording, fingerprint it, learn the conversion, save it.

Each check that fails says what to record instead. The consent recording (the person reading
CONSENT_SENTENCE) must come from the same speaker as the reference.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from assistant import models
from assistant.config import Config
from assistant.conversion import Prosody, VoiceMap, analyze, convert, f0_ceiling, mel_cepstra, warp_envelope
from assistant.voices import CALIBRATION
from assistant.errors import DoppelError
from assistant.messages import AudioClip
from assistant.sources import read_audio_file
from assistant.vad import BLOCK, SAMPLE_RATE, SileroVad
from persona.align import pair_frames
from persona.persona import load_persona, update_persona_file
from persona.speaker import MODEL_ID, SpeakerEncoder, cosine
from persona.voiceprint import FOLDER, Voiceprint

CONSENT_SENTENCE = "I agree that Doppel may learn my voice and speak with it."
WINDOW_SECONDS = 1.5  # speech per window when checking that one person speaks throughout
WARPS = np.round(np.arange(0.85, 1.31, 0.05), 2)
STRENGTHS = (1.0, 0.85, 0.7, 0.5)  # tried in turn until the check sentence stays intelligible
MAX_POOL = 4000  # of the person's frames kept for `nearest` (about 20 s at 5 ms)
# What each conversion must keep intelligible (about 40 words: one sentence alone was too noisy a test)
CHECK_SENTENCE = ("Would you like a cup of tea while we wait for the others? "
                  "The train to the city leaves at half past seven every morning. "
                  "I think we should paint the kitchen a warmer colour this spring. "
                  "Please remember to water the plants and feed the cat.")

# Other sentences, said in a fresh take, that a method must also keep clear before it is chosen.
CONFIRM_SENTENCE = ("My neighbour found a small brown dog sleeping under the garden bench. "
                    "Could you send me the photos from the wedding by Friday evening? "
                    "The library closes early on Sundays, so we should go before lunch.")

Report = Callable[[str], None]


@dataclass
class Speech:
    """A recording at 16 kHz (VAD, ECAPA, Whisper) and at the voice's rate (WORLD), with its speech."""

    samples: np.ndarray  # 16 kHz
    voice_rate_samples: np.ndarray
    mask: np.ndarray  # per VAD block: speech or not

    @property
    def speech_seconds(self) -> float:
        return float(self.mask.sum() * BLOCK / SAMPLE_RATE)

    def speech_only(self) -> np.ndarray:
        blocks = self.samples[: len(self.mask) * BLOCK].reshape(-1, BLOCK)
        return blocks[self.mask].reshape(-1)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_speech(path: Path, voice_rate: int, config: Config) -> Speech:
    clip = read_audio_file(path, SAMPLE_RATE)
    vad = SileroVad(models.resolve(config, "vad").path)
    usable = len(clip.samples) // BLOCK * BLOCK
    probs = np.array([vad(b) for b in clip.samples[:usable].reshape(-1, BLOCK)])
    voice = read_audio_file(path, voice_rate).samples
    return Speech(clip.samples, voice, probs >= config.listen.vad_threshold)


def check_reference(speech: Speech, path: Path, config: Config) -> None:
    """Refuse a recording that would make a poor voice, saying what to record instead."""
    settings = config.voice
    peak_share = float(np.mean(np.abs(speech.voice_rate_samples) >= 0.95))
    if peak_share > settings.max_clipped:
        raise DoppelError(f"{path.name} is clipped ({peak_share:.1%} of samples at full scale); "
                          "record again with the microphone gain lower")
    if speech.speech_seconds < 0.3:
        raise DoppelError(f"{path.name} holds no speech (silence, noise or music?); "
                          f"record yourself talking for {settings.min_speech_seconds:.0f}-30 seconds")
    if speech.speech_seconds < settings.min_speech_seconds:
        raise DoppelError(f"{path.name} holds only {speech.speech_seconds:.1f} s of speech; record at least "
                          f"{settings.min_speech_seconds:.0f} s (10-30 s makes a closer voice)")
    blocks = speech.samples[: len(speech.mask) * BLOCK].reshape(-1, BLOCK)
    rms = np.sqrt((blocks.astype(np.float64) ** 2).mean(axis=1)) + 1e-9
    if (~speech.mask).sum() >= 5:
        snr = 20 * np.log10(np.median(rms[speech.mask]) / np.percentile(rms[~speech.mask], 50))
        if snr < settings.min_snr_db:
            raise DoppelError(f"{path.name} is too noisy (about {snr:.0f} dB speech over noise); "
                              "record in a quieter room, closer to the microphone")


def check_one_speaker(encoder: SpeakerEncoder, speech: Speech, path: Path, config: Config) -> None:
    """Split the speech into windows; two clearly different groups of windows are two people."""
    samples = speech.speech_only()
    size = int(WINDOW_SECONDS * SAMPLE_RATE)
    windows = [samples[i:i + size] for i in range(0, len(samples) - size + 1, size)]
    if len(windows) < 4:
        return
    vectors = np.stack([encoder.embed(w) for w in windows])
    similarity = vectors @ vectors.T
    a, b = np.unravel_index(np.argmin(similarity), similarity.shape)  # the two least alike windows
    group = similarity[:, a] >= similarity[:, b]
    if min(group.sum(), (~group).sum()) < 2:
        return
    between = float(similarity[np.ix_(group, ~group)].mean())
    if between < config.voice.one_speaker_min_cosine:
        raise DoppelError(f"{path.name} seems to hold more than one voice (parts alike only {between:.2f}); "
                          "record the person alone")


def check_consent(encoder: SpeakerEncoder, reference: np.ndarray, consent_path: Path, config: Config,
                  transcribe: Callable[[np.ndarray], tuple[str, str]]) -> float:
    speech = read_speech(consent_path, SAMPLE_RATE, config)
    if speech.speech_seconds < 1.0:
        raise DoppelError(f"consent recording {consent_path.name} holds no clear speech; record the person "
                          f'saying: "{CONSENT_SENTENCE}"')
    similarity = cosine(encoder.embed(speech.speech_only()), reference)
    if similarity < config.voice.consent_threshold:
        raise DoppelError(f"the consent recording is not the voice of the reference (similarity {similarity:.2f} "
                          f"< {config.voice.consent_threshold}); enrollment refused: the person whose voice it "
                          "is must record the consent sentence")
    said = set(_words(transcribe(speech.samples)[0]))
    wanted = _words(CONSENT_SENTENCE)
    heard = sum(w in said for w in wanted) / len(wanted)
    if heard < config.voice.consent_words_min:
        raise DoppelError(f'the consent recording does not say the consent sentence ("{CONSENT_SENTENCE}"); '
                          "record it again, read aloud")
    return similarity


def _words(text: str) -> list[str]:
    return "".join(c.lower() if c.isalnum() or c == " " else " " for c in text).split()


def fit_voice_map(speech: Speech, segments: list[tuple[float, float, str]], speaker, config: Config,
                  report: Report) -> VoiceMap:
    """Piper says each transcribed segment; its frames are aligned with the person's (DTW)."""
    rate, frame_ms = speaker.sample_rate, config.voice.frame_ms
    ceiling = f0_ceiling(speaker.speak(CALIBRATION)[0].samples, rate)
    pairs, piper_f0, person_f0, person_envelopes = [], [], [], []
    for index, (start, end, text) in enumerate(segments):
        report(f"learning the voice: segment {index + 1}/{len(segments)}")
        cut = speech.voice_rate_samples[int(start * rate):int(end * rate)]
        if len(cut) < rate // 4 or not text.strip():
            continue
        person = analyze(cut, rate, frame_ms)
        piper = analyze(speaker.speak(text)[0].samples, rate, frame_ms, ceiling)
        person_f0.append(person.f0[person.voiced])
        piper_f0.append(piper.f0[piper.voiced])
        person_envelopes.append(person.log_envelope[person.voiced])
        found = pair_frames(person, piper)
        if found is not None:
            pairs.append(found)
    if not pairs:
        raise DoppelError("the reference's words could not be matched with the bundled voice; "
                          "record clear, continuous English sentences")
    joined = {name: np.concatenate([getattr(p, name) for p in pairs]) for name in vars(pairs[0])}
    log_p, log_t = np.log(np.concatenate(piper_f0)), np.log(np.concatenate(person_f0))
    warp, equalizer = _fit_warp(joined["source_envelopes"], joined["target_envelopes"])
    pool = np.concatenate(person_envelopes)[:: max(1, len(np.concatenate(person_f0)) // MAX_POOL + 1)]
    return VoiceMap(rate, frame_ms, "world", ceiling, (float(log_p.mean()), float(log_p.std())),
                    (float(log_t.mean()), float(log_t.std())), warp, equalizer.astype(np.float32),
                    joined["source_features"].astype(np.float32), joined["target_envelopes"].astype(np.float16),
                    joined["target_aperiodicity"].astype(np.float16),
                    (joined["target_envelopes"] - joined["source_envelopes"]).astype(np.float16), mel_cepstra(pool, rate).astype(np.float32),
                    pool.astype(np.float16), config.voice.neighbours)


def _fit_warp(source: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """The formant warp that best matches aligned frames once the average difference is removed."""
    best = None
    for warp in WARPS:
        warped = warp_envelope(source, float(warp))
        equalizer = (target - warped).mean(axis=0)
        error = float(((warped + equalizer - target) ** 2).mean())
        if best is None or error < best[0]:
            best = (error, float(warp), equalizer)
    return best[1], best[2]


def choose_method(vmap: VoiceMap, speaker, encoder: SpeakerEncoder, embedding: np.ndarray,
                  transcribe: Callable[[np.ndarray], tuple[str, str]], config: Config, report: Report) -> dict:
    """Convert check sentences with each method, at the strongest strength that stays intelligible,
    and keep the method most similar to the reference. Intelligible: what Whisper hears differs from
    what it hears in the unconverted piper audio by at most voice.max_check_wer (so Whisper's own
    slips and spellings, "colour"/"color", do not count against a method)."""
    import jiwer
    from scipy.signal import resample_poly

    def take(sentence: str) -> tuple[AudioClip, str]:
        """A fresh piper take of the sentence, and what Whisper hears in it unconverted."""
        clip, _ = speaker.speak(sentence)
        heard = _plain(transcribe(resample_poly(clip.samples, SAMPLE_RATE, clip.sample_rate).astype(np.float32))[0])
        return clip, heard or _plain(sentence)

    def check(method: str, strength: float, sample: tuple[AudioClip, str]) -> dict:
        report(f"comparing conversions: {method} at {strength:.0%}")
        clip, heard_plain = sample
        trial = replace(vmap, method=method, strength=strength)
        audio = convert(clip.samples, trial, Prosody(), clip.sample_rate, vmap.frame_ms, vmap.source_ceiling)
        audio16 = resample_poly(audio, SAMPLE_RATE, clip.sample_rate).astype(np.float32)
        return {"strength": strength, "similarity": cosine(encoder.embed(audio16), embedding),
                "wer": float(jiwer.wer(heard_plain, _plain(transcribe(audio16)[0])))}

    sample = take(CHECK_SENTENCE)
    scores = {"world": check("world", 1.0, sample)}
    for method in ("exemplar", "residual", "nearest"):
        for strength in STRENGTHS:
            scores[method] = check(method, strength, sample)
            if scores[method]["wer"] <= config.voice.max_check_wer:
                break
    # a stronger method must earn its risk to clarity: clearly more similar than `world`, and clear
    # again on other sentences in a fresh take (four sentences are only a sample)
    gain = scores["world"]["similarity"] + config.voice.min_similarity_gain
    candidates = sorted((m for m in scores if scores[m]["wer"] <= config.voice.max_check_wer
                         and scores[m]["similarity"] >= gain), key=lambda m: -scores[m]["similarity"])
    confirm = take(CONFIRM_SENTENCE) if candidates else None
    best = "world"
    for method in candidates:
        scores[method]["confirm_wer"] = check(method, scores[method]["strength"], confirm)["wer"]
        if scores[method]["confirm_wer"] <= config.voice.max_check_wer:
            best = method
            break
    vmap.method = best
    vmap.strength = scores[vmap.method]["strength"]
    return scores


def _plain(text: str) -> str:
    return " ".join(_words(text))


def enroll_voice(reference: Path, persona_folder: Path, config: Config, consent: Optional[Path],
                 report: Report) -> Voiceprint:
    """The whole enrollment; the persona folder is only written once everything has passed."""
    from assistant.asr import Transcriber
    from assistant.tts import PiperSpeaker

    if consent is None:
        raise DoppelError(f'enrollment needs consent: record the person saying "{CONSENT_SENTENCE}" '
                          "and pass it with --consent FILE")
    persona = load_persona(persona_folder)
    report("loading the voice models")
    speaker = PiperSpeaker(models.resolve(config, "tts_voice").path, 1.0, 0.0)
    speaker.load()
    speech = read_speech(reference, speaker.sample_rate, config)
    check_reference(speech, reference, config)
    encoder = SpeakerEncoder(models.resolve(config, "speaker").path)
    report("checking that one person speaks")
    check_one_speaker(encoder, speech, reference, config)
    embedding = encoder.embed(speech.speech_only())
    asr_config = config.model_copy(update={"models": config.models.model_copy(update={"asr": config.voice.enroll_asr})})
    transcriber = Transcriber(models.resolve(asr_config, "asr").path, config.asr, None)

    def transcribe(samples: np.ndarray) -> tuple[str, str]:
        decoded = transcriber.decode(samples)
        return decoded.text, decoded.language

    report("transcribing the reference")
    decoded = transcriber.decode(speech.samples)
    if not decoded.text:
        raise DoppelError(f"no words were recognized in {reference.name}; record clear speech, not music or noise")
    if transcriber.multilingual and decoded.language != persona.spec.language:
        raise DoppelError(f"{reference.name} is in '{decoded.language}', but the voice speaks "
                          f"'{persona.spec.language}'; record the reference in that language")
    report("checking consent")
    check_consent(encoder, embedding, consent, config, transcribe)
    vmap = fit_voice_map(speech, [(s.start, s.end, s.text) for s in decoded.segments], speaker, config, report)
    checks = {}
    if config.voice.method == "auto":
        checks = choose_method(vmap, speaker, encoder, embedding, transcribe, config, report)
    else:
        vmap.method = config.voice.method
    voiceprint = Voiceprint(MODEL_ID, _sha256(reference), speech.speech_seconds, decoded.text, embedding, vmap,
                            checks)
    _store(reference, persona_folder, voiceprint)
    return voiceprint


def _store(reference: Path, persona_folder: Path, voiceprint: Voiceprint) -> None:
    folder = Path(persona_folder) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / f"reference{reference.suffix.lower() or '.wav'}"
    if reference.resolve() != kept.resolve():
        shutil.copyfile(reference, kept)
    voiceprint.save(persona_folder)
    update_persona_file(persona_folder, {"voice": {"reference": f"{FOLDER}/{kept.name}"}})
