"""A day of 117 traffic on a virtual clock, driven through the real core.

The simulator plays the callers, the agents and Asterisk with the demo's model of them
(acd.people.behaviour) on a virtual clock: the core's commands become the events Asterisk
and people would produce (an agent answers after a few seconds of ringing, a caller gives up
after their patience runs out, a conversation lasts its handle time). Arrivals follow the
traffic's hourly profile, agents its shifts; the core's records make the report. Same seed,
same day.
"""

from __future__ import annotations

import heapq
import math
import random
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from acd.domain.core import Acd, Output
from acd.domain.model import AgentState
from acd.people.behaviour import Manner, People
from acd.service.figures import abandon_rate, answered_in_time, service_level, short_abandon
from acd.service.settings import SERVICE_LEVEL_S, SHORT_ABANDON_S
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from acd.vocabulary.alerts import Alert
from acd.vocabulary.tiers import Tier
from config.models import CallFlows
from config.regions import RegionTable


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Shift(_Model):
    start_hour: Annotated[int, Field(ge=0, le=23)]
    end_hour: Annotated[int, Field(ge=1, le=24)]
    agents: Annotated[int, Field(ge=0)]


class Traffic(_Model):
    """What a simulated day looks like. Times in seconds."""

    peak_calls_per_hour: Annotated[float, Field(gt=0)]
    # Share of the peak rate in each hour of the (local) day, 24 values.
    hourly_profile: Annotated[list[Annotated[float, Field(ge=0)]], Field(min_length=24,
                                                                         max_length=24)]
    # Relative weight of each region code in arrivals; codes not listed get none.
    region_weights: dict[str, Annotated[float, Field(gt=0)]]
    # The carrier trunk and header the simulated calls arrive with (an ingress rule must
    # read the region from that header).
    trunk: str = "trunk-telkomsel"
    region_header: str = "X-Cell-Region"
    mobile_share: Annotated[float, Field(ge=0, le=1)] = 0.85
    repeat_share: Annotated[float, Field(ge=0, le=1)] = 0.05
    handle_time_mean_s: Annotated[float, Field(gt=0)] = 180
    handle_time_sd_s: Annotated[float, Field(ge=0)] = 90
    patience_mean_s: Annotated[float, Field(gt=0)] = 120
    welcome_s: Annotated[float, Field(ge=0)] = 6
    answer_delay_s: tuple[float, float] = (2.0, 6.0)
    no_answer_share: Annotated[float, Field(ge=0, le=1)] = 0.03
    unpause_after_s: Annotated[float, Field(gt=0)] = 60
    # Agents logged in per centre and hour; centres not listed have every agent all day.
    staffing: dict[str, list[Shift]] = {}

    @classmethod
    def load(cls, path: Path | str) -> Traffic:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        return cls.model_validate(data.get("traffic", data))


@dataclass
class TierFigures:
    offered_to: int = 0
    answered: int = 0


