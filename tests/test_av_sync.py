"""A/V sync in the window path over a simulated 30-minute session of continuous speech.

Simulated time drives a sound card whose crystal runs 100 ppm fast (a common real mismatch, which
a video timer would turn into ~180 ms of drift in 30 minutes), taking 256-sample blocks from the
real StreamPlayer whenever it needs them. The real FaceWindow loop (pygame, dummy video driver)
asks for frames by the player's position; rendering takes a random 4-30 ms with occasional 60 ms
stalls. For every frame shown we compare the audio actually heard at that moment with the time
of the frame on screen.
"""

import os

import numpy as np

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"

from assistant.player import StreamPlayer  # noqa: E402
from renderers.window import FaceWindow  # noqa: E402

SESSION = 30 * 60.0
CARD_PPM = 100
BLOCK = 256
KEEP_QUEUED = 2.0  # seconds of speech the "voice" keeps ahead, sentence by sentence


class SimulatedSession:
    """Simulated time: a sound card pulling audio, and sentences arriving as the voice makes them."""

    def __init__(self, player: StreamPlayer, sentence: np.ndarray, rate: int) -> None:
        self.player, self.sentence, self.rate = player, sentence, rate
        self.card_rate = rate * (1 + CARD_PPM * 1e-6)
        self.time = 0.0
        self.taken = 0  # samples the card has pulled
        self.enqueued = 0.0  # seconds of speech handed to the player
        self.reply_starts_at = 0  # card sample where the reply's first sample went out

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        end = self.time + seconds
        while self.taken / self.card_rate <= end:  # the card asks for its next block when it is due
            self.time = max(self.time, self.taken / self.card_rate)
            while self.enqueued < min(SESSION, self.time + KEEP_QUEUED):
                self.player.enqueue(self.sentence)
                self.enqueued += len(self.sentence) / self.rate
            self.player.fill(np.zeros(BLOCK, np.float32))
            self.taken += BLOCK
        self.time = end

    def heard(self) -> float:
        """Seconds of the reply that have come out of the speaker by now."""
        return max(0.0, self.time * self.card_rate - self.reply_starts_at) / self.rate


def test_the_displayed_frame_stays_within_40_ms_of_the_audio_for_30_minutes(config):
    from assistant.turn import say_inputs, run_turn, voice_stage
    from assistant.messages import Timings
    from persona.persona import load_persona

    timings = Timings()
    result = run_turn([voice_stage(config, load_persona(None), timings, lambda *a: None)],
                      say_inputs("The story goes on, page after page, in the reader's own voice."), timings)
    rate = result.audio.sample_rate
    player = StreamPlayer(rate, use_device=False, silent_clock=False)
    session = SimulatedSession(player, result.audio.samples, rate)
    player.begin()
    session.reply_starts_at = session.taken
    rng = np.random.default_rng(1)
    image = np.zeros((128, 128, 3), np.uint8)
    asked: list[float] = []
    offsets: list[float] = []

    def frame_at(t: float) -> np.ndarray:
        asked.append(t)
        session.sleep(0.06 if rng.random() < 0.01 else rng.uniform(0.004, 0.030))  # rendering takes time
        return image

    window = FaceWindow(128, "sync")
    show = window.show

    def show_and_measure(frame: np.ndarray) -> None:
        show(frame)
        offsets.append(session.heard() - asked[-1])

    window.show = show_and_measure
    try:
        shown = window.play(frame_at, player.position, SESSION, config.face.fps, config.window.drop_late_ms / 1000,
                            clock=session)
    finally:
        window.close()
        player.close()
    offsets = np.abs(np.asarray(offsets))
    assert shown > 30 * 60 * config.face.fps  # at least the display rate, all session long
    assert session.heard() >= SESSION - 0.1
    last_minute = offsets[-int(60 * config.face.fps):]
    print(f"offset median {np.median(offsets) * 1000:.1f} ms, p99 {np.percentile(offsets, 99) * 1000:.1f} ms, "
          f"max {offsets.max() * 1000:.1f} ms over {len(offsets)} frames")
    assert offsets.max() <= 0.040, (offsets.max(), np.percentile(offsets, 99))
    assert last_minute.max() <= 0.040  # no drift: the end is as good as the start
    # what a video timer would show by the end of the same session (the card's 100 ppm)
    timer_drift = abs(session.heard() - session.time)
    assert timer_drift > 0.1
