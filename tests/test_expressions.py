"""Visemes and expressions, checked by MediaPipe's face mesh on the rendered frames, and the
identity region (away from mouth and eyes) checked against the portrait by SSIM."""

from __future__ import annotations

import numpy as np
import pytest

from face_measure import identity_ssim, measures

# Each frame is driven the way the product drives it: a phoneme through the viseme table, an
# emotion through config face.expressions, or idle life's own controls (blink, glance, head).
VISEME_FRAMES = {"oo": "u", "ah": "a", "ee": "i", "m": "m", "f": "f"}
MOOD_FRAMES = ("happy", "sad", "angry", "surprised")
CONTROL_FRAMES = {"blink_left": {"blink_left": 1.0}, "glance": {"gaze_x": 1.0}, "turn": {"yaw": 1.0}}


@pytest.fixture(scope="module")
def rig(config):
    from persona.persona import load_persona
    from renderers.rig import build_rig

    return build_rig(load_persona(None).portrait, config.face)


@pytest.fixture(scope="module")
def frames(rig, config):
    from assistant.messages import Phoneme
    from renderers.animator import Animator, SpeechTimeline

    still = config.face.model_copy(update={"head_motion": 0.0, "sway_degrees": 0.0})

    def animator(phoneme=None, mood=None):
        phonemes = (Phoneme(phoneme, 0.0, 2.0),) if phoneme else ()
        moods = ((0.0, 2.0, mood, 1.0),) if mood else ()
        return Animator(rig, SpeechTimeline(phonemes, 2.0, moods), still)

    # neutral: the photo at rest (before any speech); an emotion holds after its sentence ends
    out = {"neutral": animator().frame(-1.0, 0.3)}
    out.update({name: animator(phoneme=symbol).frame(1.0, 0.3) for name, symbol in VISEME_FRAMES.items()})
    out.update({mood: animator(mood=mood).frame(3.0, 0.3) for mood in MOOD_FRAMES})
    out.update({name: animator().frame(-1.0, 0.3, weights) for name, weights in CONTROL_FRAMES.items()})
    return out


@pytest.fixture(scope="module")
def measured(frames):
    from renderers import landmarks as lm

    with lm.FaceMesh() as mesh:
        return {name: measures(mesh.find(image)) for name, image in frames.items()}


def test_oo_rounds_the_lips_ee_spreads_them_and_ah_opens_the_jaw(measured):
    neutral = measured["neutral"]
    assert measured["oo"]["width"] < 0.96 * neutral["width"]
    assert measured["ee"]["width"] > 1.01 * neutral["width"]
    assert measured["ah"]["open"] > measured["oo"]["open"] > neutral["open"]


def test_bilabials_press_the_lips_shut_even_on_a_smiling_photo(measured):
    # the astronaut smiles with parted lips, so at rest the inner lips are apart
    assert measured["neutral"]["open"] > 8
    # the lips meet on the frame; MediaPipe still reads ~9 px there (its lower lip line sits in the
    # lower teeth this photo shows, which rise with the lip)
    assert measured["m"]["open"] < 0.6 * measured["neutral"]["open"]


def test_labiodentals_raise_the_lower_lip_to_the_upper_teeth(measured):
    assert measured["f"]["lower_lip"] < measured["neutral"]["lower_lip"] - 2
    assert measured["f"]["open"] < 0.9 * measured["neutral"]["open"]


def test_happy_smiles_and_narrows_the_eyes_sad_frowns(measured):
    neutral = measured["neutral"]
    assert measured["happy"]["width"] > 1.03 * neutral["width"]
    assert measured["happy"]["corners_above"] > neutral["corners_above"] > measured["sad"]["corners_above"]
    assert measured["happy"]["eye_left"] + measured["happy"]["eye_right"] < neutral["eye_left"] + neutral["eye_right"]


def test_brows_rise_in_surprise_and_knit_in_anger(measured):
    neutral = measured["neutral"]
    assert measured["surprised"]["brow_height"] > neutral["brow_height"] + 2
    assert measured["angry"]["inner_brow_height"] < neutral["inner_brow_height"] - 1
    assert measured["sad"]["inner_brow_height"] > neutral["inner_brow_height"]


