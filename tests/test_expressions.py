"""Visemes and expressions, checked by MediaPipe's face mesh on the rendered frames."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def measured(config):
    from assistant.messages import Phoneme
    from persona.persona import load_persona
    from renderers import landmarks as lm
    from renderers.animator import Animator, SpeechTimeline
    from renderers.rig import build_rig

    rig = build_rig(load_persona(None).portrait, config.face)

    def frame(phoneme=None, mood=None):
        phonemes = (Phoneme(phoneme, 0.0, 2.0),) if phoneme else ()
        moods = ((0.0, 2.0, mood, 1.0),) if mood else ()
        return Animator(rig, SpeechTimeline(phonemes, 2.0, moods), config.face).frame(1.0, 0.3)

    out = {}
    with lm.FaceMesh() as mesh:
        for name, image in {"neutral": frame(), "oo": frame("u"), "ah": frame("a"), "m": frame("m"),
                            "happy": frame(mood="happy"), "sad": frame(mood="sad")}.items():
            p = mesh.find(image)
            lips_middle = (p[13, 1] + p[14, 1]) / 2
            out[name] = {"width": float(np.linalg.norm(p[291] - p[61])), "open": float(p[14, 1] - p[13, 1]),
                         "corners_above": float(lips_middle - (p[61, 1] + p[291, 1]) / 2)}
    return out


def test_oo_rounds_the_lips_and_ah_opens_the_jaw(measured):
    assert measured["oo"]["width"] < 0.96 * measured["neutral"]["width"]
    assert measured["ah"]["open"] > measured["oo"]["open"] > measured["neutral"]["open"]


def test_bilabials_keep_the_lips_as_at_rest(measured):
    assert measured["m"]["open"] <= measured["neutral"]["open"] + 1.0


def test_happy_smiles_and_sad_frowns(measured):
    neutral = measured["neutral"]
    assert measured["happy"]["width"] > 1.03 * neutral["width"]
    assert measured["happy"]["corners_above"] > neutral["corners_above"] > measured["sad"]["corners_above"]


def test_the_expression_setting_scales_the_smile(config):
    from persona.persona import load_persona
    from renderers.animator import Animator, SpeechTimeline
    from renderers.rig import build_rig

    rig = build_rig(load_persona(None).portrait, config.face)
    timeline = SpeechTimeline((), 4.0, ((0.0, 2.0, "neutral", 0.0), (2.0, 4.0, "happy", 0.5)))
    full = Animator(rig, timeline, config.face)
    none = Animator(rig, timeline, config.face.model_copy(update={"expression": 0.0}))
    assert none.smile(3.5) == 0.0 and full.smile(3.5) == pytest.approx(0.5 * config.face.expression, abs=0.02)
    assert 0.0 < full.smile(2.0) < full.smile(3.5)  # a gradual change at the sentence boundary, not a jump
