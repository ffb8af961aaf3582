"""One turn of thinking with memory: recall what matters, answer, remember the turn and its facts.

The prompt keeps its static part first (persona, style example) and puts the recalled memories
and the new message last, so llama.cpp reuses its cached prompt across turns.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Optional

from assistant import models
from assistant.agent import AgentStage, json_completer, make_chat_model
from assistant.config import Config
from assistant.emotion import EmotionTagger, Tag
from assistant.errors import DoppelError
from assistant.messages import ReplySentence, TextInput, Timings
from assistant.tools import EmbeddingRouter, Toolbox
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
    user_emotion: Optional[Tag] = None
    tool: str = "chat"


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
            self.chat = make_chat_model(config, persona.spec.system_prompt)
            self.chat.load()
        self.tagger = EmotionTagger(config.emotion.method, self.memory.embedder.embed, json_completer(self.chat, 40))
        self.router = EmbeddingRouter(self.memory.embedder.embed)
        self.tools = Toolbox(self.memory, user, config.home / "reminders.jsonl")

    def prepare(self, message: str) -> tuple[str, list[Memory], str]:
        """The prompt for a message: recalled memories and the routed tool's result in front of it."""
        with self.timings.measure("recall"):
            memories = self.memory.recall(self.user, message, k=self.config.memory.recall, their_words_only=True)
        memories = [m for m in memories if m.score >= self.config.memory.min_score]
        with self.timings.measure("tool"):
            choice = self.router(message)
            tool_result = self.tools.run(choice, message)
        return _with_memories(message, memories, tool_result), memories, choice.tool

    def agent(self, history=()) -> AgentStage:
        return AgentStage(self.chat, self.config.llm, self.timings, history, tagger=self.tagger)

    def remember(self, message: str, reply: str, reply_emotion: str = "neutral") -> tuple[Tag, list]:
        """Keep the turn (what was actually said) and any facts in the person's words."""
        began = time.perf_counter()
        user_emotion = self.tagger.tag(message)
        self.memory.add_episode(self.user, "user", message, user_emotion.emotion)
        if reply:
            self.memory.add_episode(self.user, "doppel", reply, reply_emotion)
        learned = extract_facts(json_completer(self.chat), message)
        for key, value in learned:
            self.memory.remember_fact(self.user, key, value)
        self.timings.set("remember", time.perf_counter() - began)
        return user_emotion, learned

    def ask(self, message: str) -> AskResult:
        message = clean_message(message)
        prompt, memories, tool = self.prepare(message)
        sentences = [s for s in self.agent().handle(TextInput(prompt)) if isinstance(s, ReplySentence)]
        reply = " ".join(s.text for s in sentences)
        user_emotion, learned = self.remember(message, reply, sentences[0].emotion if sentences else "neutral")
        return AskResult(reply, sentences, memories, learned, dict(self.timings.values), user_emotion, tool)

    def close(self) -> None:
        self.memory.close()


def _with_memories(message: str, memories: list[Memory], tool_result: str = "") -> str:
    """The new turn, with what memory and the tool contributed in front of it."""
    notes = []
    if memories:
        notes.append("What you remember about the person you are talking to:\n"
                     + "\n".join(f"- {m.text}" for m in memories))
    if tool_result:
        notes.append(tool_result)
    return "(" + "\n".join(notes) + ")\n\n" + message if notes else message
