"""Stages in threads: work streams through in order; a cancel drops queued work at once."""

import threading
import time

from assistant.messages import Cancel, EndOfTurn
from assistant.pipeline import Pipeline, Stage


class Double(Stage):
    name = "double"

    def handle(self, message):
        yield message * 2


class Slow(Stage):
    name = "slow"

    def __init__(self):
        self.seen = []

    def handle(self, message):
        time.sleep(0.05)
        self.seen.append(message)
        yield message


def test_messages_stream_through_in_order():
    pipeline = Pipeline([Double(), Double()])
    pipeline.start()
    out = list(pipeline.run(range(5)))
    assert out[:-1] == [0, 4, 8, 12, 16] and isinstance(out[-1], EndOfTurn)


def test_cancel_drops_queued_work():
    slow = Slow()
    pipeline = Pipeline([Double(), slow], queue_size=100)
    pipeline.start()
    threading.Timer(0.12, pipeline.cancel, args=("barge-in",)).start()
    out = list(pipeline.run(range(100)))
    assert isinstance(out[-1], Cancel) and out[-1].reason == "barge-in"
    assert len(slow.seen) < 10  # the other ~90 queued items were never processed


def test_a_stage_error_reaches_the_caller():
    class Broken(Stage):
        def handle(self, message):
            raise ValueError("boom")
            yield

    pipeline = Pipeline([Broken()])
    try:
        list(pipeline.run([1]))
    except ValueError as error:
        assert "boom" in str(error)
    else:
        raise AssertionError("the error was swallowed")
