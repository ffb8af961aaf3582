"""Benchmark the face: render speed by resolution (one thread), CPU share while the rest of the loop
runs, rig preparation time and memory, lip sync and identity measured by MediaPipe on the rendered
frames, and a contact sheet of visemes and expressions (bench/face_contact_sheet.png).

    python bench/face.py [--runs 3] [--seconds 10]

Writes bench/face.json and the FACE section of bench/README.md.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
import tracemalloc

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
from common import HERE, arguments, meta, save  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from assistant import models  # noqa: E402
from assistant.asr import Transcriber  # noqa: E402
from assistant.config import load_config  # noqa: E402
from assistant.messages import Phoneme, Timings  # noqa: E402
from assistant.present import make_animator  # noqa: E402
from assistant.turn import run_turn, say_inputs, voice_stage  # noqa: E402
from assistant.voices import make_voice  # noqa: E402
from face_measure import envelope_per_frame, identity_ssim, lag_correlations, measures  # noqa: E402
from persona.persona import load_persona  # noqa: E402
from renderers import landmarks as lm  # noqa: E402
from renderers.animator import Animator, SpeechTimeline  # noqa: E402
from renderers.rig import build_rig  # noqa: E402
from renderers.window import FaceWindow  # noqa: E402

SENTENCES = ["Maybe the bright moon will appear above the purple mountains, but we cannot be sure.",
             "My brother fixed the broken bicycle on Thursday afternoon.",
             "Please remember to buy fresh bread and a bottle of milk before five."]
SHEET = {"rest": {}, "ah": {"phoneme": "a"}, "oo": {"phoneme": "u"}, "ee": {"phoneme": "i"},
         "m (press)": {"phoneme": "m"}, "f (tuck)": {"phoneme": "f"}, "happy": {"mood": "happy"},
         "sad": {"mood": "sad"}, "angry": {"mood": "angry"}, "surprised": {"mood": "surprised"},
         "blink (left)": {"weights": {"blink_left": 1.0}}, "glance": {"weights": {"gaze_x": 1.0, "gaze_y": 0.3}},
         "turn": {"weights": {"yaw": 1.0}}, "nod": {"weights": {"pitch": 1.0}}, "tender": {"mood": "tender"},
         "afraid": {"mood": "afraid"}}


def speak(config, persona, text):
    timings = Timings()
    result = run_turn([voice_stage(config, persona, timings, lambda *a: None)], say_inputs(text), timings)
    return result, make_animator(config, persona, result, timings)


def render_speed(config, persona, result, runs: int) -> dict:
    """Frames per second of one thread, and memory, at each resolution."""
    cv2.setNumThreads(1)
    out = {}
    for size in (256, 512, 1024):
        face = config.face.model_copy(update={"size": size})
        build_rig(persona.portrait, face, persona.face_cache)  # cached for the timing below
        tracemalloc.start()
        rig = build_rig(persona.portrait, face, persona.face_cache)
        base = make_animator(config.model_copy(update={"face": face}), persona, result, Timings())
        animator = Animator(rig, base.timeline, face)
        animator.frame_at(0.5)
        memory = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        times = np.arange(0, result.audio.duration, 1 / face.fps)
        fps = []
        for _ in range(runs):
            began = time.perf_counter()
            for t in times:
                animator.frame_at(float(t))
            fps.append(len(times) / (time.perf_counter() - began))
        out[size] = {"fps": statistics.median(fps), "memory_mb": memory / 2**20}
    cv2.setNumThreads(0)
    return out


def cpu_share(config, persona, animator, seconds: float) -> dict:
    """The face at 25 fps in a window (SDL dummy driver) while ASR and TTS run flat out beside it:
    the render thread's CPU time over wall time, and the frame rate it kept."""
    cv2.setNumThreads(1)
    stop = threading.Event()
    asr = Transcriber(models.resolve(config, "asr").path, config.asr, "en")
    speech = speak(config, persona, SENTENCES[1])[0]
    voice = make_voice(config, persona)  # loaded once, as in the live loop
    asr.decode(np.zeros(16000, np.float32))  # loaded and warm before the clock starts
    voice.speak(SENTENCES[2])
    heard = np.interp(np.arange(0, len(speech.audio.samples), speech.audio.sample_rate / 16000),
                      np.arange(len(speech.audio.samples)), speech.audio.samples).astype(np.float32)

    def rest_of_the_loop():
        while not stop.is_set():
            asr.decode(heard)
            voice.speak(SENTENCES[2])

    worker = threading.Thread(target=rest_of_the_loop, daemon=True)
    worker.start()
    window = FaceWindow(config.face.size, "bench")
    shown, began, cpu, gaps, last = 0, time.perf_counter(), time.thread_time(), [], time.perf_counter()
    while (elapsed := time.perf_counter() - began) < seconds:
        window.show(animator.frame_at(elapsed % animator.timeline.duration))
        shown += 1
        gaps.append(time.perf_counter() - last)
        last = time.perf_counter()
        time.sleep(max(0.0, shown / config.face.fps - (time.perf_counter() - began)))
    wall = time.perf_counter() - began
    cpu = (time.thread_time() - cpu) / wall
    stop.set()
    worker.join()
    window.close()
    cv2.setNumThreads(0)
    return {"cpu_share_of_core": cpu, "fps_kept": shown / wall, "longest_gap_ms": 1000 * max(gaps[1:]),
            "size": config.face.size}