@dataclass
class Report:
    hours: float
    service_level_s: float = SERVICE_LEVEL_S
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0  # of the abandoned: left out of the service level
    blocked: int = 0
    answered_within_20s: int = 0  # within service_level_s (the key keeps its name)
    wait_answered_s: float = 0.0
    escalations: int = 0
    events: int = 0
    by_tier: dict[Tier, TierFigures] = field(
        default_factory=lambda: {t: TierFigures() for t in Tier})
    agent_time: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    alerts: Counter[str] = field(default_factory=Counter)

    @property
    def service_level_20s(self) -> float:
        """The wallboard's and the reports' service level (acd.service.reports), over the
        threshold in service_level_s; 1.0 for a day without a call."""
        level = service_level(self.answered, self.abandoned, self.short_abandoned,
                              self.answered_within_20s)
        return 1.0 if level is None else level

    @property
    def abandon_rate(self) -> float:
        """The wallboard's and the reports' abandon rate (acd.service.figures)."""
        rate = abandon_rate(self.answered, self.abandoned, self.short_abandoned)
        return 0.0 if rate is None else rate

    @property
    def asa_s(self) -> float:
        return self.wait_answered_s / self.answered if self.answered else 0.0

    @property
    def occupancy(self) -> float:
        """Share of staffed, unpaused time spent on calls and after-call work."""
        t = self.agent_time
        busy = t["on_call"] + t["on_hold"] + t["after_call_work"]
        staffed = busy + t["available"] + t["ringing"]
        return busy / staffed if staffed else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "hours": self.hours,
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "blocked": self.blocked,
            "service_level_20s": round(self.service_level_20s, 4),
            "asa_s": round(self.asa_s, 2),
            "escalations": self.escalations,
            "occupancy": round(self.occupancy, 4),
            "by_tier": {t.value: {"offered_to": f.offered_to, "answered": f.answered}
                        for t, f in self.by_tier.items()},
            "alerts": dict(self.alerts),
            "events": self.events,
        }

    def as_text(self) -> str:
        lines = [
            f"Simulated {self.hours:g} h of 117 traffic",
            f"  offered            {self.offered:>8}",
            f"  answered           {self.answered:>8}",
            f"  abandoned          {self.abandoned:>8}  abandon rate {self.abandon_rate:.1%} "
            f"({self.short_abandoned} short left out)",
            f"  blocked (nuisance) {self.blocked:>8}",
            f"  service level      {self.service_level_20s:>8.1%}  answered within "
            f"{self.service_level_s:g} s",
            f"  ASA                {self.asa_s:>8.1f} s",
            f"  escalations        {self.escalations:>8}",
            f"  agent occupancy    {self.occupancy:>8.1%}",
            "  per tier           offered to   answered",
        ]
        lines += [f"    {t.value:<16} {f.offered_to:>10} {f.answered:>10}"
                  for t, f in self.by_tier.items()]
        if self.alerts:
            lines.append("  alerts             " + ", ".join(
                f"{k}: {v}" for k, v in sorted(self.alerts.items())))
        return "\n".join(lines)


