"""The SLA clock at a tier: when a waiting call leaves it, or, at the last tier, when the
long-wait alert is raised. Pure: the ladder, the rules and the times in, the clock out; the
core sets its timers from it and re-checks the call when they fire."""

from __future__ import annotations

from dataclasses import dataclass

from config.models import Escalation
from escalation.policy import Step


@dataclass(frozen=True, slots=True)
class TierClock:
    deadline: float | None  # escalate to the next tier then; None at the last tier
    alert_at: float | None  # the long-wait alert at the last tier; None below it
    unstaffed_alert: bool  # waiting at the last tier with nobody logged in there


def tier_clock(rules: Escalation, ladder: tuple[Step, ...], step: int, *, first: bool,
               arrived_at: float, since: float, now: float, staffed: bool) -> TierClock:
    """The clock of a call that joined `ladder[step]` at `since` (`now` unless adopted)."""
    policy = rules.for_tier(ladder[step].tier)
    if policy is None or step == len(ladder) - 1:
        # The last tier never gives up the call: it alerts, and keeps alerting.
        return TierClock(None, now + rules.national.alert_after_s, not staffed)
    # At the first tier the SLA clock started when the call arrived.
    return TierClock((arrived_at if first else since) + policy.after_s, None, False)


def next_alert(rules: Escalation, alerted_at: float) -> float:
    """The long-wait alert repeats for as long as the call waits at the last tier."""
    return alerted_at + rules.national.alert_after_s
