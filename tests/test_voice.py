"""Voice enrollment, cloned synthesis, emotion prosody, the HTTP backend and `doppel serve`."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from assistant.conversion import METHODS
from conftest import doppel, free_port, offline_env, wait_for, wer
from voice_data import make_all

SENTENCE = "My brother fixed the broken bicycle on Thursday afternoon."


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    return make_all(tmp_path_factory.mktemp("voices"))


@pytest.fixture(scope="module")
def lenient(config):
    """ALSA's speaker cannot read our consent sentence: her held-out clips stand in, words unchecked."""
    from assistant.config import load_config

    return load_config(overrides=["voice.consent_words_min=0"])


@pytest.fixture(scope="module")
def enrolled(recordings, lenient, tmp_path_factory):
    from persona.enroll import enroll_voice

    folder = tmp_path_factory.mktemp("twin")
    steps = []
    voiceprint = enroll_voice(recordings["reference"], folder, lenient, recordings["held_out"], steps.append)
    return folder, voiceprint, steps


@pytest.fixture(scope="module")
def encoder(config):
    from assistant import models
    from persona.speaker import SpeakerEncoder

    return SpeakerEncoder(models.resolve(config, "speaker").path)


@pytest.fixture(scope="module")
def base_asr(config):
    from assistant import models
    from assistant.asr import Transcriber

    settings = config.model_copy(update={"models": config.models.model_copy(update={"asr": "base"})})
    return Transcriber(models.resolve(settings, "asr").path, config.asr, "en")


def _embed_file(encoder, path: Path) -> np.ndarray:
    from assistant.sources import read_audio_file

    return encoder.embed(read_audio_file(path).samples)


def test_enrollment_stores_a_fingerprint_and_a_voice_map(enrolled):
    from persona.persona import load_persona
    from persona.voiceprint import load_voiceprint

    folder, voiceprint, steps = enrolled
    assert voiceprint.speech_seconds >= 3.0
    assert "front" in voiceprint.transcript.lower()
    stored = load_voiceprint(folder)
    assert stored.model_id == "speechbrain/spkrec-ecapa-voxceleb"
    assert np.allclose(stored.embedding, voiceprint.embedding)
    assert stored.vmap.method in METHODS and set(stored.checks) == set(METHODS)
    assert load_persona(folder).voice_reference == folder / "voice" / "reference.wav"
    assert any("learning the voice" in s for s in steps)  # progress was shown


def test_the_fingerprint_tells_her_from_impostors(enrolled, recordings, encoder, config, tmp_path):
    """Held-out clips of the enrolled speaker score above the consent threshold; espeak and piper below."""
    from assistant import models
    from assistant.tts import PiperSpeaker
    from persona.speaker import cosine
    from scipy.signal import resample_poly

    _, voiceprint, _ = enrolled
    genuine = cosine(_embed_file(encoder, recordings["held_out"]), voiceprint.embedding)
    piper = PiperSpeaker(models.resolve(config, "tts_voice").path, 1.0, 0.1)
    clip, _ = piper.speak(SENTENCE)
    impostors = [cosine(_embed_file(encoder, recordings["impostor_consent"]), voiceprint.embedding),
                 cosine(encoder.embed(resample_poly(clip.samples, 16000, clip.sample_rate).astype(np.float32)),
                        voiceprint.embedding)]
    assert genuine >= config.voice.consent_threshold > max(impostors), (genuine, impostors)


def test_consent_by_another_speaker_is_refused_and_nothing_is_written(recordings, tmp_path):
    folder = tmp_path / "twin"
    run = doppel("enroll", str(recordings["reference"]), "--persona", str(folder),
                 "--consent", str(recordings["impostor_consent"]))
    assert run.returncode == 2, run.stderr
    assert "not the voice of the reference" in run.stderr and "Traceback" not in run.stderr
    assert not (folder / "voice" / "voiceprint.json").exists()


def test_enrollment_without_consent_says_what_to_record(recordings, tmp_path):
    run = doppel("enroll", str(recordings["reference"]), "--persona", str(tmp_path / "twin"))
    assert run.returncode == 2 and "I agree that Doppel may learn my voice" in run.stderr


