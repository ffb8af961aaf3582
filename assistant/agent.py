"""Agent stage: a LangChain chat chain on a local GGUF model through llama-cpp-python.

The reply streams: tokens are grouped into sentences and each is handed to the voice at once.
The persona's static prompt comes first so llama.cpp can reuse its KV cache across turns.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Iterator, Optional, Sequence

from assistant.config import LlmConfig
from assistant.errors import DoppelError
from assistant.messages import ReplySentence, TextInput, Timings, UserTurn
from assistant.pipeline import Stage
from assistant.sentences import SentenceSplitter

MAX_INPUT_CHARS = 2000  # a spoken turn is far shorter; bounds prompt time on 2 cores
# Small models drift into lists and essays; a reminder next to the question keeps them conversational.
STYLE_EXAMPLE = [  # one worked exchange shows the spoken style better than any instruction
    ("human", "What do I need for a day at the beach?"),
    ("ai", "Bring sunscreen, a hat and plenty of water. A towel and a good book make it even better."),
]
SPOKEN_REMINDER = "\n\n(Reply out loud in two or three short sentences of plain conversation, no list.)"


class ChatModel:
    """The LangChain chain: persona system prompt + the person's words → streamed reply text."""

    def __init__(self, model_path: Optional[Path], config: LlmConfig, system_prompt: str) -> None:
        self.model_path = model_path  # None with the OpenAI-compatible backend
        self.config = config
        self.system_prompt = system_prompt
        self.llm = None
        self._chain = None
        # llama.cpp is not thread-safe: one call at a time (a reply streams in the agent's thread while
        # the listener's thread may extract facts after a barge-in)
        self.lock = threading.RLock()

    def load(self) -> None:
        from langchain_community.chat_models import ChatLlamaCpp
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder

        if self._chain is not None:
            return
        llm = self._server_model() if self.config.backend == "openai" else self._local_model(ChatLlamaCpp)
        self.llm = llm
        prompt = ChatPromptTemplate.from_messages(
            [("system", self.system_prompt), *STYLE_EXAMPLE, MessagesPlaceholder("history"),
             ("human", "{message}" + SPOKEN_REMINDER)])
        self._chain = prompt | llm | StrOutputParser()

    def _local_model(self, chat_class):
        try:
            return chat_class(
                model_path=str(self.model_path), n_ctx=self.config.context_tokens, n_threads=self.config.threads,
                n_batch=256, max_tokens=self.config.max_reply_tokens, temperature=self.config.temperature,
                seed=self.config.seed, streaming=True, verbose=False,
            )
        except Exception as exc:  # llama.cpp raises ValueError for a file it cannot load
            raise DoppelError(f"models.llm: cannot load {self.model_path} ({type(exc).__name__}); "
                              "point it at a GGUF chat model") from None

    def _server_model(self):
        """Any OpenAI-compatible server: Ollama, llama.cpp's server, vLLM..."""
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(base_url=self.config.base_url, api_key=self.config.api_key or "not-needed",
                          model=self.config.server_model, temperature=self.config.temperature,
                          max_tokens=self.config.max_reply_tokens, seed=self.config.seed, streaming=True,
                          timeout=60, max_retries=0)

    def stream(self, message: str, history: Sequence[tuple[str, str]] = (),
               cancelled: Optional[threading.Event] = None) -> Iterator[str]:
        """Reply tokens; `history` is earlier (role, text) pairs, oldest first: append-only, so
        llama.cpp reuses the cached prompt up to the new turn."""
        if self._chain is None:
            self.load()
        tokens = self._chain.stream({"message": message[:MAX_INPUT_CHARS], "history": list(history)})
        try:
            while True:
                with self.lock:  # per token, so an abandoned (barged-in) reply never blocks the model
                    # checked while holding the lock: a reply cancelled while it waited must not
                    # resume after another completion has used the model (llama.cpp asserts)
                    if cancelled is not None and cancelled.is_set():
                        tokens.close()  # never resume: each switch between two replies re-reads a whole prompt
                        return
                    token = next(tokens, None)
                if token is None:
                    return
                yield token
        except GeneratorExit:
            with self.lock:  # an abandoned reply's clean-up runs llama.cpp code too
                tokens.close()
            raise
        except Exception as exc:
            if self.config.backend != "openai" or "Connection" not in type(exc).__name__:
                raise
            raise DoppelError(f"cannot reach the language-model server at {self.config.base_url}; "
                              "start it, or fix llm.base_url (or set llm.backend: llama_cpp)") from None


