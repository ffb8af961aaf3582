"""The pygame sink under SDL's dummy video driver: what the window shows holds the face."""

import os

import numpy as np

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"

from renderers import landmarks as lm  # noqa: E402
from renderers.animator import Animator, SpeechTimeline  # noqa: E402
from renderers.rig import build_rig  # noqa: E402
from renderers.window import FaceWindow  # noqa: E402
from persona.persona import load_persona  # noqa: E402
from assistant.messages import Phoneme  # noqa: E402


def test_window_shows_the_talking_face(config):
    rig = build_rig(load_persona(None).portrait, config.face)
    timeline = SpeechTimeline((Phoneme("a", 0.1, 0.4), Phoneme("m", 0.4, 0.5)), duration=0.6)
    animator = Animator(rig, timeline, config.face)
    window = FaceWindow(config.face.size, "test")
    clock = iter(np.linspace(0, 0.6, 16))
    shown = window.play(animator.frame_at, lambda: next(clock), 0.6, config.face.fps, 1.0)
    pixels = window.pixels()
    window.close()
    assert shown == 16
    assert pixels.shape == (config.face.size, config.face.size, 3)
    with lm.FaceMesh() as mesh:
        points = mesh.find(pixels)
    assert points is not None, "no face in the window"
    center = points[lm.FACE_OVAL].mean(axis=0)
    assert np.all(np.abs(center - config.face.size / 2) < config.face.size * 0.2)