def rig_preparation(config, persona, runs: int) -> dict:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        build_rig(persona.portrait, config.face)  # no cache: the full preparation
        times.append(time.perf_counter() - began)
    began = time.perf_counter()
    build_rig(persona.portrait, config.face, persona.face_cache)
    return {"prepare_s": statistics.median(times), "cached_load_s": time.perf_counter() - began}


def lip_sync(config, persona) -> dict:
    """Per sentence: Pearson r of the measured mouth opening with the speech envelope at the best
    lag (frames), and the share of p/b/m frames whose lips are closed."""
    rows = []
    fps = config.face.fps
    with lm.FaceMesh() as mesh:
        for text in SENTENCES:
            result, animator = speak(config, persona, text)
            n = int(result.audio.duration * fps)
            opening = np.array([measures(mesh.find(animator.frame_at(i / fps)))["open"] for i in range(n)])
            envelope = envelope_per_frame(result.audio.samples, result.audio.sample_rate, fps, n)
            r = lag_correlations(opening, envelope)
            rest = measures(mesh.find(animator.frame_at(-1.0)))["open"]
            lead = config.face.viseme_lead
            seen = [(p.start + p.end) / 2 - lead for p in animator.timeline.phonemes if p.symbol in "pbm"]
            closed = [measures(mesh.find(animator.frame_at(round(t * fps) / fps)))["open"] <= rest + 2 for t in seen]
            best = max(r, key=r.get)
            rows.append({"text": text, "r_best": r[best], "best_lag": best, "r_lag0": r[0],
                         "bilabials_closed": float(np.mean(closed)), "bilabials": len(closed)})
    return {"sentences": rows, "r_median": statistics.median(r["r_best"] for r in rows),
            "bilabials_closed": float(np.mean([r["bilabials_closed"] for r in rows]))}


def sheet_frames(config, rig) -> dict[str, np.ndarray]:
    still = config.face.model_copy(update={"head_motion": 0.0, "sway_degrees": 0.0})
    frames = {}
    for name, spec in SHEET.items():
        phonemes = (Phoneme(spec["phoneme"], 0.0, 2.0),) if "phoneme" in spec else ()
        moods = ((0.0, 2.0, spec["mood"], 1.0),) if "mood" in spec else ()
        animator = Animator(rig, SpeechTimeline(phonemes, 2.0, moods), still)
        t = 1.0 if phonemes else -1.0 if not moods else 3.0  # a mood holds after its sentence
        frames[name] = animator.frame(t, 0.3, spec.get("weights"))
    return frames


