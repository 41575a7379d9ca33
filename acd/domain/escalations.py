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
        if hop.call_id in self._queued:
            return True
        self._queued.add(hop.call_id)
        return False

    def ended(self, call_id: str) -> None:
        self._queued.discard(call_id)