class Simulation:
    def __init__(self, flows: CallFlows, regions: RegionTable, traffic: Traffic,
                 seed: int = 117, *, service_level_s: float = SERVICE_LEVEL_S,
                 short_abandon_s: float = SHORT_ABANDON_S) -> None:
        self.traffic = traffic
        self.service_level_s = service_level_s
        self.short_abandon_s = short_abandon_s
        self.rng = random.Random(seed)
        ids = iter(range(1, 1 << 62))
        self.core = Acd(flows, regions, ids=lambda: f"o{next(ids)}")
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = 0
        self._calls = 0
        self.now = 0.0  # the virtual clock
        manner = Manner(
            trunk=traffic.trunk, region_header=traffic.region_header,
            mobile_share=traffic.mobile_share, repeat_share=traffic.repeat_share,
            welcome_s=traffic.welcome_s, answer_delay_s=traffic.answer_delay_s,
            no_answer_share=traffic.no_answer_share, talk_mean_s=traffic.handle_time_mean_s,
            talk_sd_s=traffic.handle_time_sd_s, patience_mean_s=traffic.patience_mean_s,
            unpause_after_s=traffic.unpause_after_s)
        self.people = People(manner, self.rng, lambda: self.core.flows.wrapup, self)
        self._roster = {c.id: [a.id for a in flows.agents if a.centre == c.id]
                        for c in flows.centres}
        self._agent_state: dict[str, tuple[str, float]] = {}
        codes = [c for c in traffic.region_weights if c in regions]
        unknown = sorted(set(traffic.region_weights) - set(codes))
        if unknown:
            raise ValueError(f"traffic: unknown region codes {', '.join(unknown)}")
        self._codes = codes
        weights = [traffic.region_weights[c] for c in codes]
        total = sum(weights)
        acc = 0.0
        self._cum = []
        for w in weights:
            acc += w / total
            self._cum.append(acc)

    # --- scheduling --------------------------------------------------------------------

    def _at(self, t: float, action: Callable[[], None]) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (t, self._seq, action))

    def later(self, delay_s: float, action: Callable[[], None]) -> None:
        """acd.people.behaviour.Clock: on the virtual clock."""
        self._at(self.now + delay_s, action)

    def emit(self, event: ev.Event) -> None:
        self._event(event, self.now)

    def run(self, hours: float) -> Report:
        self.report = Report(hours, self.service_level_s)
        end = hours * 3600.0
        self._schedule_arrivals(end)
        self._schedule_staffing(end)
        while True:
            next_event = self._heap[0][0] if self._heap else math.inf
            due = self.core.next_due()
            if due is not None and due <= next_event and due <= end:
                self.now = due
                self._apply(self.core.advance(due), due)
                continue
            if next_event > end:
                break
            self.now, _, action = heapq.heappop(self._heap)
            action()
        self._close_agent_time(end)
        return self.report

    def _event(self, event: ev.Event, now: float) -> None:
        self.report.events += 1
        self._apply(self.core.handle(event, now), now)

    # --- traffic -----------------------------------------------------------------------

    def _schedule_arrivals(self, end: float) -> None:
        t = 0.0
        tr = self.traffic
        while True:
            hour = int(t // 3600)
            rate = tr.peak_calls_per_hour * tr.hourly_profile[hour % 24] / 3600.0
            if rate <= 0:
                t = (hour + 1) * 3600.0
            else:
                gap = self.rng.expovariate(rate)
                if t + gap >= (hour + 1) * 3600.0:  # rate changes at the hour: restart there
                    t = (hour + 1) * 3600.0
                else:
                    t += gap
                    self._at(t, self._arrive)
            if t >= end:
                return

    def _arrive(self) -> None:
        self._calls += 1
        region = self._codes[min(bisect_left(self._cum, self.rng.random()), len(self._codes) - 1)]
        self.people.arrive(f"c{self._calls}", region)

    def _schedule_staffing(self, end: float) -> None:
        for centre_id, agents in self._roster.items():
            shifts = self.traffic.staffing.get(centre_id)
            if shifts is None:
                self._at(0.0, self._staffing(agents, len(agents)))
                continue
            for day_start in range(0, int(end) + 1, 86400):
                for hour in range(24):
                    wanted = sum(s.agents for s in shifts if s.start_hour <= hour < s.end_hour)
                    self._at(day_start + hour * 3600.0, self._staffing(agents, wanted))

    def _staffing(self, agents: list[str], wanted: int) -> Callable[[], None]:
        """Log the first `wanted` agents of a centre in and the others out."""
        def staff() -> None:
            now = self.now
            for i, agent_id in enumerate(agents):
                logged_in = self.core.agents[agent_id].state is not AgentState.LOGGED_OUT
                if i < wanted and not logged_in:
                    self._event(ev.AgentLoggedIn(agent_id, f"PJSIP/{agent_id}"), now)
                elif i >= wanted and logged_in:
                    self._event(ev.AgentLoggedOut(agent_id, "shift_end"), now)
        return staff

    # --- what the core asks for ----------------------------------------------------------

    def _apply(self, outputs: list[Output], now: float) -> None:
        for out in outputs:
            if isinstance(out, cmd.Command):
                self.people.respond(out)
            elif type(out) is Alert:
                assert isinstance(out, Alert)
                self.report.alerts[out.kind] += 1
            elif isinstance(out, rec.Record):
                self._observe(out)

    # --- what happened -------------------------------------------------------------------

    def _observe(self, r: rec.Record) -> None:
        report = self.report
        if type(r) is rec.CallEnded:
            assert isinstance(r, rec.CallEnded)
            report.escalations += r.escalations
            if r.outcome == "answered":
                report.answered += 1
                report.wait_answered_s += r.wait_s
                report.answered_within_20s += answered_in_time(r.wait_s, self.service_level_s)
                report.by_tier[r.answered_tier or Tier.NATIONAL].answered += 1
            elif r.outcome == "abandoned":
                report.abandoned += 1
                report.short_abandoned += short_abandon(r.wait_s, self.short_abandon_s)
            elif r.outcome == "blocked":
                report.blocked += 1
        elif type(r) is rec.CallStarted:
            report.offered += 1
        elif type(r) is rec.TierHop:
            assert isinstance(r, rec.TierHop)
            report.by_tier[r.tier].offered_to += 1
        elif type(r) is rec.AgentStateChanged:
            assert isinstance(r, rec.AgentStateChanged)
            previous = self._agent_state.get(r.agent_id)
            if previous is not None:
                report.agent_time[previous[0]] += r.at - previous[1]
            self._agent_state[r.agent_id] = (r.state, r.at)

    def _close_agent_time(self, end: float) -> None:
        for state, since in self._agent_state.values():
            self.report.agent_time[state] += max(0.0, end - since)
