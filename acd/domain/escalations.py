"""What counts as an escalation, once for every figure (metrics, wallboard, reports).

An escalation is a call leaving a queue it was in for a higher tier: any tier hop after the
call's first. The first hop never is one, whatever its reason: a call for a regency with
no centre (`no_centre`), or whose regency is closed or unstaffed, starts higher but was
never queued lower. The reports count the same way (sql/003: a hop is an escalation out of
the hop before it, so a first hop has nothing to escalate from).
"""

from __future__ import annotations

from acd.vocabulary import records as rec


class Escalations:
    """Follows the calls in flight: feed it every TierHop and CallEnded, in order."""

    def __init__(self) -> None:
        self._queued: set[str] = set()  # calls in flight that already had their first hop

    def is_escalation(self, hop: rec.TierHop) -> bool:
        """A transfer is not an escalation either (sql/010)."""
        first = hop.call_id not in self._queued
        self._queued.add(hop.call_id)
        return not first and hop.reason not in ("transfer", "transfer_failed")

    def ended(self, call_id: str) -> None:
        self._queued.discard(call_id)


def counts_offered(hop: rec.TierHop) -> bool:
    """Whether the hop offers the call to a centre anew: a call back from an outside number
    that did not answer (transfer_failed) was offered there already (sql/010)."""
    return hop.reason != "transfer_failed"
