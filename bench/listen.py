"""Benchmark hearing: ASR speed and accuracy, endpointing, final-transcript latency, idle CPU, barge-in.

    python bench/listen.py [--runs 3]

Writes bench/listen.json and the LISTEN section of bench/README.md.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
from common import arguments, meta, save  # noqa: E402

import numpy as np  # noqa: E402

import conversations as conv  # noqa: E402
import echo_sim  # noqa: E402
from assistant import models  # noqa: E402
from assistant.bargein import BargeInDetector  # noqa: E402
from assistant.config import load_config  # noqa: E402
from assistant.listener import Listener, make_listener  # noqa: E402
from assistant.messages import UserTurn  # noqa: E402
from assistant.sources import read_audio_file  # noqa: E402
from assistant.vad import BLOCK, SileroVad  # noqa: E402
from test_bargein import REPLY  # noqa: E402
from test_listening import ALSA, ALSA_DIR, ARCTIC_TEXT, arctic_clip  # noqa: E402
from conftest import wer  # noqa: E402


def blocks_of(audio):
    return [audio[i:i + BLOCK] for i in range(0, len(audio) - BLOCK + 1, BLOCK)]


def asr_speed_and_accuracy(config, runs: int) -> dict:
    recordings = [(read_audio_file(f"{ALSA_DIR}/{name}.wav"), text) for name, text in ALSA.items()]
    recordings.append((read_audio_file(arctic_clip()), ARCTIC_TEXT))
    out = {}
    for model in ("tiny.en", "base"):
        listener = make_listener(load_config(overrides=[f"models.asr={model}"]), "en")
        rtf, errors = [], []
        for _ in range(runs):
            began, seconds = time.perf_counter(), 0.0
            for clip, _text in recordings:
                listener.transcriber.decode(clip.samples)
                seconds += clip.duration
            rtf.append((time.perf_counter() - began) / seconds)
        for clip, text in recordings:
            errors.append(wer(text, listener.transcriber.decode(clip.samples).text))
        out[model] = {"rtf": statistics.median(rtf), "wer_recordings": float(np.mean(errors))}
    return out


def endpointing(config, voice) -> dict:
    base = make_listener(config, "en")
    results = {}
    for name, say in (("piper", lambda t: conv.piper_say(t, voice)), ("espeak", conv.espeak_say)):
        for snr in (None, 20, 10):
            conversation = conv.build(say, mid_pause=0.6, gap=2.0, snr_db=snr)
            listener = Listener(SileroVad(models.resolve(config, "vad").path), base.transcriber, config.listen)
            turns = [e for e in listener.listen(blocks_of(conversation.audio)) if isinstance(e, UserTurn)]
            matched = len(turns) == len(conversation.turns)
            results[f"{name} {'clean' if snr is None else f'{snr} dB'}"] = {
                "turns": len(turns), "true_turns": len(conversation.turns),
                "false_end_of_turn": max(0, len(turns) - len(conversation.turns)),
                "decision_delay_median": statistics.median(t.decided - t.end for t in turns),
                "final_latency_median_ms": 1000 * statistics.median(t.final_latency for t in turns),
                "wer": float(np.mean([wer(c[2], t.text) for t, c in zip(turns, conversation.turns)])) if matched else None,
            }
    return results


def final_latency(config, voice, runs: int) -> dict:
    """A 3-second utterance: time from the end-of-turn decision to the final transcript, against
    what decoding the whole utterance at that moment would cost (no streaming)."""
    speech = conv.piper_say("Could you please tell me how to get to the train station from here?", voice)
    audio = np.concatenate([np.zeros(8000, np.float32), speech, np.zeros(24000, np.float32)])
    listener = make_listener(config, "en")
    streaming, whole = [], []
    for _ in range(runs):
        fresh = Listener(SileroVad(models.resolve(config, "vad").path), listener.transcriber, config.listen)
        turn = [e for e in fresh.listen(blocks_of(audio)) if isinstance(e, UserTurn)][0]
        streaming.append(turn.final_latency)
        began = time.perf_counter()
        listener.transcriber.decode(speech)
        whole.append(time.perf_counter() - began)
    return {"utterance_seconds": len(speech) / 16000, "final_latency_ms": 1000 * statistics.median(streaming),
            "decode_whole_utterance_ms": 1000 * statistics.median(whole)}


def idle_cpu(config, seconds: float = 20.0) -> dict:
    """CPU of VAD + noise suppression + capture while nobody speaks, on the real microphone path
    (PulseAudio null sink) when PulseAudio runs here, else on a real-time paced file."""
    from assistant.sources import FileSource, MicrophoneSource

    listener = make_listener(config, "en")
    try:
        source, path = MicrophoneSource(config.audio), "microphone"
    except Exception:
        quiet = tempfile.NamedTemporaryFile(suffix=".wav", delete=False).name
        import soundfile as sf

        sf.write(quiet, np.random.default_rng(0).normal(0, 0.002, int(16000 * seconds)).astype(np.float32), 16000)
        source, path = FileSource(quiet, realtime=True), "real-time file"
    blocks = source.blocks()
    opened = time.perf_counter()
    for block in blocks:  # opening the device is a one-time cost: measure the steady state
        listener.feed(block)
        if time.perf_counter() - opened >= 1.5:
            break
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for block in blocks:
        listener.feed(block)
        if time.perf_counter() - wall0 >= seconds:
            break
    source.close()
    return {"path": path, "cpu_percent_of_one_core": 100 * (time.process_time() - cpu0) / (time.perf_counter() - wall0)}


def barge_in(config, voice) -> dict:
    reply = np.concatenate([conv.piper_say(t, voice) for t in REPLY])
    people = [conv.espeak_say("Wait, stop, I have a question.", "en-us+f3"),
              conv.espeak_say("Hold on a second.", "en-us+m3"),
              conv.piper_say("Excuse me, can I ask something?", voice)]
    vad_path = models.resolve(config, "vad").path

    def fire(mic, far):
        detector = BargeInDetector(SileroVad(vad_path), config.barge_in)
        for i in range(0, len(mic) - BLOCK + 1, BLOCK):
            if detector.feed(mic[i:i + BLOCK], far[i:i + BLOCK])[0]:
                return (i + BLOCK) / 16000
        return None

    out = {}
    minutes = 5 * len(reply) / 16000 / 60
    for echo_db in (0, 6, 12):
        false_aec = sum(fire(echo_sim.mix(reply, None, echo_db, 0, seed=s), reply) is not None for s in range(5))
        false_raw = sum(fire(echo_sim.mix(reply, None, echo_db, 0, seed=s), np.zeros_like(reply)) is not None
                        for s in range(5))
        delays = []
        for person in people:
            onset_speech = np.flatnonzero(np.abs(person) > 0.05 * np.abs(person).max())[0] / 16000
            for onset in (2.5, 4.0, 5.5, 7.0):
                fired = fire(echo_sim.mix(reply, person, echo_db, onset), reply)
                delays.append(None if fired is None else fired - onset - onset_speech)
        caught = [d for d in delays if d is not None and d >= 0]
        out[f"echo {echo_db:+d} dB"] = {
            "false_per_minute_with_aec": false_aec / minutes, "false_per_minute_without_aec": false_raw / minutes,
            "detect_median_s": statistics.median(caught) if caught else None,
            "detect_max_s": max(caught) if caught else None,
            "within_300ms": f"{sum(d <= 0.3 for d in caught)}/{len(delays)}",
        }
    return out


def table(r: dict) -> str:
    lines = ["| ASR model | real-time factor | WER (ALSA + ARCTIC recordings) |", "|---|---|---|"]
    lines += [f"| {m} | {v['rtf']:.3f} | {v['wer_recordings']:.3f} |" for m, v in r["asr"].items()]
    lines += ["", "| conversation (8 turns, 600 ms mid-sentence pauses) | turns found | false end-of-turn | "
              "end-of-turn decision after speech (median s) | final transcript after decision (median ms) | WER |",
              "|---|---|---|---|---|---|"]
    for name, v in r["endpointing"].items():
        w = "–" if v["wer"] is None else f"{v['wer']:.2f}"
        lines.append(f"| {name} | {v['turns']}/{v['true_turns']} | {v['false_end_of_turn']} | "
                     f"{v['decision_delay_median']:.2f} | {v['final_latency_median_ms']:.1f} | {w} |")
    f = r["final_latency"]
    lines += ["", f"Final transcript latency, {f['utterance_seconds']:.1f} s utterance, tiny.en: "
              f"**{f['final_latency_ms']:.1f} ms** after the end-of-turn decision (decoding the whole utterance "
              f"then would take {f['decode_whole_utterance_ms']:.0f} ms).",
              f"Idle listening ({r['idle']['path']}): **{r['idle']['cpu_percent_of_one_core']:.1f}%** of one core.", "",
              "| barge-in: Doppel's echo vs the person | false barge-ins/min (AEC) | without AEC | "
              "detection median s | max s | within 300 ms |", "|---|---|---|---|---|---|"]
    for name, v in r["barge_in"].items():
        med = "–" if v["detect_median_s"] is None else f"{v['detect_median_s']:.2f}"
        mx = "–" if v["detect_max_s"] is None else f"{v['detect_max_s']:.2f}"
        lines.append(f"| {name} | {v['false_per_minute_with_aec']:.1f} | {v['false_per_minute_without_aec']:.1f} | "
                     f"{med} | {mx} | {v['within_300ms']} |")
    return "\n".join(lines)


def main() -> None:
    args = arguments(__doc__)
    from piper import PiperVoice

    config = load_config()
    voice = PiperVoice.load(models.resolve(config, "tts_voice").path)
    results = {
        "asr": asr_speed_and_accuracy(config, args.runs),
        "endpointing": endpointing(config, voice),
        "final_latency": final_latency(config, voice, args.runs),
        "idle": idle_cpu(config),
        "barge_in": barge_in(config, voice),
    }
    body = (f"Medians over {args.runs} runs where timed, 2 cores. Synthetic echo: the reply through a "
            "small-room response, its level relative to the person's voice at the microphone.\n\n" + table(results))
    save("listen", {"meta": meta(args.runs), **results}, "LISTEN", body)
    print(table(results))


if __name__ == "__main__":
    main()
