"""pygame window sink: shows the face frame for the current audio position."""

from __future__ import annotations

import os
import time
import warnings
from collections import deque
from typing import Callable

import numpy as np

FrameAt = Callable[[float], np.ndarray]


MAX_DROPS = 2  # late frames replaced in a row at most


class RenderTimes:
    """How long frames usually take to render: the median of the last ones, so one stall does not
    skew it. A frame is asked for the moment it will be on screen: position + usual."""

    def __init__(self) -> None:
        self._recent = deque([0.0], maxlen=15)

    @property
    def usual(self) -> float:
        return float(np.median(self._recent))

    def add(self, seconds: float) -> None:
        self._recent.append(seconds)


class SystemClock:
    """What the window loop waits with (a simulation passes its own)."""

    now = staticmethod(time.monotonic)
    sleep = staticmethod(time.sleep)


def display_available() -> bool:
    return any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER"))


class FaceWindow:
    def __init__(self, size: int, title: str) -> None:
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        with warnings.catch_warnings():  # pygame 2.6 still imports the deprecated pkg_resources
            warnings.simplefilter("ignore", UserWarning)
            import pygame

        self._pg = pygame
        pygame.display.init()
        pygame.display.set_caption(title)
        self.screen = pygame.display.set_mode((size, size))
        self.closed = False

    def show(self, frame: np.ndarray) -> None:
        pg = self._pg
        for event in pg.event.get():
            if event.type == pg.QUIT or (event.type == pg.KEYDOWN and event.key in (pg.K_ESCAPE, pg.K_q)):
                self.closed = True
        pg.surfarray.blit_array(self.screen, np.ascontiguousarray(frame.transpose(1, 0, 2)))
        pg.display.flip()

    def pixels(self) -> np.ndarray:
        """What the window shows now, as an RGB array (height, width, 3)."""
        return self._pg.surfarray.array3d(self.screen).transpose(1, 0, 2)

    def play(self, frame_at: FrameAt, position: Callable[[], float], duration: float, fps: int,
             late: float, clock: SystemClock = SystemClock()) -> int:
        """Show frames until the audio ends or the window is closed; returns frames shown.

        Which frame is shown comes only from the audio position; the loop's own pace only caps
        the rate. The frame asked for is the one for when it will be on screen (RenderTimes). A
        frame that a stall made `late` seconds later than usual is dropped for a fresh one (at most
        MAX_DROPS in a row; a machine that is slow all the time raises the usual instead).
        """
        shown, renders, dropped = 0, RenderTimes(), 0
        while not self.closed:
            began, heard = clock.now(), position()
            usual = renders.usual
            frame = frame_at(heard + usual)
            took = clock.now() - began
            renders.add(took)
            if took - usual > late and dropped < MAX_DROPS:
                dropped += 1
                continue
            self.show(frame)
            shown, dropped = shown + 1, 0
            if heard >= duration:
                break
            clock.sleep(max(0.0, 1.0 / (2 * fps) - (clock.now() - began)))
        return shown

    def close(self) -> None:
        self._pg.display.quit()
