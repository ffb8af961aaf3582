"""Lip sync, measured by MediaPipe on the rendered frames of a spoken sentence."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import doppel, read_video
from face_measure import envelope_per_frame, lag_correlations

TEXT = "Maybe the bright moon will appear above the purple mountains, but we cannot be sure."
FPS = 25
TAKES = (1, 2, 3)  # piper's takes differ (its noise); each seed is one repeatable take


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lipsync")
    out = []
    for seed in TAKES:
        path = folder / f"take{seed}.mp4"
        run = doppel("say", TEXT, "--out", str(path), "--no-window", "--set", f"tts.seed={seed}")
        assert run.returncode == 0, run.stderr
        out.append(read_video(path))
    return out


def test_mouth_opening_follows_the_speech_envelope(videos):
    from renderers import landmarks as lm

    best = []
    with lm.FaceMesh() as mesh:
        for frames, audio in videos:
            opening = np.array([float(np.subtract(*mesh.find(f)[[14, 13], 1])) for f in frames])
            r = lag_correlations(opening, envelope_per_frame(audio, 16000, FPS, len(frames)))
            print("lip sync r by lag", r)
            assert max(r, key=r.get) in (-1, 0, 1), r
            best.append(max(r.values()))
    # one take ranges 0.66-0.80 through H.264; the bar on the median of three takes
    assert np.median(best) >= 0.7, best


def test_every_bilabial_shows_closed_lips(config):
    from assistant.messages import Timings
    from assistant.present import make_animator
    from assistant.turn import run_turn, say_inputs, voice_stage
    from persona.persona import load_persona
    from renderers import landmarks as lm

    persona = load_persona(None)
    timings = Timings()
    result = run_turn([voice_stage(config, persona, timings, lambda *a: None)], say_inputs(TEXT), timings)
    animator = make_animator(config, persona, result, timings)
    with lm.FaceMesh() as mesh:
        rest = float(np.subtract(*mesh.find(animator.frame_at(-1.0))[[14, 13], 1]))
        closed = []
        for p in animator.timeline.phonemes:
            if p.symbol in "pbm":
                # the video frame nearest the bilabial as seen: lips shape each sound a little before it is heard
                frame_time = round(((p.start + p.end) / 2 - config.face.viseme_lead) * FPS) / FPS
                opening = float(np.subtract(*mesh.find(animator.frame_at(frame_time))[[14, 13], 1]))
                closed.append(opening <= rest + 2.0)
    assert len(closed) >= 8 and np.mean(closed) >= 0.9, closed
