"""Agent tools and the router that picks one.

Small models cannot free-form tool-call reliably, so routing is one completion constrained by a
JSON schema (llama.cpp grammar): {"tool": one of TOOLS, "argument": text}. The tool's result is
handed to the reply prompt.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from memory.store import MemoryStore

TOOLS = {
    "chat": "just talk: greetings, opinions, questions about the world",
    "recall": "the person asks what you remember or know about them",
    "remember": "the person asks you to remember or note something",
    "forget": "the person asks you to forget or delete something you know",
    "clock": "the person asks the current time, date or day",
    "reminder": "the person asks for a timer or a reminder after some time",
}
ROUTE_SCHEMA = {"type": "object", "properties": {
    "tool": {"type": "string", "enum": list(TOOLS)},
    "argument": {"type": "string", "maxLength": 80}}, "required": ["tool", "argument"]}
ROUTE_EXAMPLES = [
    ("Do you remember where I work?", '{"tool": "recall", "argument": "where I work"}'),
    ("Please remember that my locker code is 4312.", '{"tool": "remember", "argument": "locker code is 4312"}'),
    ("Set a timer for 5 minutes for the tea.", '{"tool": "reminder", "argument": "5 minutes: tea"}'),
    ("What's your favourite film?", '{"tool": "chat", "argument": ""}'),
]


# Example requests per tool (written for Doppel, apart from the labelled test set): the
# embedding router compares a message with these.
TOOL_EXAMPLES = {
    "chat": ["Good morning!", "How's it going?", "Tell me something interesting about octopuses.",
             "What's the difference between a virus and bacteria?", "I'm bored, let's talk.",
             "Can you help me write a short poem?", "Who painted the Mona Lisa?", "That's funny, thank you.",
             "What should I cook tonight?", "Explain gravity like I'm five."],
    "recall": ["What do you remember about my family?", "Do you remember my cat's name?",
               "What have I told you about my work?", "Tell me what you know about my hobbies.",
               "What was the name of my friend I mentioned?", "Do you still know where I grew up?",
               "What's my favourite food, do you recall?", "Remind me of the code I gave you."],
    "remember": ["Remember that my brother is called Tom.", "Please note my flight is on Friday.",
                 "Keep in mind I don't eat meat.", "Save this for later: locker 42.",
                 "Don't forget my anniversary is in April.", "Write down that I like the window seat.",
                 "I want you to remember my shoe size is 42.", "Note that the spare key is under the pot."],
    "forget": ["Forget my phone number.", "Delete what I told you about my brother.", "Erase my address.",
               "Please stop remembering my birthday.", "Remove the note about the spare key.",
               "Forget everything you know about my boss.", "Wipe the locker code from your memory."],
    "clock": ["What's the time?", "What day is it today?", "Tell me today's date.", "Is it morning or afternoon?",
              "What year is it?", "How late is it now?", "Which date is it?"],
    "reminder": ["Set a timer for five minutes.", "Remind me in an hour to stretch.", "Timer, 10 minutes.",
                 "Alert me in two minutes.", "Remind me in 45 minutes to check the oven.",
                 "Count down 90 seconds.", "Let me know in twenty minutes that the bath is ready."],
}


@dataclass(frozen=True)
class Route:
    tool: str
    argument: str


# Some intents are said with a small, fixed set of words: those cues decide first, MiniLM decides the rest.
_POLITE = r"^(?:(?:please|ok|okay|can you|could you|would you|i want you to|i'd like you to|i need you to)[\s,]+)*"
_STORE_CUE = re.compile(_POLITE + r"(?:remember|note|make a note|keep in mind|save|store|write down|"
                        r"don't forget that|do not forget that)\b")
_DELETE_CUE = re.compile(_POLITE + r"(?:forget|delete|erase|remove|wipe|stop remembering)\b")
_TIMER_CUE = re.compile(r"\b(?:timer|remind|alarm|alert|countdown|count down|wake|ping|time|let me know)\b")
_TIME_WORDS = re.compile(r"\b(?:time|date|day|today|tonight|month|year|hour|o'clock|noon|midnight|morning|"
                         r"afternoon|evening|late|early|week|monday|tuesday|wednesday|thursday|friday|saturday|"
                         r"sunday)\b")


class EmbeddingRouter:
    """Lexical cues for commands (store, delete, timer), else the nearest tool by MiniLM similarity:
    the mean of the top-3 example similarities per tool."""

    def __init__(self, embed: Callable) -> None:
        self._embed = embed
        self._examples = {tool: embed(examples) for tool, examples in TOOL_EXAMPLES.items()}

    def __call__(self, message: str) -> Route:
        text = message.strip().lower()
        question = text.endswith("?")
        if _duration(text) is not None and _TIMER_CUE.search(text):
            return Route("reminder", message)
        if not question and _STORE_CUE.match(text):
            return Route("remember", message)
        if not question and _DELETE_CUE.match(text):
            return Route("forget", message)
        vector = self._embed([message])[0]
        scores = {tool: float(np.sort(examples @ vector)[-3:].mean()) for tool, examples in self._examples.items()}
        if question:  # a question never asks to store or delete anything
            scores.pop("remember")
            scores.pop("forget")
        if not _TIME_WORDS.search(text):  # nobody asks the time without a word for it
            scores.pop("clock")
        return Route(max(scores, key=scores.get), message)


def route(complete_json: Callable[[list[dict], dict], dict], message: str) -> Route:
    menu = "\n".join(f"- {name}: {what}" for name, what in TOOLS.items())
    messages = [{"role": "system", "content": f"Choose the tool for the person's message.\n{menu}"}]
    for said, answer in ROUTE_EXAMPLES:
        messages += [{"role": "user", "content": said}, {"role": "assistant", "content": answer}]
    messages.append({"role": "user", "content": message[:500]})
    result = complete_json(messages, ROUTE_SCHEMA)
    tool = result.get("tool", "chat")
    return Route(tool if tool in TOOLS else "chat", str(result.get("argument", "")).strip())


class Toolbox:
    """Runs a routed tool for one user; returns a line for the reply prompt (or "" for chat)."""

    def __init__(self, memory: MemoryStore, user: str, reminders: Path) -> None:
        self.memory, self.user, self.reminders = memory, user, reminders

    def run(self, choice: Route, message: str) -> str:
        return getattr(self, f"_{choice.tool}")(choice.argument or message)

    def _chat(self, _argument: str) -> str:
        return ""

    def _recall(self, argument: str) -> str:
        found = self.memory.recall(self.user, argument, k=3, their_words_only=True)
        return "You remember: " + "; ".join(m.text for m in found) if found else "You remember nothing about that."

    def _remember(self, argument: str) -> str:
        key, _, value = argument.partition(" is ")
        self.memory.remember_fact(self.user, key if value else "note", value or argument)
        return f"You have saved this: {argument}."

    def _forget(self, argument: str) -> str:
        removed = self.memory.forget(self.user, about=argument)
        return f"You forgot {removed} thing(s) about {argument}." if removed else f"You knew nothing about {argument}."

    def _clock(self, _argument: str) -> str:
        return "It is now " + dt.datetime.now().strftime("%A %d %B %Y, %H:%M") + "."

    def _reminder(self, argument: str) -> str:
        seconds = _duration(argument)
        if seconds is None:
            return "Ask the person how long the timer should be."
        due = time.time() + seconds
        self.reminders.parent.mkdir(parents=True, exist_ok=True)
        with open(self.reminders, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"user": self.user, "due": due, "what": argument}) + "\n")
        return f"A reminder is set for {dt.datetime.fromtimestamp(due).strftime('%H:%M')} ({argument})."


_UNITS = {"second": 1, "sec": 1, "minute": 60, "min": 60, "hour": 3600, "hr": 3600}
_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "five": 5, "ten": 10, "fifteen": 15, "twenty": 20,
          "thirty": 30, "half an": 0.5}


def _duration(text: str) -> float | None:
    match = re.search(r"(\d+(?:\.\d+)?|half an|an?|one|two|three|five|ten|fifteen|twenty|thirty)\s*"
                      r"(second|sec|minute|min|hour|hr)s?", text.lower())
    if not match:
        return None
    amount = float(match.group(1)) if match.group(1)[0].isdigit() else _WORDS[match.group(1)]
    return amount * _UNITS[match.group(2)]