def test_one_eye_blinks_alone(measured):
    neutral, blink = measured["neutral"], measured["blink_left"]
    assert blink["eye_left"] < 0.4 * neutral["eye_left"]
    assert blink["eye_right"] == pytest.approx(neutral["eye_right"], abs=1.5)


def test_glances_move_the_irises_and_turns_move_the_nose(measured):
    neutral = measured["neutral"]
    glance = measured["glance"]
    # looking to the image's right: the right eye's iris towards its inner corner, the left eye's outwards
    assert glance["iris_right"] > neutral["iris_right"] + 0.02 and glance["iris_left"] < neutral["iris_left"] - 0.02
    assert measured["turn"]["nose_x"] > neutral["nose_x"] + 2


def test_the_identity_region_stays_the_person(frames, rig):
    # a head turn moves every pixel by design; identity is compared at the photo's pose
    scores = {name: identity_ssim(frame, rig.image, rig.points) for name, frame in frames.items() if name != "turn"}
    assert min(scores.values()) >= 0.9, scores


def test_the_expression_setting_scales_the_smile(config, rig):
    from renderers.animator import Animator, SpeechTimeline

    timeline = SpeechTimeline((), 4.0, ((0.0, 2.0, "neutral", 0.0), (2.0, 4.0, "happy", 0.5)))
    full = Animator(rig, timeline, config.face)
    none = Animator(rig, timeline, config.face.model_copy(update={"expression": 0.0}))
    happy_smile = config.face.expressions["happy"]["smile"]
    assert none.expression(3.5)["smile"] == 0.0
    assert full.expression(3.5)["smile"] == pytest.approx(0.5 * config.face.expression * happy_smile, abs=0.02)
    assert 0.0 < full.expression(2.0)["smile"] < full.expression(3.5)["smile"]  # gradual at the boundary


def test_a_closed_mouth_photo_opens_onto_painted_teeth_and_a_dark_mouth(config, rig, tmp_path):
    """A portrait with closed lips (the astronaut's pressed shut by the rig, saved as a photo)."""
    import cv2

    from renderers import landmarks as lm
    from renderers.animator import Animator, SpeechTimeline, _shows_teeth, _teeth_color
    from renderers.rig import build_rig

    still = config.face.model_copy(update={"head_motion": 0.0, "sway_degrees": 0.0})
    closed = Animator(rig, SpeechTimeline((), 1.0), still).frame(-1.0, 0.3, {"lip_press": 1.0})
    photo = tmp_path / "closed.png"
    cv2.imwrite(str(photo), cv2.cvtColor(closed, cv2.COLOR_RGB2BGR))
    closed_rig = build_rig(photo, config.face)
    assert _shows_teeth(rig) and not _shows_teeth(closed_rig)

    animator = Animator(closed_rig, SpeechTimeline((), 1.0), still)
    points = closed_rig.points
    x0, y0 = points[lm.LOWER_LIP_OUTER + lm.UPPER_LIP_OUTER].min(axis=0).astype(int)
    x1, y1 = points[lm.LOWER_LIP_OUTER + lm.UPPER_LIP_OUTER].max(axis=0).astype(int) + [0, 25]

    teeth = _teeth_color(closed_rig)

    def mouth(weights):
        pixels = animator.frame(-1.0, 0.3, weights)[y0:y1, x0:x1].reshape(-1, 3).astype(np.float32)
        return int(np.sum(np.linalg.norm(pixels - teeth, axis=1) < 12)), int(np.sum(pixels.max(axis=1) < 70))

    (rest_teeth, rest_dark), (open_teeth, open_dark) = mouth({}), mouth({"jaw": 1.0})
    assert open_teeth > rest_teeth + 150 and open_dark > rest_dark + 150, (rest_teeth, open_teeth, rest_dark, open_dark)
    print("teeth-coloured and dark pixels, rest vs ah:", rest_teeth, open_teeth, rest_dark, open_dark)
