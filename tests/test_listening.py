"""Hearing: real recordings, synthetic conversations with pauses and noise, silence, music, a 2-hour file."""

import json
import subprocess
import sys

import numpy as np
import pytest

import conversations as conv
from conftest import REPO, doppel, offline_env, wer
from assistant.messages import PartialTranscript, SpeechStarted, UserTurn
from assistant.vad import BLOCK

ALSA = {  # Debian alsa-utils' speaker-test clips: one real female voice
    "Front_Center": "front center", "Front_Left": "front left", "Front_Right": "front right",
    "Rear_Center": "rear center", "Rear_Left": "rear left", "Rear_Right": "rear right",
    "Side_Left": "side left", "Side_Right": "side right",
}
ALSA_DIR = "/usr/share/sounds/alsa"


def arctic_clip():
    from importlib.util import find_spec
    from pathlib import Path

    return Path(next(iter(find_spec("pysptk").submodule_search_locations))) / "example_audio_data" / "arctic_a0007.wav"


ARCTIC_TEXT = "And you always want to see it in the superlative degree."


@pytest.fixture(scope="module")
def listener_factory(config):
    from assistant.listener import make_listener

    first = make_listener(config, "en")  # loads Whisper once; each test gets a fresh listener on it

    def make():
        from assistant.listener import Listener
        from assistant.vad import SileroVad
        from assistant import models

        return Listener(SileroVad(models.resolve(config, "vad").path), first.transcriber, config.listen)

    return make


def events_for(listener, audio):
    blocks = [audio[i:i + BLOCK] for i in range(0, len(audio) - BLOCK + 1, BLOCK)]
    return list(listener.listen(blocks))


def test_alsa_clips_are_transcribed():
    errors = []
    for name, text in ALSA.items():
        run = doppel("transcribe", "--json", f"{ALSA_DIR}/{name}.wav")
        assert run.returncode == 0, run.stderr
        errors.append(wer(text, json.loads(run.stdout)["text"]))
    assert np.mean(errors) <= 0.25, errors


def test_noise_clip_gives_no_transcript():
    run = doppel("transcribe", "--json", f"{ALSA_DIR}/Noise.wav")
    assert run.returncode == 0 and json.loads(run.stdout)["text"] == ""


def test_arctic_clip_with_segments_and_language():
    run = doppel("transcribe", "--json", "--model", "base", str(arctic_clip()))
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["language"] == "en"
    assert wer(ARCTIC_TEXT, result["text"]) <= 0.15
    first, last = result["segments"][0], result["segments"][-1]
    assert 0 <= first["start"] < 0.6 and 3.0 < last["end"] <= result["duration"] + 0.01


@pytest.fixture(scope="module")
def piper_voice(config):
    from piper import PiperVoice
    from assistant import models

    return PiperVoice.load(models.resolve(config, "tts_voice").path)


VOICES = {"piper": lambda voice: (lambda t: conv.piper_say(t, voice)), "espeak": lambda voice: conv.espeak_say}


@pytest.mark.parametrize("snr", [None, 20, 10])
@pytest.mark.parametrize("voice_name", ["piper", "espeak"])
def test_endpointing_finds_every_turn_none_split_none_merged(listener_factory, piper_voice, voice_name, snr):
    conversation = conv.build(VOICES[voice_name](piper_voice), mid_pause=0.6, gap=2.0, snr_db=snr)
    turns = [e for e in events_for(listener_factory(), conversation.audio) if isinstance(e, UserTurn)]
    assert len(turns) == len(conversation.turns), [t.text for t in turns]
    for found, (start, end, text) in zip(turns, conversation.turns):
        # each found turn covers its true turn: not split at the 0.6 s pause, not merged with the next
        assert found.start <= start + 0.1 and found.end >= end - 0.15, (found, text)
        assert found.end < end + 1.0
    if snr is None or snr >= 20:
        assert np.mean([wer(t[2], f.text) for f, t in zip(turns, conversation.turns)]) <= 0.25


