"""Hearing a person: VAD, endpointing and streaming transcription over audio blocks.

The same code runs on the microphone and on files. Speech starts when Silero's probability
passes the threshold (with pre-roll so the first syllable is kept). While the person speaks the
growing buffer is re-decoded for partial transcripts. As soon as they pause it is decoded once
more; if that transcript is a complete sentence a short silence ends the turn, otherwise a long
one does. When the turn ends that last decode is already the final transcript, so it is ready
at once.
"""

from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Optional

import numpy as np

from assistant.asr import Decoded, Transcriber
from assistant.config import ListenConfig
from assistant.errors import DoppelError
from assistant.frontend import Denoiser, SnrTracker
from assistant.messages import PartialTranscript, SpeechStarted, UserTurn
from assistant.vad import BLOCK, SAMPLE_RATE, SileroVad

BLOCK_SECONDS = BLOCK / SAMPLE_RATE
HYSTERESIS = 0.15  # speech continues until the probability falls this far below the start threshold
PAUSE_DECODE_AFTER = 0.1  # seconds of silence before the pause decode (a stop consonant is shorter)
# A transcript ending in one of these words is a thought in progress, whatever its punctuation.
_CONTINUATIONS = {
    "and", "but", "or", "so", "because", "since", "although", "while", "if", "then", "than", "that", "which",
    "who", "when", "where", "whether", "the", "a", "an", "this", "these", "those", "my", "your", "our", "their",
    "his", "her", "its", "some", "any", "to", "of", "with", "for", "in", "on", "at", "about", "from", "into",
    "by", "as", "like", "is", "are", "was", "were", "be", "i", "we", "you", "um", "uh", "er", "erm", "hmm",
    "well", "just", "very", "really", "maybe",
}


def looks_complete(text: str) -> bool:
    """A sentence that ends like one: final . ? or ! and no dangling continuation word."""
    text = text.strip()
    if not text or text.endswith(("...", "…", ",", "-", "—")) or not text.endswith((".", "?", "!")):
        return False
    words = re.findall(r"[a-z']+", text.lower())
    return bool(words) and words[-1] not in _CONTINUATIONS


def stable_prefix(previous: str, current: str) -> str:
    """The words two successive hypotheses agree on, from the start."""
    agreed = []
    for a, b in zip(previous.split(), current.split()):
        if a.strip(".,?!").lower() != b.strip(".,?!").lower():
            break
        agreed.append(b)
    return " ".join(agreed)


@dataclass
class _Turn:
    start: float
    blocks: list = field(default_factory=list)
    voiced: float = 0.0  # seconds of speech so far
    silence: float = 0.0  # seconds of silence since speech last stopped
    announced: bool = False
    partial_at: float = 0.0  # `voiced` when the last partial was decoded
    partial_text: str = ""
    pause: Optional[Decoded] = None  # the decode made at the current pause
    speech_end: float = 0.0

    @property
    def audio(self) -> np.ndarray:
        return np.concatenate(self.blocks)


