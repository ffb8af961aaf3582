"""Stages in threads joined by bounded queues.

Each stage turns one input message into zero or more output messages. Work streams: the voice
starts on the first sentence while the agent still writes the second. A cancel (barge-in, quit)
bypasses the queues: it sets one flag every stage checks, queued work is dropped, and a Cancel
message comes out of the end.
"""

from __future__ import annotations

import queue
import threading
from abc import ABC, abstractmethod
from typing import Iterable, Iterator

from assistant.messages import Cancel, EndOfTurn


class Stage(ABC):
    name = "stage"
    # set by the pipeline: a stage doing long work inside one message (an LLM reply) checks it often
    cancelled: threading.Event = threading.Event()

    def start(self) -> None:
        """Load models before the first message (called on the caller's thread, in order)."""

    @abstractmethod
    def handle(self, message: object) -> Iterator[object]:
        """Yield the messages that follow from one input message."""


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class Pipeline:
    def __init__(self, stages: list[Stage], queue_size: int = 16) -> None:
        self.stages = stages
        self.queues: list[queue.Queue] = [queue.Queue(queue_size) for _ in range(len(stages) + 1)]
        self.cancelled = threading.Event()
        for stage in stages:
            stage.cancelled = self.cancelled

    def start(self) -> None:
        """Load every stage's models, in order, before any work flows."""
        for stage in self.stages:
            stage.start()

    def run(self, inputs: Iterable[object]) -> Iterator[object]:
        """Feed inputs through every stage and yield what the last stage produces, until EndOfTurn."""
        threads = [
            threading.Thread(target=self._loop, args=(s, self.queues[i], self.queues[i + 1]), daemon=True, name=s.name)
            for i, s in enumerate(self.stages)
        ]
        for t in threads:
            t.start()
        feeder = threading.Thread(target=self._feed, args=(inputs,), daemon=True)
        feeder.start()
        while True:
            message = self.queues[-1].get()
            if isinstance(message, _Failure):
                self.cancel("a stage failed")
                raise message.error
            yield message
            if isinstance(message, (EndOfTurn, Cancel)):
                break
        for t in threads:
            t.join(timeout=5)

    def cancel(self, reason: str = "") -> None:
        """Drop all queued work now; the last queue then receives a Cancel."""
        self.cancelled.set()
        for q in self.queues[:-1]:
            _drain(q)
        _drain(self.queues[-1])
        self.queues[-1].put(Cancel(reason))

    def _feed(self, inputs: Iterable[object]) -> None:
        for item in inputs:
            if self.cancelled.is_set():
                return
            self.queues[0].put(item)
        self.queues[0].put(EndOfTurn())

    def _loop(self, stage: Stage, inbox: queue.Queue, outbox: queue.Queue) -> None:
        while not self.cancelled.is_set():
            message = inbox.get()
            if isinstance(message, (EndOfTurn, _Failure)):
                outbox.put(message)
                return
            try:
                for out in stage.handle(message):
                    if self.cancelled.is_set():
                        return
                    outbox.put(out)
            except BaseException as error:  # handed to the caller's thread, which re-raises it
                outbox.put(_Failure(error))
                return


def _drain(q: queue.Queue) -> None:
    try:
        while True:
            q.get_nowait()
    except queue.Empty:
        pass
