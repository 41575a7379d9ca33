"""What the core holds now, as the read model (acd.service.live) shows it: queues, calls,
agents and centres, for the state API and the metrics' gauges. Read at the moment asked,
from the core's state; nothing here is kept."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from acd.domain.core import Acd
from acd.domain.model import CallState
from escalation.policy import is_open

AGENT_STATES = ("logged_out", "available", "ringing", "on_call", "after_call_work", "paused")


@dataclass(frozen=True, slots=True)
class CentreNow:
    id: str
    tier: str
    open: bool  # its opening hours say open
    roster: int  # agents the call flows give it


def centres(acd: Acd, now: float) -> list[CentreNow]:
    """The call flows' centres in force, in their order."""
    roster: Counter[str] = Counter(a.centre for a in acd.flows.agents)
    return [CentreNow(c.id, acd.centre_tier[c.id].value, is_open(c, now), roster[c.id])
            for c in acd.flows.centres]


def calls_by_state(acd: Acd) -> dict[str, int]:
    """Every call the core holds, by state (each state but ended, at 0 or more)."""
    by_state = {s.value: 0 for s in CallState if s is not CallState.ENDED}
    for call in acd.calls.values():
        by_state[call.state.value] = by_state.get(call.state.value, 0) + 1
    return by_state


def agents_by_state(acd: Acd) -> Counter[tuple[str, str]]:
    """(centre, state) -> agents."""
    return Counter((a.centre_id, a.state.value) for a in acd.agents.values())


def queues(acd: Acd) -> list[dict[str, Any]]:
    out = []
    for (centre, service), q in acd.queues.items():
        out.append({
            "centre": centre, "service": service, "tier": acd.centre_tier[centre].value,
            "strategy": q.config.strategy.value, "waiting": len(q.waiting_ids),
            "agents_eligible": len(q.agent_ids), "agents_logged_in": q.logged_in,
            "expected_wait_s": None if q.ewma_wait_s is None else round(q.ewma_wait_s, 1),
        })
    return out


def positions(acd: Acd) -> dict[str, int]:
    """Each queued call's place in its current queue (the last it joined), 1 for the one
    served next: the core's order (priority class, then arrival), counted now. A call
    ringing an agent is out of the queue while it rings: it has none."""
    out: dict[str, int] = {}
    for key, q in acd.queues.items():
        for n, call in enumerate(q.in_order(acd.calls), start=1):
            if call.queues and call.queues[-1] == key:
                out[call.id] = n
    return out


def calls(acd: Acd, now: float) -> list[dict[str, Any]]:
    out = []
    place = positions(acd)
    for c in acd.calls.values():
        out.append({
            "id": c.id, "caller": c.caller, "caller_class": c.caller_class,
            "region": c.region, "region_name": c.region_name, "service": c.service,
            "state": c.state.value, "arrived_at": c.arrived_at,
            "waited_s": round(now - c.arrived_at, 1) if c.state is not CallState.CONNECTED
            else round((c.answered_at or now) - c.arrived_at, 1),
            "tier": c.hops[-1].tier.value if c.hops else None,
            "centre": c.hops[-1].centre_id if c.hops else None,
            "agent_id": c.agent_id, "escalations": max(len(c.hops) - 1, 0),
            "position": place.get(c.id),
        })
    return out


def agents(acd: Acd, calls_today: Callable[[str], int]) -> list[dict[str, Any]]:
    """Each agent now; `calls_today` counts what they answered today (the read model's
    acd.service.agentday), `calls_answered` since they logged in (the core's)."""
    out = []
    for a in acd.agents.values():
        out.append({
            "id": a.id, "centre": a.centre_id, "state": a.state.value, "device": a.device,
            "since": a.state_since if a.state_since else None, "call_id": a.call_id,
            "pause_reason": a.pause_reason, "calls_answered": a.calls_answered,
            "calls_today": calls_today(a.id),
        })
    return out