class Listener:
    def __init__(self, vad: SileroVad, transcriber: Transcriber, config: ListenConfig) -> None:
        self.vad = vad
        self.transcriber = transcriber
        self.config = config
        self.clock = 0.0  # seconds of audio heard
        self._pre_roll: deque = deque(maxlen=max(1, round(config.pre_roll / BLOCK_SECONDS)))
        self._turn: Optional[_Turn] = None
        self.denoise = Denoiser(config.noise_suppression) if config.noise_suppression else None
        self.snr = SnrTracker()
        self.hold = False  # while Doppel speaks, no new turn starts unless barge-in lets it
        self.decode_seconds = 0.0  # wall time spent in Whisper (for the CPU benchmark)

    def listen(self, blocks: Iterable[np.ndarray]) -> Iterator[object]:
        """Events (SpeechStarted, PartialTranscript, UserTurn) for a stream of blocks; an open turn
        is finished when the stream ends, so nothing heard is lost."""
        try:
            for block in blocks:
                yield from self.feed(block)
        except DoppelError:  # the source failed (a microphone unplugged): keep what was heard so far
            yield from self.finish()
            raise
        yield from self.finish()

    def feed(self, block: np.ndarray) -> list[object]:
        raw = block
        if self.denoise is not None:
            block = self.denoise(block)
        probability = self.vad(block)
        self.snr.update(raw, probability, in_turn=self._turn is not None)
        self.clock += BLOCK_SECONDS
        turn = self._turn
        if turn is None:
            if probability >= self.config.vad_threshold and not self.hold:
                self._turn = _Turn(start=self.clock - BLOCK_SECONDS - len(self._pre_roll) * BLOCK_SECONDS,
                                   blocks=[*self._pre_roll, block], voiced=BLOCK_SECONDS)
                self._pre_roll.clear()
            else:
                self._pre_roll.append(block)
            return []
        turn.blocks.append(block)
        if probability >= self.config.vad_threshold - HYSTERESIS:
            return self._on_speech(turn)
        return self._on_silence(turn)

    def finish(self) -> list[object]:
        turn, self._turn = self._turn, None
        if turn is None or turn.voiced < self.config.min_speech:
            return []
        return self._final(turn, time.perf_counter())

    def _on_speech(self, turn: _Turn) -> list[object]:
        events: list[object] = []
        turn.voiced += BLOCK_SECONDS + turn.silence  # a pause inside the turn belongs to it
        turn.silence, turn.pause = 0.0, None
        if not turn.announced and turn.voiced >= self.config.min_speech:
            turn.announced = True
            events.append(SpeechStarted(turn.start))
        if turn.announced and turn.voiced - turn.partial_at >= self.config.partial_every:
            turn.partial_at = turn.voiced
            text = self._decode(turn).text
            events.append(PartialTranscript(text, stable_prefix(turn.partial_text, text), self.clock))
            turn.partial_text = text
        if self.clock - turn.start >= self.config.max_turn:
            events += self._final(self._take(), time.perf_counter())
        return events

    def _on_silence(self, turn: _Turn) -> list[object]:
        if turn.silence == 0.0:
            turn.speech_end = self.clock - BLOCK_SECONDS
        turn.silence += BLOCK_SECONDS
        if turn.voiced < self.config.min_speech:  # a click or a cough: forget it once it is over
            if turn.silence >= self.config.end_silence_complete:
                self._take()
            return []
        if turn.pause is None and turn.silence >= PAUSE_DECODE_AFTER:
            turn.pause = self._decode(turn)
        if turn.pause is None:
            return []
        # unsure what was said (a low-confidence decode): as patient as with an unfinished sentence
        complete = looks_complete(turn.pause.text) and turn.pause.confidence >= self.config.complete_confidence
        wait = self._patience(complete)
        if turn.silence >= wait or self.clock - turn.start >= self.config.max_turn:
            return self._final(self._take(), time.perf_counter())
        return []

    def _patience(self, complete: bool) -> float:
        """Seconds of silence that end the turn. In noise Whisper may hear a fragment as a whole
        sentence, so there even a complete-looking one waits longer."""
        if not complete:
            return self.config.end_silence_incomplete
        if self.snr.db < self.config.noisy_below_snr_db:
            return self.config.end_silence_noisy
        return self.config.end_silence_complete

    def _take(self) -> _Turn:
        turn, self._turn = self._turn, None
        self.vad.reset()
        return turn

    def _decode(self, turn: _Turn) -> Decoded:
        began = time.perf_counter()
        decoded = self.transcriber.decode(turn.audio, offset=turn.start)
        self.decode_seconds += time.perf_counter() - began
        return decoded

    def _final(self, turn: _Turn, decided_wall: float) -> list[object]:
        decoded = turn.pause if turn.pause is not None else self._decode(turn)
        if not decoded.text:
            return []  # music, noise: heard, but nothing was said
        end = turn.speech_end if turn.silence else self.clock
        segments = tuple((s.start, min(s.end, self.clock), s.text) for s in decoded.segments)
        return [UserTurn(decoded.text, decoded.language, end - turn.start, start=turn.start, end=end,
                         decided=self.clock, final_latency=time.perf_counter() - decided_wall, segments=segments)]


def make_listener(config, language: Optional[str]) -> Listener:
    """The listener with the configured VAD and Whisper models, loaded."""
    from assistant import models

    transcriber = Transcriber(models.resolve(config, "asr").path, config.asr, language,
                              config.listen.no_speech_threshold)
    transcriber.load()
    return Listener(SileroVad(models.resolve(config, "vad").path), transcriber, config.listen)
