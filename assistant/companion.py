"""One turn of thinking with memory: recall what matters, answer, remember the turn and its facts.

The prompt keeps its static part first (persona, style example) and puts the recalled memories
and the new message last, so llama.cpp reuses its cached prompt across turns.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from assistant import models
from assistant.agent import AgentStage, ChatModel, json_completer
from assistant.config import Config
from assistant.errors import DoppelError
from assistant.messages import ReplySentence, TextInput, Timings
from memory.embeddings import MiniLm
from memory.facts import extract_facts
from memory.store import Memory, MemoryStore
from persona.persona import Persona

MAX_MESSAGE_CHARS = 2000


@dataclass
class AskResult:
    reply: str
    sentences: list[ReplySentence]
    memories: list[Memory]
    learned: list[tuple[str, str]]
    timings: dict = field(default_factory=dict)


def clean_message(message: str) -> str:
    """Valid text of bounded length, or a clear error."""
    text = message.encode("utf-8", "replace").decode("utf-8", "replace")  # lone surrogates from bad bytes
    text = " ".join(text.replace("\ufffd", " ").split())
    if not text:
        raise DoppelError('the message is empty; give the words to send, e.g. doppel ask "How are you?"')
    return text[:MAX_MESSAGE_CHARS]


def open_memory(config: Config) -> MemoryStore:
    return MemoryStore(config.home / "memory", MiniLm(models.resolve(config, "embeddings").path),
                       config.memory.recency_weight)


class Companion:
    def __init__(self, config: Config, persona: Persona, user: str) -> None:
        self.config, self.persona, self.user = config, persona, user
        self.timings = Timings()
        with self.timings.measure("load_memory"):
            self.memory = open_memory(config)
        with self.timings.measure("load_llm"):
            self.chat = ChatModel(models.resolve(config, "llm").path, config.llm, persona.spec.system_prompt)
            self.chat.load()

    def ask(self, message: str) -> AskResult:
        message = clean_message(message)
        with self.timings.measure("recall"):
            memories = self.memory.recall(self.user, message, k=self.config.memory.recall)
        memories = [m for m in memories if m.score >= self.config.memory.min_score]
        prompt = _with_memories(message, memories)
        stage = AgentStage(self.chat, self.config.llm, self.timings)
        sentences = [s for s in stage.handle(TextInput(prompt)) if isinstance(s, ReplySentence)]
        reply = " ".join(s.text for s in sentences)
        began = time.perf_counter()
        self.memory.add_episode(self.user, "user", message)
        self.memory.add_episode(self.user, "doppel", reply)
        learned = extract_facts(json_completer(self.chat), message)
        for key, value in learned:
            self.memory.remember_fact(self.user, key, value)
        self.timings.set("remember", time.perf_counter() - began)
        return AskResult(reply, sentences, memories, learned, dict(self.timings.values))

    def close(self) -> None:
        self.memory.close()


def _with_memories(message: str, memories: list[Memory]) -> str:
    if not memories:
        return message
    lines = "\n".join(f"- {m.text}" for m in memories)
    return f"(What you remember about the person you are talking to:\n{lines})\n\n{message}"