def contact_sheet(frames: dict[str, np.ndarray], path) -> None:
    tiles = []
    for name, frame in frames.items():
        s = frame.shape[0]
        tile = np.ascontiguousarray(frame[int(0.18 * s):int(0.86 * s), int(0.2 * s):int(0.8 * s)])
        cv2.putText(tile, name, (6, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2, cv2.LINE_AA)
        tiles.append(tile)
    rows = [np.hstack(tiles[i:i + 4]) for i in range(0, len(tiles), 4)]
    cv2.imwrite(str(path), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])


def table(r: dict) -> str:
    speed = r["speed"]
    lines = ["Render speed with one thread (a spoken sentence's frames), memory of rig + animator:", "",
             "| size | fps (1 thread) | memory (MB) |", "|---|---|---|"]
    lines += [f"| {size} | {v['fps']:.0f} | {v['memory_mb']:.0f} |" for size, v in speed.items()]
    cpu, rig, sync = r["cpu"], r["rig"], r["lipsync"]
    lags = ", ".join(str(s["best_lag"]) for s in sync["sentences"])
    at_zero = ", ".join(f"{s['r_lag0']:.2f}" for s in sync["sentences"])
    lines += ["", f"- While ASR and TTS run flat out beside it, the {cpu['size']} px face in a window at 25 fps "
              f"kept **{cpu['fps_kept']:.1f} fps** (longest gap {cpu['longest_gap_ms']:.0f} ms) using "
              f"**{100 * cpu['cpu_share_of_core']:.0f}%** of one core (target: ≥ 30 fps possible, ≤ 50% of a core).",
              f"- Rig preparation (detect, crop, light, 15 warp fields): **{rig['prepare_s']:.2f} s** per portrait; "
              f"loading it from the persona's cache: {1000 * rig['cached_load_s']:.0f} ms.",
              f"- Lip sync on rendered frames (MediaPipe): Pearson r of mouth opening with the speech envelope "
              f"**{sync['r_median']:.2f}** (median of {len(sync['sentences'])} sentences, best lag {lags} frames; "
              f"at lag 0: {at_zero}); p/b/m with closed lips: "
              f"**{100 * sync['bilabials_closed']:.0f}%** of {sum(s['bilabials'] for s in sync['sentences'])}.",
              f"- Identity (SSIM to the portrait away from mouth and eyes): min **{min(r['identity'].values()):.3f}**, "
              f"median {statistics.median(r['identity'].values()):.3f} over the contact sheet's frames (head turns "
              "excluded).", "", "Contact sheet: [face_contact_sheet.png](face_contact_sheet.png)."]
    return "\n".join(lines)


def main() -> None:
    args = arguments(__doc__, seconds=10)
    config = load_config()
    persona = load_persona(None)
    result, animator = speak(config, persona, SENTENCES[0])
    results = {"meta": meta(args.runs)}
    results["speed"] = render_speed(config, persona, result, args.runs)
    print("speed", results["speed"])
    results["cpu"] = cpu_share(config, persona, animator, args.seconds)
    print("cpu", results["cpu"])
    results["rig"] = rig_preparation(config, persona, args.runs)
    print("rig", results["rig"])
    results["lipsync"] = lip_sync(config, persona)
    print("lipsync", results["lipsync"])
    rig = build_rig(persona.portrait, config.face, persona.face_cache)
    frames = sheet_frames(config, rig)
    results["identity"] = {name: identity_ssim(frame, rig.image, rig.points) for name, frame in frames.items()
                           if name not in ("turn", "nod")}
    contact_sheet(frames, HERE / "face_contact_sheet.png")
    save("face", results, "FACE", table(results))


if __name__ == "__main__":
    main()