def test_partials_grow_and_the_final_is_ready_when_the_turn_ends(listener_factory, piper_voice):
    speech = conv.piper_say("I would like to hear a long story about a brave little dog.", piper_voice)
    audio = np.concatenate([np.zeros(8000, np.float32), speech, np.zeros(24000, np.float32)])
    events = events_for(listener_factory(), audio)
    kinds = [type(e) for e in events]
    assert kinds[0] is SpeechStarted and kinds[-1] is UserTurn
    partials = [e for e in events if isinstance(e, PartialTranscript)]
    assert len(partials) >= 3
    stable = [len(p.stable.split()) for p in partials]
    assert stable == sorted(stable) and stable[-1] >= 3  # the agreed prefix only grows
    final = events[-1]
    assert final.decided - final.end <= 0.4  # a complete sentence ends the turn quickly
    assert final.final_latency < 0.05  # the pause decode already is the final transcript


def test_pre_roll_keeps_the_first_syllable(listener_factory, piper_voice):
    speech = conv.piper_say("Banana bread is delicious.", piper_voice)
    audio = np.concatenate([np.zeros(16000, np.float32), speech, np.zeros(24000, np.float32)])
    final = [e for e in events_for(listener_factory(), audio) if isinstance(e, UserTurn)][0]
    assert final.text.lower().startswith("banana")


def test_silence_only_gives_nothing(listener_factory):
    quiet = np.random.default_rng(1).normal(0, 0.001, 16000 * 20).astype(np.float32)
    assert events_for(listener_factory(), quiet) == []


def music(seconds: float, seed: int = 3) -> np.ndarray:
    """A synthetic tune: chords of harmonic tones with an envelope per note, plus a soft drum."""
    rng = np.random.default_rng(seed)
    sr, out = 16000, []
    for _ in range(int(seconds / 0.25)):
        t = np.arange(int(0.25 * sr)) / sr
        root = 220 * 2 ** (rng.integers(0, 12) / 12)
        note = sum(np.sin(2 * np.pi * root * r * k * t) / k for r in (1, 1.25, 1.5) for k in (1, 2, 3))
        note *= np.exp(-4 * t)
        note += 0.3 * rng.normal(0, 1, len(t)) * np.exp(-40 * t)
        out.append(note)
    x = np.concatenate(out)
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


def test_music_only_gives_no_transcript(listener_factory):
    turns = [e for e in events_for(listener_factory(), music(30)) if isinstance(e, UserTurn)]
    assert turns == [], [t.text for t in turns]


def _peak_rss_mb(args) -> float:
    code = ("import resource, runpy, sys; sys.argv = ['doppel'] + sys.argv[1:];"
            "sys.exit_code = 0\ntry:\n runpy.run_module('assistant.cli', run_name='__main__')\nexcept SystemExit: pass\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, file=sys.stderr)")
    run = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO,
                         env=offline_env(), timeout=900)
    assert run.returncode == 0, run.stderr
    return float(run.stderr.strip().splitlines()[-1]), run.stdout


def test_a_two_hour_file_streams_in_bounded_memory(tmp_path, piper_voice):
    import soundfile as sf

    hello = conv.piper_say("Hello, is anybody there?", piper_voice)
    rng = np.random.default_rng(2)
    long_file, short_file = tmp_path / "two_hours.flac", tmp_path / "one_minute.flac"
    for path, minutes in ((long_file, 120), (short_file, 1)):
        with sf.SoundFile(path, "w", 16000, 1, subtype="PCM_16") as out:
            for minute in range(minutes):
                chunk = rng.normal(0, 0.002, 16000 * 60).astype(np.float32)
                if minute % 30 == 0:  # someone speaks every half hour
                    chunk[16000 * 10:16000 * 10 + len(hello)] += hello * 0.5
                out.write(chunk)
    long_rss, long_out = _peak_rss_mb(["transcribe", "--json", str(long_file)])
    short_rss, _ = _peak_rss_mb(["transcribe", "--json", str(short_file)])
    result = json.loads(long_out)
    assert result["duration"] > 7190
    assert result["text"].lower().count("anybody") == 4  # each half-hourly greeting, nothing else
    starts = sorted({round(s["start"] / 1800) for s in result["segments"]})
    assert starts == [0, 1, 2, 3] and all(abs(s["start"] % 1800 - 10) < 1.5 for s in result["segments"])
    assert long_rss - short_rss < 100, (long_rss, short_rss)  # 2 hours of float audio alone would be 460 MB
