"""Rate-limited failure lines: the first at once, then one per interval with the count."""

from __future__ import annotations

import errno
import socket

from ari.failures import FailureCount, reason


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_first_failure_is_logged_then_one_line_per_interval_with_the_count() -> None:
    clock = FakeClock()
    count = FailureCount(60.0, clock)
    lines = []
    for _ in range(121):  # one attempt a second for two minutes
        lines.append(count.failed())
        clock.now += 1.0
    due = [line for line in lines if line is not None]
    assert due == ["", " (60 failures in the last 60 s)", " (60 failures in the last 60 s)"]
    assert count.total == 121


def test_a_success_says_how_many_attempts_failed_and_starts_afresh() -> None:
    clock = FakeClock()
    count = FailureCount(60.0, clock)
    assert count.succeeded() == ""
    count.failed()
    clock.now += 1
    count.failed()
    assert count.succeeded() == " after 2 failed attempts"
    assert count.failed() == ""  # a new outage: its first failure is logged at once


def test_one_failure_in_an_interval_is_singular() -> None:
    clock = FakeClock()
    count = FailureCount(2.0, clock)
    count.failed()
    clock.now += 2.5
    assert count.failed() == " (1 failure in the last 2.5 s)"


def test_the_reason_is_a_few_words() -> None:
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed ('127.0.0.1', 1)")
    assert reason(refused) == "connection refused"
    assert reason(socket.gaierror(-2, "Name or service not known")) == (
        "unknown host: Name or service not known")
    assert reason(TimeoutError()) == "timed out"
    assert reason(RuntimeError("odd")) == "odd"
