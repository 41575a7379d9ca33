"""Calls counted since the start by centre and tier, for the metrics' counters
(acd117_calls_{offered,answered,abandoned,blocked,handed_off,escalated}_total).

Unlike the day's figures (acd.service.live's `Tally`) these never reset, and a call is
counted by its outcome when it ends, where its caller waited last (an answered one at the
tier that answered): Prometheus takes increases and rates of them.
"""

from __future__ import annotations

from acd.vocabulary import records as rec

CALL_COUNTERS = {
    "offered": "Calls that joined a queue",
    "answered": "Calls answered",
    "abandoned": "Callers who hung up waiting",
    "blocked": "Listed nuisance callers who hung up unanswered",
    "handed_off": "Calls given back to the dialplan's fallback queue after a failure in acd117",
    "escalated": "Calls escalated to this queue from a lower tier",
}


class CallCounts:
    """name -> (centre, tier) -> calls; fed by the read model (acd.service.live)."""

    def __init__(self) -> None:
        self.counts: dict[str, dict[tuple[str, str], float]] = {k: {} for k in CALL_COUNTERS}

    def add(self, name: str, centre: str, tier: str) -> None:
        counts = self.counts[name]
        counts[(centre, tier)] = counts.get((centre, tier), 0.0) + 1.0

    def ended(self, r: rec.CallEnded) -> None:
        self.add(r.outcome, r.centre_id or "", ended_tier(r))


def ended_tier(r: rec.CallEnded) -> str:
    """The tier a finished call counts at: the one that answered it, else the last it
    waited at."""
    return (r.answered_tier or r.tier).value if r.outcome == "answered" else r.tier.value
