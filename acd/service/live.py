"""The read model: the live state as the wallboard, the state API, the consoles and the
metrics read it, one object (`LiveFigures`) for them all.

Two sources: the core's state as it is now (calls waiting and for how long, agents by
state, queues, centres open: acd.service.corestate), and the records as they flow to the
store (`LiveSink` wraps the record sink), for what happened today (offered, answered,
abandoned, service level, abandon rate; the local day in WIB), in the last hour
(escalations, the rolling service level and abandon rate) and since the start (the
metrics' call counters: acd.service.callcounts).

Counting follows the store's rules (sql/003), so the wallboard and the reports agree: a
call is offered to each queue (centre at a tier) it joins; an answered call is counted at
the answering centre and tier (at the moment it is answered, not when it ends), an
abandoned one at the last queue it waited in.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import structlog

from acd.domain.core import Acd
from acd.domain.escalations import Escalations, counts_offered
from acd.domain.model import AgentState, CallState
from acd.service import corestate
from acd.service.agentday import AnsweredToday
from acd.service.callcounts import CallCounts
from acd.service.figures import abandon_rate, answered_in_time, service_level, short_abandon
from acd.service.settings import SERVICE_LEVEL_S, SHORT_ABANDON_S
from acd.service.switchboard import RecordSink
from acd.vocabulary import records as rec
from acd.vocabulary.localtime import WIB, local_day
from acd.vocabulary.tiers import Tier

log = structlog.get_logger("acd117.live")

HOUR_S = 3600.0
_WAITING = (CallState.QUEUED, CallState.OFFERED)


@dataclass(slots=True)
class Tally:
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    blocked: int = 0
    within_sl: int = 0
    answer_wait_s: float = 0.0

    def add(self, other: Tally) -> None:
        self.offered += other.offered
        self.answered += other.answered
        self.abandoned += other.abandoned
        self.short_abandoned += other.short_abandoned
        self.blocked += other.blocked
        self.within_sl += other.within_sl
        self.answer_wait_s += other.answer_wait_s

    @property
    def service_level(self) -> float | None:
        return service_level(self.answered, self.abandoned, self.short_abandoned,
                             self.within_sl)

    @property
    def abandon_rate(self) -> float | None:
        return abandon_rate(self.answered, self.abandoned, self.short_abandoned)

    @property
    def asa_s(self) -> float | None:
        return self.answer_wait_s / self.answered if self.answered else None


@dataclass(slots=True)
class Row:
    """Figures of one centre, or of a whole tier."""

    today: Tally = field(default_factory=Tally)
    waiting: int = 0
    longest_wait_s: float = 0.0
    escalations_1h: int = 0
    agents: Counter[str] = field(default_factory=Counter)

    def add(self, other: Row) -> None:
        self.today.add(other.today)
        self.waiting += other.waiting
        self.longest_wait_s = max(self.longest_wait_s, other.longest_wait_s)
        self.escalations_1h += other.escalations_1h
        self.agents.update(other.agents)

    def as_json(self) -> dict[str, Any]:
        t = self.today
        return {
            "waiting": self.waiting,
            "longest_wait_s": round(self.longest_wait_s, 1),
            "offered_today": t.offered,
            "answered_today": t.answered,
            "abandoned_today": t.abandoned,
            "short_abandoned_today": t.short_abandoned,
            "service_level_today": _round(t.service_level),
            "abandon_rate_today": _round(t.abandon_rate),
            "asa_today_s": _round(t.asa_s, 1),
            "escalations_1h": self.escalations_1h,
            "agents": {
                "available": self.agents["available"],
                "ringing": self.agents["ringing"],
                "on_call": self.agents["on_call"],
                "after_call_work": self.agents["after_call_work"],
                "paused": self.agents["paused"],
                "logged_in": sum(n for s, n in self.agents.items() if s != "logged_out"),
            },
        }


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


class LiveFigures:
    def __init__(self, acd: Acd, *, service_level_s: float = SERVICE_LEVEL_S,
                 short_abandon_s: float = SHORT_ABANDON_S,
                 zone: str = WIB, clock: Callable[[], float] = time.time) -> None:
        self.acd = acd
        self.service_level_s = service_level_s
        self.short_abandon_s = short_abandon_s
        self.zone = zone  # whose midnight starts "today"
        self.clock = clock
        self._day: int | None = None
        self._today: dict[tuple[str, Tier], Tally] = {}
        self._escalations: deque[tuple[float, str, Tier]] = deque()
        self._escalated = Escalations()  # the reports' definition (acd.domain.escalations)
        self.counts = CallCounts()  # since the start, for the metrics' counters
        # (ended at, centre, answered within the threshold, counts towards the rates
        # (not a short abandon), abandoned)
        self._ended: deque[tuple[float, str, bool, bool, bool]] = deque()
        self.records_seen = 0
        self._arrivals: dict[str, float] = {}  # calls in flight: arrival times
        self._counted: set[str] = set()  # calls in flight already counted as answered
        self.answered_today = AnsweredToday(self._agent_zone)  # per agent, for the consoles
        self._zones: tuple[object, dict[str, str]] = (None, {})

    def _agent_zone(self, agent_id: str) -> str:
        """The zone of the agent's centre, from the call flows in force (WIB if gone)."""
        flows = self.acd.flows
        if self._zones[0] is not flows:  # built again after a reload only
            centre = {c.id: c.timezone for c in flows.centres}
            self._zones = (flows, {a.id: centre.get(a.centre, WIB) for a in flows.agents})
        return self._zones[1].get(agent_id, WIB)

    # --- from the records ------------------------------------------------------------

    def observe(self, r: rec.Record) -> None:
        self.records_seen += 1
        if isinstance(r, rec.TierHop):
            if counts_offered(r):
                self._tally(r.at, r.centre_id, r.tier).offered += 1
                self.counts.add("offered", r.centre_id, r.tier.value)
            if self._escalated.is_escalation(r):
                self._escalations.append((r.at, r.centre_id, r.tier))
                self.counts.add("escalated", r.centre_id, r.tier.value)
        elif isinstance(r, rec.CallStarted):
            self._arrivals[r.call_id] = r.arrived_at
        elif isinstance(r, rec.OfferEnded):
            self.answered_today.observe(r)
            arrived = self._arrivals.get(r.call_id)
            # A transferred call is answered again: counted once, at its first answer.
            if r.result == "answered" and arrived is not None and r.call_id not in self._counted:
                # Counted when answered, not when the conversation ends: live.
                self._answered(r.ended_at, r.centre_id, r.tier, r.ended_at - arrived)
                self._counted.add(r.call_id)
        elif isinstance(r, rec.CallEnded):
            self._arrivals.pop(r.call_id, None)
            self._escalated.ended(r.call_id)
            self.counts.ended(r)
            if r.call_id in self._counted:
                self._counted.discard(r.call_id)
            else:
                self._call_ended(r)

    def _answered(self, at: float, centre: str, tier: Tier, wait_s: float) -> None:
        t = self._tally(at, centre, tier)
        t.answered += 1
        t.answer_wait_s += wait_s
        within = answered_in_time(wait_s, self.service_level_s)
        t.within_sl += within
        self._ended.append((at, centre, within, True, False))

    def _call_ended(self, r: rec.CallEnded) -> None:
        """A call whose answer was not seen (the daemon restarted), or one not answered."""
        centre = r.centre_id or ""
        if r.outcome == "answered":
            assert r.answered_at is not None
            self._answered(r.answered_at, centre, r.answered_tier or r.tier, r.wait_s)
        elif r.outcome == "abandoned":
            t = self._tally(r.ended_at, centre, r.tier)
            t.abandoned += 1
            short = short_abandon(r.wait_s, self.short_abandon_s)
            t.short_abandoned += short
            self._ended.append((r.ended_at, centre, False, not short, True))
        elif r.outcome == "blocked":
            self._tally(r.ended_at, centre, r.tier).blocked += 1
        # handed_off: answered by the dialplan's fallback queue, counted by Asterisk

    def _tally(self, at: float, centre: str, tier: Tier) -> Tally:
        day = self.local_day(at)
        if self._day is None or day > self._day:
            self._day = day
            self._today = {}
        key = (centre, tier)
        t = self._today.get(key)
        if t is None:
            t = self._today[key] = Tally()
        return t

    def local_day(self, at: float) -> int:
        return local_day(at, self.zone)

    # --- now ---------------------------------------------------------------------------

    def _prune(self, now: float) -> None:
        horizon = now - HOUR_S
        while self._escalations and self._escalations[0][0] < horizon:
            self._escalations.popleft()
        while self._ended and self._ended[0][0] < horizon:
            self._ended.popleft()

    def rolling_service_level(self, now: float | None = None) -> dict[str, tuple[float, int]]:
        """Per centre over the last hour: (service level, calls counted)."""
        now = self.clock() if now is None else now
        self._prune(now)
        within: Counter[str] = Counter()
        counted: Counter[str] = Counter()
        for _at, centre, ok, counts, _abandoned in self._ended:
            if counts:
                counted[centre] += 1
                within[centre] += ok
        return {c: (within[c] / n, n) for c, n in counted.items()}

    def rolling_abandon_rate(self, now: float | None = None) -> dict[str, tuple[float, int]]:
        """Per centre over the last hour: (abandon rate, calls counted), short abandons
        left out (acd.service.figures.abandon_rate)."""
        now = self.clock() if now is None else now
        self._prune(now)
        answered: Counter[str] = Counter()
        abandoned: Counter[str] = Counter()
        short: Counter[str] = Counter()
        for _at, centre, _ok, counts, gave_up in self._ended:
            if gave_up:
                abandoned[centre] += 1
                short[centre] += not counts
            else:
                answered[centre] += 1
        out: dict[str, tuple[float, int]] = {}
        for c in set(answered) | set(abandoned):
            rate = abandon_rate(answered[c], abandoned[c], short[c])
            if rate is not None:
                out[c] = (rate, answered[c] + abandoned[c] - short[c])
        return out

    def rows(self, now: float | None = None) -> dict[str, Row]:
        """One row per configured centre (plus "" for calls that ended before reaching
        one, when there were any today)."""
        now = self.clock() if now is None else now
        self._prune(now)
        acd = self.acd
        rows = {c.id: Row() for c in acd.flows.centres}
        if self._day is not None and self.local_day(now) == self._day:
            for (centre, _tier), tally in self._today.items():
                rows.setdefault(centre, Row()).today.add(tally)
        for call in acd.calls.values():
            if call.state in _WAITING and call.queues:
                row = rows.setdefault(call.queues[-1][0], Row())
                row.waiting += 1
                row.longest_wait_s = max(row.longest_wait_s, now - call.arrived_at)
        for agent in acd.agents.values():
            rows.setdefault(agent.centre_id, Row()).agents[agent.state.value] += 1
        for _at, centre, _tier in self._escalations:
            rows.setdefault(centre, Row()).escalations_1h += 1
        return rows

    def snapshot(self, now: float | None = None) -> dict[str, Any]:
        """What the wallboard shows: per tier and per centre."""
        now = self.clock() if now is None else now
        rows = self.rows(now)
        acd = self.acd
        tiers = {t: Row() for t in Tier}
        centres = []
        for c in acd.flows.centres:
            row = rows[c.id]
            tier = acd.centre_tier[c.id]
            tiers[tier].add(row)
            centres.append({"id": c.id, "name": c.name, "region": c.region,
                            "tier": tier.value, **row.as_json()})
        total = Row()
        for row in tiers.values():
            total.add(row)
        announcing = sum(1 for c in acd.calls.values() if c.state is CallState.ANNOUNCING)
        connected = sum(1 for c in acd.calls.values() if c.state is CallState.CONNECTED)
        return {
            "at": now,
            "service_level_s": self.service_level_s,
            "short_abandon_s": self.short_abandon_s,
            "calls_in_welcome": announcing,
            "calls_connected": connected,
            "total": total.as_json(),
            "tiers": [{"tier": t.value, **row.as_json()} for t, row in tiers.items()],
            "centres": centres,
        }

    def state(self, now: float | None = None) -> dict[str, Any]:
        """The state API's view (GET /api/state): the wallboard's figures, and the queues,
        calls and agents one by one."""
        now = self.clock() if now is None else now
        live = self.snapshot(now)
        acd = self.acd
        return {"at": now, "centres": live["centres"], "tiers": live["tiers"],
                "total": live["total"], "queues": corestate.queues(acd),
                "calls": corestate.calls(acd, now),
                "agents": corestate.agents(acd, lambda a: self.answered_today.today(a, now))}

    def centres(self, now: float | None = None) -> list[corestate.CentreNow]:
        return corestate.centres(self.acd, self.clock() if now is None else now)

    def calls_by_state(self) -> dict[str, int]:
        return corestate.calls_by_state(self.acd)

    def agents_by_state(self) -> Counter[tuple[str, str]]:
        return corestate.agents_by_state(self.acd)


class LiveSink:
    """The record sink the switchboard writes to: every record updates the live figures
    (and whoever else observes) before it goes on to the store."""

    def __init__(self, inner: RecordSink | None, observers: Iterable[Callable[[rec.Record], None]]
                 ) -> None:
        self._inner = inner
        self._observers = list(observers)

    def submit(self, record: rec.Record) -> None:
        for observe in self._observers:
            try:
                observe(record)
            except Exception:  # figures are never worth a lost record
                log.exception("live figures failed on a record", record=repr(record))
        if self._inner is not None:
            self._inner.submit(record)


__all__ = ["AgentState", "LiveFigures", "LiveSink", "Row", "Tally"]
