"""The live conversation: microphone → listener → agent → voice → speakers (and face), with barge-in.

One thread reads the microphone block by block: it cancels echo, checks for barge-in, feeds the
listener, and draws the face for the player's position. Each reply runs the agent and voice
stages in their own threads and queues speech on the player as sentences arrive. When the person
interrupts, playback stops, the reply's queued work is dropped, and the history keeps only what
was heard.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional

import numpy as np

from assistant import models
from assistant.agent import fold_history
from assistant.bargein import BargeInDetector
from assistant.companion import Companion
from assistant.config import Config
from assistant.listener import make_listener
from assistant.messages import Cancel, SpeechChunk, TextInput, Timings, UserTurn
from assistant.pipeline import Pipeline
from assistant.player import StreamPlayer
from assistant.tts import VoiceStage
from assistant.voices import make_voice
from assistant.vad import BLOCK, SAMPLE_RATE, SileroVad
from persona.persona import Persona
from renderers.animator import SpeechTimeline

DRAIN_SECONDS = 30.0  # after a file source ends, the longest wait for the reply in progress


@dataclass(frozen=True)
class BargeIn:
    """The person interrupted: `heard` is the part of the reply they heard."""

    t: float
    heard: str
    reaction: float  # seconds from detection to silence


@dataclass(frozen=True)
class ReplyDone:
    text: str
    first_audio: float  # seconds from the end of the person's turn to the first sound


@dataclass
class _Reply:
    pipeline: Pipeline
    turn: UserTurn
    started: float
    prompt: str  # the person's words with recalled memories and the tool's result
    sentences: list = field(default_factory=list)  # (start on the reply clock, text)
    end: float = 0.0  # reply clock time queued so far
    first_audio: Optional[float] = None
    finished: bool = False
    phonemes: tuple = ()  # every phoneme queued so far, on the reply clock (for the face)
    moods: tuple = ()  # (start, end, emotion, intensity) of each queued sentence (for the face)
    timeline: Optional[SpeechTimeline] = None  # rebuilt when a sentence is queued


class Conversation:
    def __init__(self, config: Config, persona: Persona, source, player: Optional[StreamPlayer] = None,
                 user: str = "default") -> None:
        self.config, self.persona, self.source = config, persona, source
        self.listener = make_listener(config, persona.spec.language)
        self.barge_in = BargeInDetector(SileroVad(models.resolve(config, "vad").path), config.barge_in)
        self.speaker = make_voice(config, persona)
        self.companion = Companion(config, persona, user)  # memory, tools, emotions, and the chat model
        self.chat = self.companion.chat
        self.player = player or StreamPlayer(self.speaker.sample_rate, config.audio.output_device)
        self.history: list[tuple[str, str]] = []
        self._reply: Optional[_Reply] = None
        self._lock = threading.Lock()

    def run(self, max_replies: Optional[int] = None,
            on_block: Optional[Callable[[Optional[SpeechTimeline], float], bool]] = None) -> Iterator[object]:
        """Events as they happen: the listener's, BargeIn, ReplyDone. Ends with the source or after
        `max_replies` finished replies, or when on_block says so. on_block(timeline, position) runs after
        every microphone block (32 ms): the face window draws the frame for that playback position."""
        replies = 0
        for raw in self._blocks_then_silence():
            for event in self._step(raw):
                yield event
                replies += isinstance(event, ReplyDone)
            if on_block is not None and on_block(*self.speech_now()):
                return
            if max_replies is not None and replies >= max_replies:
                return

    def _blocks_then_silence(self) -> Iterator[np.ndarray]:
        """The source's blocks; when it ends (a file), silence in real time until the reply in
        progress has been spoken (at most DRAIN_SECONDS), as a microphone in a quiet room would."""
        yield from self.source.blocks()
        silence = np.zeros(BLOCK, np.float32)
        deadline = time.monotonic() + DRAIN_SECONDS
        while self._reply is not None and time.monotonic() < deadline:
            time.sleep(BLOCK / SAMPLE_RATE)
            yield silence

    def _step(self, raw) -> Iterator[object]:
        reply = self._reply
        speaking = reply is not None and (self.player.playing or not reply.finished)
        fired, cleaned = self.barge_in.feed(raw, self.player.far_end(BLOCK))
        self.listener.hold = speaking
        if speaking and fired:
            yield self._interrupt()
            self.listener.hold = False
        for event in self.listener.feed(cleaned):
            yield event
            if isinstance(event, UserTurn):
                if self._reply is not None:
                    self._interrupt()
                self._start_reply(event)
        reply = self._reply
        if reply is not None and reply.finished and not self.player.playing:
            yield self._complete(reply)

    def speech_now(self) -> tuple[Optional[SpeechTimeline], float]:
        """The reply being spoken (None when silent) and the audio playback position in it."""
        with self._lock:
            reply = self._reply
            timeline = reply.timeline if reply is not None else None
        return timeline, self.player.position()

    def _start_reply(self, turn: UserTurn) -> None:
        timings = Timings()
        self.history = fold_history(self.chat, self.history, self.config.llm.history_turns)
        prompt, _memories, _tool = self.companion.prepare(turn.text)
        stages = [self.companion.agent(tuple(self.history)), VoiceStage(self.speaker, timings)]
        reply = _Reply(Pipeline(stages), turn, time.perf_counter(), prompt)
        self.history.append(("human", turn.text))
        self.player.begin()
        self.barge_in.reset()
        self._reply = reply
        threading.Thread(target=self._speak, args=(reply,), daemon=True, name="reply").start()

    def _speak(self, reply: _Reply) -> None:
        """The reply thread: queue each sentence's audio as soon as it is synthesized."""
        for message in reply.pipeline.run([TextInput(reply.prompt)]):
            if isinstance(message, Cancel):
                break
            if isinstance(message, SpeechChunk):
                with self._lock:
                    if reply is not self._reply:
                        break
                    if reply.first_audio is None:
                        reply.first_audio = time.perf_counter() - reply.started
                    reply.sentences.append((reply.end, message.text))
                    reply.phonemes += SpeechTimeline.join([(reply.end, message.phonemes)], 0.0).phonemes
                    reply.moods += ((reply.end, reply.end + message.audio.duration, message.emotion,
                                     message.intensity),)
                    reply.end += message.audio.duration
                    reply.timeline = SpeechTimeline(reply.phonemes, reply.end, reply.moods)
                    self.player.enqueue(message.audio.samples)
        reply.finished = True

    def _interrupt(self) -> BargeIn:
        began = time.perf_counter()
        with self._lock:
            reply, self._reply = self._reply, None
            position = self.player.stop()
        reply.pipeline.cancel("barge-in")
        heard = _heard(reply, position)
        if heard:
            self.history.append(("ai", heard))
        reaction = time.perf_counter() - began
        self.companion.remember(reply.turn.text, heard)  # only what was heard
        return BargeIn(self.listener.clock, heard, reaction)

    def _complete(self, reply: _Reply) -> ReplyDone:
        self._reply = None
        text = " ".join(t for _, t in reply.sentences)
        self.history.append(("ai", text))
        self.companion.remember(reply.turn.text, text)
        return ReplyDone(text, reply.first_audio or 0.0)

    def close(self) -> None:
        self.player.close()
        self.source.close()
        self.companion.close()


def _heard(reply: _Reply, position: float) -> str:
    """Whole sentences played before `position`, and the words of the one cut off, in proportion."""
    heard = []
    bounds = [start for start, _ in reply.sentences[1:]] + [reply.end]
    for (start, text), end in zip(reply.sentences, bounds):
        if position >= end:
            heard.append(text)
        elif position > start:
            words = text.split()
            cut = int(len(words) * (position - start) / max(end - start, 1e-6))
            if cut:
                heard.append(" ".join(words[:cut]) + "…")
            break
    return " ".join(heard)
