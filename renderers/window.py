"""pygame window sink: shows the face frame for the current audio position."""

from __future__ import annotations

import os
import warnings
from typing import Callable

import numpy as np

FrameAt = Callable[[float], np.ndarray]


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

    def play(self, frame_at: FrameAt, position: Callable[[], float], duration: float, fps: int) -> int:
        """Show frames until the audio ends or the window is closed; returns frames shown."""
        clock = self._pg.time.Clock()
        shown = 0
        while not self.closed:
            t = position()
            self.show(frame_at(t))
            shown += 1
            if t >= duration:
                break
            clock.tick(fps * 2)  # only caps the loop; which frame is shown comes from the audio position
        return shown

    def close(self) -> None:
        self._pg.display.quit()
