"""Portrait preparation: the photos people actually have, and the ones that cannot work."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from conftest import doppel


@pytest.fixture(scope="module")
def astronaut():
    from skimage import data

    return Image.fromarray(data.astronaut())


def _upright(rig) -> bool:
    """Eyes above the mouth, and the face's oval roughly where the crop puts it."""
    from renderers import landmarks as lm

    eyes_y = (rig.points[33, 1] + rig.points[263, 1]) / 2
    return eyes_y < rig.points[13, 1] and np.ptp(rig.points[lm.FACE_OVAL, 0]) > 0.3 * rig.image.shape[1]


def _build(path, config):
    from renderers.rig import build_rig

    return build_rig(path, config.face)


@pytest.mark.parametrize("kind, note", [
    ("grayscale", "grayscale"), ("alpha", "transparent"), ("cmyk", "CMYK"), ("exif", "EXIF"),
    ("huge", "shrunk"), ("tiny", "small"), ("two_faces", "2 faces"),
])
def test_photos_people_have_make_a_face(astronaut, tmp_path, config, kind, note):
    path = tmp_path / f"{kind}.png"
    if kind == "grayscale":
        path = tmp_path / "gray.jpg"
        astronaut.convert("L").save(path)
    elif kind == "alpha":
        rgba = astronaut.convert("RGBA")
        alpha = np.zeros(astronaut.size[::-1], np.uint8)
        alpha[:, 60:460] = 255  # a cut-out: the sides transparent
        rgba.putalpha(Image.fromarray(alpha))
        rgba.save(path)
    elif kind == "cmyk":
        path = tmp_path / "cmyk.jpg"
        astronaut.convert("CMYK").save(path)
    elif kind == "exif":
        path = tmp_path / "rotated.jpg"
        exif = Image.Exif()
        exif[0x0112] = 6  # "rotate 90° clockwise to display": the pixels are stored turned left
        astronaut.rotate(90, expand=True).save(path, exif=exif)
    elif kind == "huge":
        path = tmp_path / "huge.jpg"
        canvas = Image.new("RGB", (8000, 6000), (200, 200, 205))
        canvas.paste(astronaut.resize((5000, 5000)), (1500, 500))
        canvas.save(path, quality=85)
    elif kind == "tiny":  # the face about 40 px wide
        astronaut.resize((215, 215), Image.LANCZOS).save(path)
    elif kind == "two_faces":
        canvas = Image.new("RGB", (900, 512), (220, 220, 220))
        canvas.paste(astronaut, (0, 0))
        canvas.paste(astronaut.resize((300, 300)), (580, 150))
        canvas.save(path)
    rig = _build(path, config)
    assert _upright(rig), kind
    assert any(note in n for n in rig.notes), rig.notes
    assert rig.image.shape == (config.face.size, config.face.size, 3)


def test_the_largest_of_several_faces_is_used(astronaut, tmp_path, config):
    from renderers import landmarks as lm

    canvas = Image.new("RGB", (900, 512), (220, 220, 220))
    canvas.paste(astronaut.resize((300, 300)), (0, 150))
    canvas.paste(astronaut, (388, 0))
    path = tmp_path / "two.png"
    canvas.save(path)
    from renderers.portrait import prepare_portrait

    prepared = prepare_portrait(path)
    assert prepared.points[lm.FACE_OVAL, 0].mean() > 450  # the big one, on the right


def test_a_drawing_is_refused_with_a_reason(tmp_path):
    import cv2

    drawing = np.full((400, 400, 3), 255, np.uint8)
    cv2.circle(drawing, (200, 200), 150, (0, 0, 0), 4)
    for x in (145, 255):
        cv2.circle(drawing, (x, 160), 15, (0, 0, 0), -1)
    cv2.ellipse(drawing, (200, 250), (70, 40), 0, 20, 160, (0, 0, 0), 4)
    path = tmp_path / "smiley.png"
    cv2.imwrite(str(path), drawing)
    folder = tmp_path / "twin"
    run = doppel("enroll", "--face", str(path), "--persona", str(folder))
    assert run.returncode == 2 and "no face found" in run.stderr and "cartoons" in run.stderr
    assert "Traceback" not in run.stderr and not (folder / "portrait.png").exists()


def test_a_face_turned_to_the_side_is_refused():
    """The rule on landmarks: the nose far off the eyes' middle is a side view."""
    from assistant.errors import DoppelError
    from renderers.portrait import check_frontal

    points = np.zeros((478, 2), np.float32)
    points[33], points[263] = (100, 100), (160, 100)
    points[1] = (131, 140)
    check_frontal(points, "front.jpg")
    points[1] = (168, 140)
    with pytest.raises(DoppelError, match="turned to the side"):
        check_frontal(points, "side.jpg")


def test_enroll_face_copies_prepares_and_caches(astronaut, tmp_path):
    photo = tmp_path / "me.jpg"
    astronaut.save(photo)
    folder = tmp_path / "twin"
    run = doppel("enroll", "--face", str(photo), "--persona", str(folder))
    assert run.returncode == 0, run.stderr
    assert (folder / "portrait.jpg").is_file() and (folder / "face" / "preview.png").is_file()
    assert list((folder / "face").glob("rig-*.npz"))  # the rig is cached in the persona folder
    assert "portrait: portrait.jpg" in (folder / "persona.yaml").read_text()
    said = doppel("say", "Hello.", "--persona", str(folder), "--no-window", "--out", str(tmp_path / "hi.mp4"))
    assert said.returncode == 0, said.stderr


def test_the_rig_cache_keeps_only_the_newest_rigs(tmp_path, config):
    import os

    from persona.persona import load_persona
    from renderers.rig import KEEP_RIGS, build_rig

    cache = tmp_path / "face"
    cache.mkdir()
    for age in range(4):  # rigs of other settings, made earlier
        stale = cache / f"rig-old{age}.npz"
        stale.write_bytes(b"x")
        os.utime(stale, (1e9 + age, 1e9 + age))
    build_rig(load_persona(None).portrait, config.face, cache)
    kept = sorted(p.name for p in cache.glob("rig-*.npz"))
    assert len(kept) == KEEP_RIGS and "rig-old3.npz" in kept and "rig-old0.npz" not in kept
