"""The core's timers: a heap of (due time, kind, subject). Nothing here sleeps: the driver
asks for the next due time and calls back; the core re-checks state when a timer fires, so a
timer never needs cancelling — a stale one simply finds nothing to do."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from enum import Enum


class TimerKind(Enum):
    WELCOME_GUARD = "welcome_guard"  # the welcome prompt's end was never reported
    ESCALATE = "escalate"  # SLA deadline at a tier
    ANNOUNCE = "announce"  # periodic prompt while queued
    RING_GUARD = "ring_guard"  # the ring outcome was never reported
    WRAP_UP = "wrap_up"  # after-call work time is over
    NATIONAL_ALERT = "national_alert"  # a call has waited too long at the last tier
    OUTSIDE_GUARD = "outside_guard"  # an outside number's ring outcome was never reported


@dataclass(order=True, frozen=True, slots=True)
class Timer:
    at: float
    seq: int
    kind: TimerKind = field(compare=False)
    subject: str = field(compare=False)  # a call, offer or agent id
    token: int = field(compare=False)  # what the subject's state was when set


class Timers:
    def __init__(self) -> None:
        self._heap: list[Timer] = []
        self._seq = 0

    def set(self, at: float, kind: TimerKind, subject: str, token: int = 0) -> None:
        self._seq += 1
        heapq.heappush(self._heap, Timer(at, self._seq, kind, subject, token))

    def next_due(self) -> float | None:
        return self._heap[0].at if self._heap else None

    def pop_due(self, now: float) -> Timer | None:
        if self._heap and self._heap[0].at <= now:
            return heapq.heappop(self._heap)
        return None

    def __len__(self) -> int:
        return len(self._heap)