@pytest.mark.parametrize("name, message", [
    ("one_second", "only"), ("silence", "no speech"), ("music", "no speech"), ("two_speakers", "more than one voice"),
    ("clipped", "clipped"), ("corrupt", "cannot read audio file"), ("german", "is in 'de'"),
])
def test_bad_references_are_refused_with_what_to_record(recordings, lenient, tmp_path, name, message):
    from assistant.errors import DoppelError
    from persona.enroll import enroll_voice

    with pytest.raises(DoppelError, match=message):
        enroll_voice(recordings[name], tmp_path / "twin", lenient, recordings["held_out"], lambda _: None)
    assert not (tmp_path / "twin" / "voice").exists()


def test_an_8_bit_stereo_44k_file_enrolls(recordings, lenient, tmp_path):
    from persona.enroll import enroll_voice

    voiceprint = enroll_voice(recordings["odd_format"], tmp_path / "twin", lenient, recordings["held_out"],
                              lambda _: None)
    assert voiceprint.speech_seconds >= 3.0


@pytest.mark.parametrize("method", METHODS)
def test_converted_speech_keeps_words_duration_and_timings(enrolled, lenient, base_asr, method):
    """Conversion works on piper's audio in place: same samples count, so piper's timings still hold."""
    from assistant.conversion import Prosody, convert
    from assistant.voices import make_voice
    from persona.persona import load_persona
    from scipy.signal import resample_poly

    folder, _, _ = enrolled
    voice = make_voice(lenient, load_persona(folder))
    chosen = voice.vmap.method
    vmap = replace(voice.vmap, method=method)
    plain, phonemes = voice.piper.speak(SENTENCE)
    audio = convert(plain.samples, vmap, Prosody(), plain.sample_rate, vmap.frame_ms, vmap.source_ceiling)
    assert len(audio) == len(plain.samples) and not np.allclose(audio, plain.samples)
    assert phonemes[-1].end <= len(audio) / plain.sample_rate + 1e-6
    assert all(a.end <= b.start + 1e-9 for a, b in zip(phonemes, phonemes[1:]))
    heard = base_asr.decode(resample_poly(audio, 16000, plain.sample_rate).astype(np.float32)).text
    # world keeps piper's clarity; the chosen method passed a clarity check at enrollment (one sentence
    # varies with piper's random phrasing: bench/voice.py measures WER over a set); others may trade it
    limits = {"world": 0.25, chosen: 0.34}
    if method in limits:
        assert wer(SENTENCE, heard) <= limits[method], heard
    clip, said = voice.speak(SENTENCE)  # the whole voice: its timings match its audio
    assert said[-1].end <= clip.duration + 1e-6


def test_emotion_changes_rate_pitch_and_loudness(lenient):
    from assistant.conversion import analyze, convert, map_f0
    from assistant.voices import emotion_prosody, make_voice
    from persona.persona import load_persona

    voice = make_voice(lenient.model_copy(update={"tts": lenient.tts.model_copy(update={"backend": "piper"})}),
                       load_persona(None))

    def length(emotion):  # piper's phrasing is random (about ±5%): the median of three takes
        return np.median([voice.speak(SENTENCE, emotion, 1.0)[0].duration for _ in range(3)])

    usual = length("neutral")
    assert length("sad") > usual and length("sad") > 1.05 * length("happy")
    voice.speak(SENTENCE, "sad", 1.0)  # the voice learns its F0 range on first use
    take, _ = voice.piper.speak(SENTENCE)  # pitch and loudness: one take, with and without the emotion

    def shaped(emotion):
        return convert(take.samples, None, emotion_prosody(lenient, emotion, 1.0)[1], take.sample_rate, 5.0,
                       voice.ceiling)

    contour = analyze(take.samples, take.sample_rate, 5.0, voice.ceiling).f0  # the range, on the contour WORLD resynthesizes
    # F0 estimators disagree by octaves on resynthesized speech, so pitch is checked on the contour
    # WORLD synthesizes from
    mapped = {e: np.log(map_f0(contour, None, emotion_prosody(lenient, e, 1.0)[1])[contour > 0])
              for e in ("neutral", "surprised", "sad")}
    assert np.median(mapped["surprised"]) > np.median(mapped["neutral"]) > np.median(mapped["sad"])
    assert mapped["surprised"].std() > mapped["neutral"].std() > mapped["sad"].std()
    assert np.sqrt(np.mean(shaped("sad") ** 2)) < np.sqrt(np.mean(take.samples ** 2))
    voice.rate = 1.5  # the live speech-rate setting
    assert length("neutral") < 0.8 * usual


