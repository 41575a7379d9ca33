"""Escalation decisions: which tier a call goes to next and why, which queues it stays in,
and when an unstaffed centre gives up its calls at once.

Pure: the call's ladder, its step and `now` in, a decision out. The core (acd.domain) asks
and applies the answer to its queues; nothing here knows a call or a queue, only centres,
tiers and whether a centre's queue has an agent logged in (`staffed`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from acd.vocabulary.records import HopReason
from acd.vocabulary.tiers import Tier
from config.models import CallFlows, Centre
from config.regions import NATIONAL_CODE, RegionTable
from escalation.policy import Step, TierLadder, is_open

_ORDER = {tier: i for i, tier in enumerate(Tier)}


@dataclass(frozen=True, slots=True)
class Climb:
    step: int  # the call's new index into its ladder
    to: Step  # the tier and the centre (as configured now) it is queued at
    reason: HopReason
    after_hours: bool  # it skipped a closed centre on arrival: tell the caller
    leave_lower: bool  # the tier it leaves moves calls out ("move"), so leave its queues


@dataclass(frozen=True, slots=True)
class Rejoin:
    step: int
    queued_at: tuple[Step, ...]  # the tiers whose queues it is back in, lowest first


class Escalator:
    """The call flows' escalation rules, rebuilt whenever the call flows are reloaded."""

    def __init__(self, flows: CallFlows, regions: RegionTable) -> None:
        self.rules = flows.escalation
        self._regions = regions
        self._ladder = TierLadder(flows, regions)
        self._centres = {c.id: c for c in flows.centres}
        self.centre_tier = {c.id: self.natural_tier(c.region) for c in flows.centres}

    def ladder(self, region: str) -> tuple[Step, ...]:
        return self._ladder.steps(region)

    def natural_tier(self, region: str) -> Tier:
        """The tier of a centre for this region (and where its calls belong)."""
        if region == NATIONAL_CODE:
            return Tier.NATIONAL
        return Tier.PROVINCE if self._regions.province_of(region) == region else Tier.KABKOTA

    def climb(self, ladder: tuple[Step, ...], step: int, region: str, reason: HopReason,
              now: float, staffed: Callable[[Centre], bool],
              leaving: Tier | None) -> Climb:
        """The next tier of a call at `ladder[step]` (-1: still hearing its welcome),
        skipping closed centres and, where the rules say so, centres nobody is logged in
        at. `leaving` is the tier of the queue the call is leaving, if any."""
        first = step == -1
        if first and ladder[0].tier is not self.natural_tier(region):
            reason = "no_centre"
        after_hours = False
        last_step = len(ladder) - 1
        while True:
            step += 1
            to = ladder[step]
            last = step == last_step
            centre = self._centres.get(to.centre.id)  # as configured now
            if centre is None:  # removed by a reload since the call arrived
                if not last:
                    continue
                centre = self._ladder.steps(region)[-1].centre  # today's national
                to = Step(to.tier, centre)
            if last:
                break
            if not is_open(centre, now):
                after_hours = after_hours or first
                reason = "closed"
                continue
            policy = self.rules.for_tier(to.tier)
            if policy and policy.immediate_when_unstaffed and not staffed(centre):
                reason = "unstaffed"
                continue
            break
        left = self.rules.for_tier(leaving) if leaving is not None and not first else None
        return Climb(step, Step(to.tier, centre), reason, after_hours,
                     left is not None and left.mode == "move")

    def rejoin(self, ladder: tuple[Step, ...], tier: Tier) -> Rejoin:
        """Where an adopted call that had reached `tier` waits again: that tier's step, in
        the queues below it too where they widen."""
        reachable = [i for i, s in enumerate(ladder) if _ORDER[s.tier] <= _ORDER[tier]]
        step = reachable[-1] if reachable else 0
        queued_at = [ladder[step]]
        for lower in reversed(ladder[:step]):
            policy = self.rules.for_tier(lower.tier)
            if policy is None or policy.mode == "move":
                break
            queued_at.insert(0, lower)
        return Rejoin(step, tuple(queued_at))

    def transfer(self, centre_id: str) -> tuple[tuple[Step, ...], int]:
        """Where a call handed to this centre waits: the centre's own ladder (its region's),
        from the centre's step, so that it escalates on from there as any call would."""
        centre = self._centres[centre_id]
        ladder = self.ladder(centre.region)
        return ladder, next(i for i, s in enumerate(ladder) if s.centre.id == centre_id)

    def escalates_unstaffed(self, centre_id: str) -> bool:
        """Whether the calls of this centre leave at once when its last agent logs out."""
        policy = self.rules.for_tier(self.centre_tier[centre_id])
        return policy is not None and policy.immediate_when_unstaffed
