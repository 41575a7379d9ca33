"""Staffing forecast with Erlang C: agents needed per interval for a service level target
(80 % answered within 20 s, the tender's target), from the history of offered calls and
handle times. Pure: no I/O, no clock.

Erlang C models calls arriving at random (Poisson) to N agents with exponential handle
times, callers waiting until answered. With traffic A = calls x AHT / interval (Erlangs):

    P(wait)        C(N, A) = N B(N, A) / (N - A (1 - B(N, A)))   (B: Erlang B, by recursion)
    service level  SL(t)   = 1 - C(N, A) exp(-(N - A) t / AHT)
    ASA            = C(N, A) AHT / (N - A)

Erlang C ignores abandonment, so it errs on the side of more agents: right for 117.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


def erlang_b(traffic: float, agents: int) -> float:
    """Blocking probability, by the numerically stable recursion."""
    if agents < 0 or traffic < 0:
        raise ValueError("agents and traffic must not be negative")
    b = 1.0
    for n in range(1, agents + 1):
        b = traffic * b / (n + traffic * b)
    return b


def erlang_c(traffic: float, agents: int) -> float:
    """Probability that a call has to wait; 1.0 when the agents cannot keep up."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    b = erlang_b(traffic, agents)
    return agents * b / (agents - traffic * (1 - b))


def service_level(traffic: float, agents: int, aht_s: float, target_s: float) -> float:
    """Share of calls answered within `target_s`."""
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    return 1.0 - erlang_c(traffic, agents) * math.exp(-(agents - traffic) * target_s / aht_s)


def asa_s(traffic: float, agents: int, aht_s: float) -> float:
    """Average speed of answer; infinite when the agents cannot keep up."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return math.inf
    return erlang_c(traffic, agents) * aht_s / (agents - traffic)


def traffic_erlangs(calls: float, aht_s: float, interval_s: float) -> float:
    return calls * aht_s / interval_s


def agents_needed(calls: float, aht_s: float, interval_s: float, *,
                  target_level: float = 0.8, target_s: float = 20.0,
                  max_occupancy: float | None = None) -> int:
    """The fewest agents for which the service level reaches the target (and, if given,
    occupancy stays at or under `max_occupancy`)."""
    if not 0 < target_level < 1:
        raise ValueError("target_level is a share between 0 and 1")
    a = traffic_erlangs(calls, aht_s, interval_s)
    if a <= 0:
        return 0
    n = max(1, math.floor(a) + 1)
    if max_occupancy is not None:
        n = max(n, math.ceil(a / max_occupancy))
    while service_level(a, n, aht_s, target_s) < target_level:
        n += 1
    return n


@dataclass(frozen=True, slots=True)
class IntervalHistory:
    """What one past interval saw (from the store's call_intervals)."""

    start: datetime  # local time
    offered: int
    answered: int
    handle_s: float  # talk + wrap-up of the answered calls


@dataclass(frozen=True, slots=True)
class Need:
    slot: str  # local time of day the interval starts, "08:30"
    calls: float  # expected calls (mean over the days of history)
    aht_s: float
    traffic_erlangs: float
    agents: int
    service_level: float  # what that many agents give
    asa_s: float


def forecast(history: Iterable[IntervalHistory], interval_s: float, *,
             target_level: float = 0.8, target_s: float = 20.0, default_aht_s: float = 180.0,
             max_occupancy: float | None = None) -> list[Need]:
    """Agents needed for each time of day, from the mean offered calls of that slot over
    the days in `history` and the AHT of those calls (the overall AHT where a slot had
    none answered)."""
    calls: dict[str, list[int]] = defaultdict(list)
    handle: dict[str, float] = defaultdict(float)
    answered: dict[str, int] = defaultdict(int)
    days: set[object] = set()
    items = list(history)
    for h in items:
        days.add(h.start.date())
    total_handle = sum(h.handle_s for h in items)
    total_answered = sum(h.answered for h in items)
    overall_aht = total_handle / total_answered if total_answered else default_aht_s
    for h in items:
        slot = h.start.strftime("%H:%M")
        calls[slot].append(h.offered)
        handle[slot] += h.handle_s
        answered[slot] += h.answered
    n_days = max(1, len(days))
    out = []
    for slot in sorted(calls):
        mean_calls = sum(calls[slot]) / n_days  # days without a row had no calls
        aht = handle[slot] / answered[slot] if answered[slot] else overall_aht
        a = traffic_erlangs(mean_calls, aht, interval_s)
        n = agents_needed(mean_calls, aht, interval_s, target_level=target_level,
                          target_s=target_s, max_occupancy=max_occupancy)
        out.append(Need(slot, round(mean_calls, 2), round(aht, 1), round(a, 3), n,
                        round(service_level(a, n, aht, target_s), 4),
                        round(asa_s(a, n, aht), 1)))
    return out