class AgentStage(Stage):
    name = "agent"

    def __init__(self, model: ChatModel, config: LlmConfig, timings: Timings,
                 history: Sequence[tuple[str, str]] = (), tagger=None) -> None:
        self.model = model
        self.config = config
        self.timings = timings
        self.history = history
        self.tagger = tagger  # an EmotionTagger: each sentence leaves with its emotion

    def start(self) -> None:
        with self.timings.measure("load_llm"):
            self.model.load()

    def handle(self, message: object) -> Iterator[object]:
        if not isinstance(message, (UserTurn, TextInput)):
            yield message
            return
        if isinstance(message, UserTurn):
            yield message  # downstream sinks show and log what was heard
        splitter = SentenceSplitter(self.config.min_clause_words)
        began = time.perf_counter()
        tokens, index = 0, 0
        for token in self.model.stream(message.text, self.history, self.cancelled):
            if tokens == 0:
                self.timings.set("llm_first_token", time.perf_counter() - began)
            tokens += 1
            for sentence in splitter.feed(token):
                yield self._sentence(sentence, index)
                index += 1
            if index >= self.config.max_reply_sentences:
                break  # a spoken answer stays short even when a small model rambles
        for sentence in splitter.flush() if index < self.config.max_reply_sentences else ():
            yield self._sentence(sentence, index)
            index += 1
        elapsed = time.perf_counter() - began
        self.timings.set("llm", elapsed)
        self.timings.set("llm_tokens", tokens)
        if tokens > 1:
            first = self.timings.values["llm_first_token"]
            self.timings.set("llm_tokens_per_s", (tokens - 1) / max(elapsed - first, 1e-6))
        if index == 0:
            yield ReplySentence("Sorry, I have nothing to say to that.", 0)

    def _sentence(self, text: str, index: int) -> ReplySentence:
        if self.tagger is None:
            return ReplySentence(text, index)
        tag = self.tagger.tag(text)
        return ReplySentence(text, index, tag.emotion, tag.intensity)


def json_completer(model: ChatModel, max_tokens: int = 160):
    """A function (messages, schema) → dict that runs the loaded model constrained to the JSON schema."""
    import json

    def complete(messages: list[dict], schema: dict) -> dict:
        model.load()
        with model.lock:
            return _complete_locked(messages, schema)

    def _complete_locked(messages: list[dict], schema: dict) -> dict:
        response_format = {"type": "json_object", "schema": schema}  # llama.cpp turns the schema into a grammar
        if model.config.backend == "openai":
            answer = model.llm.bind(response_format=response_format, max_tokens=max_tokens, temperature=0.0)
            content = answer.invoke([(m["role"].replace("user", "human").replace("assistant", "ai"), m["content"])
                                     for m in messages]).content
        else:
            result = model.llm.client.create_chat_completion(
                messages=messages, response_format=response_format, max_tokens=max_tokens, temperature=0.0)
            content = result["choices"][0]["message"]["content"]
        try:
            return json.loads(content)
        except (ValueError, TypeError):
            return {}

    return complete


def make_chat_model(config, system_prompt: str) -> ChatModel:
    """The configured chat model: a local GGUF through llama.cpp, or an OpenAI-compatible server."""
    from assistant import models

    path = None if config.llm.backend == "openai" else models.resolve(config, "llm").path
    return ChatModel(path, config.llm, system_prompt)


SUMMARY_PREFIX = "Earlier in this conversation: "


def summarize(model: ChatModel, turns: Sequence[tuple[str, str]], max_tokens: int = 90) -> str:
    """Fold old turns into one short paragraph, so a long conversation fits the context window."""
    model.load()
    with model.lock:
        return _summarize_locked(model, turns, max_tokens)


def _summarize_locked(model: ChatModel, turns: Sequence[tuple[str, str]], max_tokens: int) -> str:
    transcript = "\n".join(f"{'Person' if role == 'human' else 'You'}: {text}" for role, text in turns)
    request = [("system", "Summarize this conversation in two or three sentences. Keep names, facts and "
                          "anything the person asked you to do."), ("human", transcript[-4000:])]
    return SUMMARY_PREFIX + str(model.llm.bind(max_tokens=max_tokens, temperature=0.0).invoke(request).content).strip()


def fold_history(model: ChatModel, history: list[tuple[str, str]], keep_turns: int) -> list[tuple[str, str]]:
    """History stays append-only (llama.cpp reuses its cache) until it outgrows `keep_turns`
    exchanges; then the older half becomes one summary and the recent half stays word for word."""
    if len(history) <= 2 * keep_turns:
        return history
    cut = len(history) - keep_turns  # keep the newest half
    cut -= cut % 2  # whole exchanges
    return [("ai", summarize(model, history[:cut]))] + history[cut:]
