"""One turn, wired: the stages for `say` and `chat`, then the face and the sinks."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

import numpy as np

from assistant import models
from assistant.agent import AgentStage, make_chat_model
from assistant.asr import AsrStage, Transcriber
from assistant.config import Config
from assistant.errors import DoppelError
from assistant.messages import AudioClip, ReplySentence, SpeechChunk, Timings, UserTurn
from assistant.pipeline import Pipeline, Stage
from assistant.tts import VoiceStage
from assistant.voices import make_voice
from persona.persona import Persona

Report = Callable[[str, int, int], None]  # task, done, total: drives the CLI's progress bars


@dataclass
class TurnResult:
    transcript: str = ""
    reply: str = ""
    audio: Optional[AudioClip] = None
    chunks: list[SpeechChunk] = field(default_factory=list)
    timings: Timings = field(default_factory=Timings)


def voice_stage(config: Config, persona: Persona, timings: Timings, report: Report) -> Stage:
    with timings.measure("load_tts"):
        voice = make_voice(config, persona, _bytes(report, "preparing the voice"))
    return VoiceStage(voice, timings)


def chat_stages(config: Config, persona: Persona, timings: Timings, report: Report) -> list[Stage]:
    asr = models.resolve(config, "asr", _bytes(report, "preparing the speech recogniser"))
    return [
        AsrStage(Transcriber(asr.path, config.asr, persona.spec.language), timings),
        AgentStage(make_chat_model(config, persona.spec.system_prompt), config.llm, timings),
        voice_stage(config, persona, timings, report),
    ]


def run_turn(stages: list[Stage], inputs: Iterable[object], timings: Timings) -> TurnResult:
    """Stream inputs through the stages; gather what was heard and the speech, in order."""
    result = TurnResult(timings=timings)
    pipeline = Pipeline(stages)
    pipeline.start()
    began = time.perf_counter()
    for message in pipeline.run(inputs):
        if isinstance(message, UserTurn):
            result.transcript = message.text
        elif isinstance(message, SpeechChunk):
            if not result.chunks:
                timings.set("first_audio", time.perf_counter() - began)
            result.chunks.append(message)
    if not result.chunks:
        raise DoppelError("nothing to say: the reply came out empty; try again or rephrase")
    result.reply = " ".join(c.text for c in result.chunks)
    rate = result.chunks[0].audio.sample_rate
    result.audio = AudioClip(np.concatenate([c.audio.samples for c in result.chunks]), rate)
    timings.set("pipeline", time.perf_counter() - began)
    return result


def say_inputs(text: str) -> list[ReplySentence]:
    text = " ".join(text.split())
    if not text:
        raise DoppelError("the text is empty; give the words to say, e.g. doppel say \"Hello there\"")
    return [ReplySentence(text, 0)]


def _bytes(report: Report, task: str) -> models.Progress:
    return lambda done, total: report(task, done, total)


def chunk_starts(chunks: list[SpeechChunk]) -> list[float]:
    """Where each chunk starts on the reply's audio clock."""
    starts, t = [], 0.0
    for chunk in chunks:
        starts.append(t)
        t += chunk.audio.duration
    return starts

