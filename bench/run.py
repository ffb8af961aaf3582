"""Benchmark `say` and `chat --input`: per-stage times, medians over several runs.

    make bench            # or: python bench/run.py --runs 5

Writes bench/results.json and the table in bench/README.md (between the RESULTS markers).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GLOG_minloglevel", "3")
from common import HERE, arguments, meta, save  # noqa: E402

from assistant.config import load_config  # noqa: E402
from assistant.messages import Timings  # noqa: E402
from assistant.present import export_video, make_animator  # noqa: E402
from assistant.sources import read_audio_file  # noqa: E402
from assistant.turn import chat_stages, run_turn, say_inputs, voice_stage  # noqa: E402
from persona.persona import load_persona  # noqa: E402

SAY_TEXT = ("Hello, I am Nova. I can hear you, think about what you said, and answer with my own voice "
            "and face, all on this computer.")
QUESTION = HERE.parent / "assistant" / "samples" / "question.wav"


def quiet(*_args: object) -> None:
    pass


def one_run(mode: str, config, persona) -> dict[str, float]:
    timings = Timings()
    began = time.perf_counter()
    if mode == "say":
        result = run_turn([voice_stage(config, persona, timings, quiet)], say_inputs(SAY_TEXT), timings)
    else:
        result = run_turn(chat_stages(config, persona, timings, quiet), [read_audio_file(QUESTION)], timings)
    animator = make_animator(config, persona, result, timings)
    with tempfile.TemporaryDirectory() as tmp:
        export_video(animator, result, Path(tmp) / "out.mp4", config, quiet)
    values = dict(timings.values)
    values["total"] = time.perf_counter() - began
    speech = values["speech_seconds"]
    values["tts_rtf"] = values["tts"] / speech
    values["video_rtf"] = (values["render"] + values["mux"]) / speech  # < 1: faster than real time
    if "asr" in values:
        values["asr_rtf"] = values["asr"] / (QUESTION.stat().st_size / 2 / 16000)
    return values


ROWS = [
    ("load_asr", "load Whisper tiny.en (s)"), ("load_llm", "load LLM (s)"), ("load_tts", "load piper voice (s)"),
    ("load_face", "face rig from portrait (s)"), ("asr", "ASR (s)"), ("asr_rtf", "ASR real-time factor"),
    ("llm_first_token", "LLM time to first token (s)"), ("llm_tokens_per_s", "LLM tokens/s"),
    ("tts_rtf", "TTS real-time factor"), ("first_audio", "turn start → first sentence audio (s)"),
    ("speech_seconds", "reply length (s)"), ("render_fps", "render fps (512×512)"), ("mux", "encode + mux (s)"),
    ("video_rtf", "render+encode time / reply length"), ("total", "whole command (s)"),
]


def table(results: dict[str, dict[str, float]]) -> str:
    lines = ["| stage | say | chat --input |", "|---|---|---|"]
    for key, label in ROWS:
        cells = [f"{results[m][key]:.3g}" if key in results[m] else "–" for m in ("say", "chat")]
        lines.append(f"| {label} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def main() -> None:
    args = arguments(__doc__)
    config, persona = load_config(), load_persona(None)
    results: dict[str, dict[str, float]] = {}
    for mode in ("say", "chat"):
        runs = []
        for i in range(args.runs):
            runs.append(one_run(mode, config, persona))
            print(f"{mode} run {i + 1}/{args.runs}: {runs[-1]['total']:.2f} s", file=sys.stderr)
        results[mode] = {k: statistics.median(r[k] for r in runs if k in r) for k in runs[0]}
    info = meta(args.runs, llm=config.models.llm, asr=config.models.asr)
    body = (f"Medians of {args.runs} runs, {info['cpus']} CPUs, {info['date']}, "
            f"LLM {info['llm']}, ASR {info['asr']}.\n\n{table(results)}")
    save("results", {"meta": info, "medians": results}, "RESULTS", body)
    print(table(results))


if __name__ == "__main__":
    main()
