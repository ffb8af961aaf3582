"""A real window on a real X server (Xvfb): screenshots taken while `doppel say` speaks show the
face, and its mouth moves. The screenshots are Xvfb's own framebuffer (-fbdir, XWD format)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import NO_NETWORK, REPO, offline_env

pytestmark = pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb missing: apt install xvfb")
SCREEN = (800, 600)


def read_xwd(path: Path) -> np.ndarray:
    """An XWD image (what Xvfb keeps its screen in) as RGB."""
    data = path.read_bytes()
    fields = np.frombuffer(data[:100], ">u4")
    header_size, width, height, byte_order = int(fields[0]), int(fields[4]), int(fields[5]), int(fields[7])
    bits, line, ncolors = int(fields[11]), int(fields[12]), int(fields[19])
    masks = [int(m) for m in fields[14:17]]
    assert bits == 32, f"unexpected XWD depth {bits}"
    start = header_size + 12 * ncolors
    pixels = np.frombuffer(data[start:start + line * height], "<u4" if byte_order == 0 else ">u4")
    pixels = pixels.reshape(height, line // 4)[:, :width]
    channels = [(pixels & mask) >> (mask & -mask).bit_length() - 1 for mask in masks]
    return np.stack(channels, axis=-1).astype(np.uint8)


@pytest.fixture()
def x_server(tmp_path):
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24",
                               "-fbdir", str(tmp_path), "-nolisten", "tcp"], pass_fds=(write,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as pipe:
        display = pipe.readline().strip()
    try:
        yield f":{display}", tmp_path / "Xvfb_screen0"
    finally:
        server.terminate()
        server.wait(10)


def test_the_window_on_a_real_x_server_shows_the_talking_face(x_server, tmp_path):
    from renderers import landmarks as lm

    display, framebuffer = x_server
    command = NO_NETWORK + [sys.executable, "-m", "assistant.cli", "say",
                            "Hello! I am glad to see you again, my friend."]
    run = subprocess.Popen(command, cwd=REPO, env=offline_env(DISPLAY=display, SDL_VIDEODRIVER="x11"),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    shots = []
    while run.poll() is None:
        time.sleep(0.2)
        shots.append(read_xwd(framebuffer))
    _, err = run.communicate()
    assert run.returncode == 0, err
    with lm.FaceMesh() as mesh:
        found = [(shot, points) for shot in shots if (points := mesh.find(shot)) is not None]
    assert len(found) >= 3, f"a face in {len(found)} of {len(shots)} screenshots"
    best = max(found, key=lambda f: np.ptp(f[1][lm.FACE_OVAL, 0]))
    import cv2

    cv2.imwrite(str(tmp_path / "screenshot.png"), cv2.cvtColor(best[0], cv2.COLOR_RGB2BGR))
    openings = [float(points[14, 1] - points[13, 1]) for _, points in found]
    assert max(openings) - min(openings) > 3, openings  # the mouth moved while it spoke
