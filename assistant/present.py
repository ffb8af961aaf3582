"""The face and the sinks: render the reply's speech as a talking face, to an MP4 and/or a window."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Optional

from assistant import models
from assistant.config import Config
from assistant.messages import Timings
from assistant.player import StreamPlayer
from assistant.turn import TurnResult, chunk_starts
from persona.persona import Persona
from renderers.animator import Animator, SpeechTimeline, loudness_track
from renderers.rig import build_rig
from renderers.subtitles import write_srt
from renderers.video import write_mp4
from renderers.window import FaceWindow, RenderTimes

Report = Callable[[str, int, int], None]


def make_animator(config: Config, persona: Persona, result: TurnResult, timings: Timings) -> Animator:
    began = time.perf_counter()
    models.resolve(config, "face_mesh")  # verified; MediaPipe loads it from its own package
    rig = build_rig(persona.portrait, config.face, persona.face_cache)
    timings.set("load_face", time.perf_counter() - began)
    starts = chunk_starts(result.chunks)
    moods = tuple((t0, t0 + c.audio.duration, c.emotion, c.intensity) for t0, c in zip(starts, result.chunks))
    timeline = replace(SpeechTimeline.join(zip(starts, (c.phonemes for c in result.chunks)), result.audio.duration,
                                           moods), loudness=loudness_track(result.audio.samples, result.audio.sample_rate))
    return Animator(rig, timeline, config.face, seed=config.llm.seed)


def export_video(animator: Animator, result: TurnResult, out: Path, config: Config, report: Report) -> None:
    timings, fps = result.timings, config.face.fps
    render_seconds = 0.0

    def timed_frame(t: float):
        nonlocal render_seconds
        began = time.perf_counter()
        frame = animator.frame_at(t)
        render_seconds += time.perf_counter() - began
        return frame

    began = time.perf_counter()
    write_mp4(out, timed_frame, result.audio.samples, result.audio.sample_rate, config.face.size, fps,
              config.video, on_frame=lambda done, total: report("rendering the video", done, total))
    frames = round(result.audio.duration * fps)
    starts = chunk_starts(result.chunks)
    # the sentence's words, not the trailing pause, carry the subtitle
    spoken = [(t0, t0 + (c.phonemes[-1].end if c.phonemes else c.audio.duration), c.text)
              for t0, c in zip(starts, result.chunks)]
    write_srt(out.with_suffix(".srt"), spoken)
    timings.set("render", render_seconds)
    timings.set("render_fps", frames / max(render_seconds, 1e-6))
    timings.set("mux", time.perf_counter() - began - render_seconds)


def show_window(animator: Animator, result: TurnResult, config: Config) -> Optional[FaceWindow]:
    """Play the speech and show the face in step with it; returns the window (still open) for inspection."""
    window = FaceWindow(config.face.size, f"{config.window.title}")
    player = StreamPlayer(result.audio.sample_rate, config.audio.output_device)
    player.play(result.audio)
    try:
        window.play(animator.frame_at, player.position, result.audio.duration, config.face.fps,
                    config.window.drop_late_ms / 1000)
    finally:
        player.close()
    return window


class LiveFace:
    """The face window of a live conversation. Each tick shows the frame for the reply's audio
    playback position (the audio clock drives the mouth); blinks and sway follow the session clock."""

    SESSION_SPAN = 4 * 3600.0  # seconds of blink schedule prepared

    def __init__(self, config: Config, persona: Persona) -> None:
        models.resolve(config, "face_mesh")
        rig = build_rig(persona.portrait, config.face, persona.face_cache)
        self.animator = Animator(rig, SpeechTimeline((), 0.0), config.face, seed=config.llm.seed,
                                 idle_span=self.SESSION_SPAN)
        self.window = FaceWindow(config.face.size, config.window.title)
        self.started = time.monotonic()
        self.frames = 0
        self.renders = RenderTimes()
        self.silent_since: Optional[float] = None

    def tick(self, timeline: Optional[SpeechTimeline], position: float) -> bool:
        """timeline: the reply so far (None when Doppel is silent); position: its playback position.
        True once the window has been closed."""
        if timeline is not None and timeline is not self.animator.timeline:
            self.animator.set_timeline(timeline)
        began = time.monotonic()
        ahead = self.renders.usual  # the frame for when it will be on screen
        if timeline is not None:
            speech_t, self.silent_since = position + ahead, None
        elif not self.animator.timeline.phonemes:
            speech_t = -1.0  # before any speech: the photo's own mouth
        else:  # after a reply, its end keeps running on so the lips ease back to rest (face.rest_fade)
            self.silent_since = self.silent_since or began
            speech_t = self.animator.timeline.duration + began + ahead - self.silent_since
        self.window.show(self.animator.frame(speech_t, began + ahead - self.started))
        self.renders.add(time.monotonic() - began)
        self.frames += 1
        return self.window.closed

    def close(self) -> None:
        self.window.close()