@pytest.fixture(scope="module")
def served(enrolled):
    folder, _, _ = enrolled
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--persona", str(folder),
                                "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env=offline_env(NO_PROXY="127.0.0.1,localhost"))
    url = f"http://127.0.0.1:{port}/v1"
    wait_for(f"{url}/models", process, "doppel serve", seconds=120)
    yield url
    process.terminate()
    process.wait(timeout=10)


def test_serve_speaks_the_cloned_voice_over_the_openai_api(served, base_asr):
    import io

    import httpx
    import soundfile as sf
    from scipy.signal import resample_poly

    response = httpx.post(f"{served}/audio/speech", json={"model": "tts-1", "voice": "doppel", "input": SENTENCE,
                                                          "response_format": "wav"}, timeout=60)
    assert response.status_code == 200 and response.headers["content-type"] == "audio/wav"
    samples, rate = sf.read(io.BytesIO(response.content), dtype="float32")
    # the cloned voice at the strength enrollment chose: one sentence may lose a word or two (see above)
    assert wer(SENTENCE, base_asr.decode(resample_poly(samples, 16000, rate).astype(np.float32)).text) <= 0.34
    assert httpx.post(f"{served}/audio/speech", json={"input": ""}, timeout=10).status_code == 422


def test_the_http_backend_drives_say_end_to_end(served, tmp_path, base_asr):
    from conftest import read_video

    out = tmp_path / "http.mp4"
    run = doppel("say", SENTENCE, "--out", str(out), "--no-window", "--set", "tts.backend=http",
                 "--set", f"tts.http_url={served}", offline=False, NO_PROXY="127.0.0.1,localhost")
    assert run.returncode == 0, run.stderr
    frames, audio = read_video(out)
    # Whisper base, as everywhere for converted speech: tiny.en stumbles on it more often
    assert len(frames) > 25 and wer(SENTENCE, base_asr.decode(audio).text) <= 0.34


def test_an_unreachable_speech_server_is_one_clear_line():
    run = doppel("say", "Hello", "--no-window", "--set", "tts.backend=http", "--set", "tts.http_url=http://127.0.0.1:9/v1",
                 offline=False, NO_PROXY="127.0.0.1,localhost")
    assert run.returncode == 2 and "cannot reach" in run.stderr and "Traceback" not in run.stderr


def test_typed_lines_are_spoken_at_once_and_the_rate_changes_live(enrolled):
    folder, _, _ = enrolled
    run = subprocess.run([sys.executable, "-m", "assistant.cli", "say", "-", "--no-window", "--persona", str(folder)],
                         input="Hello there, nice to meet you.\n/rate 1.5\nThe same words, faster.\n/rate fast\n",
                         capture_output=True, text=True, env=offline_env(), timeout=300)
    assert run.returncode == 0, run.stderr
    spoken = [line for line in run.stderr.splitlines() if line.startswith("spoken in")]
    assert len(spoken) == 2 and "speech rate 1.50" in run.stderr and "commands: /rate NUMBER" in run.stderr


def test_a_tts_seed_makes_takes_repeatable(config):
    """Piper samples noise for each take; with tts.seed the same text gives the same audio."""
    from assistant import models
    from assistant.tts import PiperSpeaker

    def take(seed):
        return PiperSpeaker(models.resolve(config, "tts_voice").path, 1.0, 0.1, seed).speak(SENTENCE)[0].samples

    first, again, other = take(5), take(5), take(6)
    assert np.array_equal(first, again)
    assert len(first) != len(other) or not np.array_equal(first, other)
