"""Waiting calls: joining a tier's queues, the SLA timers, escalating, periodic prompts.

What to do is escalation's decision (escalation.escalator, escalation.sla); this part
applies it to the calls and queues: which queues a call waits in, its hops and records, the
prompts it hears and the timers that bring it back here.
"""

from __future__ import annotations

import math

from acd.domain.model import Call, CallState, Hop, QueueKey
from acd.domain.state import CoreState
from acd.domain.timers import Timer, TimerKind
from acd.vocabulary import commands as cmd
from acd.vocabulary import records as rec
from acd.vocabulary.alerts import Alert
from acd.vocabulary.tiers import Tier
from config.models import Centre
from escalation.policy import Step
from escalation.sla import next_alert, tier_clock

WAITING = (CallState.QUEUED, CallState.OFFERED)


class Waiting(CoreState):
    def _climb(self, call: Call, now: float, reason: rec.HopReason) -> None:
        """Move the call to its next tier (or to its first one from the welcome)."""
        first = call.step == -1

        def staffed(centre: Centre) -> bool:
            return self.queues[self._queue_key(centre, call.service)].logged_in > 0

        leaving = self.centre_tier[call.queues[-1][0]] if call.queues else None
        climb = self._escalator.climb(call.ladder, call.step, call.region, reason, now,
                                      staffed, leaving)
        call.step = climb.step
        step = climb.to
        if climb.after_hours and self._announce.after_hours:
            self._emit(cmd.PlayPrompt(call.id, self._announce.after_hours))
        key = self._queue_key(step.centre, call.service)
        if climb.leave_lower:
            self._leave_queues(call)
            call.queues.clear()
        call.queues.append(key)
        call.hops.append(Hop(step.tier, step.centre.id, now, climb.reason))
        self._emit(rec.TierHop(call.id, step.tier, step.centre.id, climb.reason, now))
        if not first and step.tier in self._announce.escalated:
            self._emit(cmd.PlayPrompt(call.id, self._announce.escalated[step.tier]))
        self._set_tier_timers(call, step, first, since=now, now=now)
        if call.state is CallState.ANNOUNCING:
            self._start_waiting(call, now)
        elif call.state is CallState.QUEUED:
            self.queues[key].add_call(call)
            self._offer_call(call, now)

    def _rejoin(self, call: Call, tier: Tier, since: float, now: float) -> None:
        """Put an adopted call back at the tier it had reached, in the queues it was in
        (lower tiers too where they widen), with its original deadline."""
        rejoin = self._escalator.rejoin(call.ladder, tier)
        call.step = rejoin.step
        step = call.ladder[call.step]
        call.queues = [self._queue_key(s.centre, call.service) for s in rejoin.queued_at]
        call.hops.append(Hop(step.tier, step.centre.id, since, "adopted"))
        self._set_tier_timers(call, step, first=call.step == 0, since=since, now=now)
        self._start_waiting(call, now)

    def _set_tier_timers(self, call: Call, step: Step, first: bool, since: float,
                         now: float) -> None:
        """The deadline at this tier, or at the last tier the long-wait alert."""
        clock = tier_clock(self.flows.escalation, call.ladder, call.step, first=first,
                           arrived_at=call.arrived_at, since=since, now=now,
                           staffed=self.queues[call.queues[-1]].logged_in > 0)
        call.deadline = clock.deadline
        call.tier_token += 1
        if clock.deadline is not None:
            self._timers.set(clock.deadline, TimerKind.ESCALATE, call.id, call.tier_token)
            return
        assert clock.alert_at is not None
        self._timers.set(clock.alert_at, TimerKind.NATIONAL_ALERT, call.id, call.tier_token)
        if clock.unstaffed_alert:
            self._emit(Alert("centre_unstaffed",
                             f"call waiting at {step.centre.id} with no agent logged in",
                             now, call_id=call.id, centre_id=step.centre.id))

    def _start_waiting(self, call: Call, now: float) -> None:
        self._make_waiting(call)
        call.wait_token += 1
        self._timers.set(now + self._announce.periodic_every_s, TimerKind.ANNOUNCE, call.id,
                         call.wait_token)
        self._offer_call(call, now)

    def _on_escalate(self, t: Timer) -> None:
        call = self.calls.get(t.subject)
        if call and call.state in WAITING and call.tier_token == t.token:
            self._climb(call, t.at, "timeout")

    def _escalate_unstaffed(self, key: QueueKey, now: float) -> None:
        """The last agent of a queue logged out: its calls need not wait out the deadline."""
        if not self._escalator.escalates_unstaffed(key[0]):
            return
        for call_id in list(self.queues[key].waiting_ids):
            call = self.calls[call_id]
            if call.queues[-1] == key:
                self._climb(call, now, "unstaffed")

    def _on_national_alert(self, t: Timer) -> None:
        call = self.calls.get(t.subject)
        if call and call.state in WAITING and call.tier_token == t.token:
            waited = t.at - call.arrived_at
            self._emit(Alert("national_long_wait",
                             f"call from {call.caller} waiting {waited:.0f} s at national",
                             t.at, call_id=call.id, centre_id=call.hops[-1].centre_id))
            self._timers.set(next_alert(self.flows.escalation, t.at),
                             TimerKind.NATIONAL_ALERT, call.id, call.tier_token)

    def _on_announce(self, t: Timer) -> None:
        call = self.calls.get(t.subject)
        if not call or call.state not in WAITING or call.wait_token != t.token:
            return
        if call.state is CallState.QUEUED:  # not while an agent's phone is ringing
            self._emit(cmd.PlayPrompt(call.id, self._announce.periodic))
            estimates = [w for k in call.queues if (w := self.queues[k].ewma_wait_s) is not None]
            if self._announce.expected_wait and estimates:
                minutes = max(1, math.ceil(min(estimates) / 60))
                self._emit(cmd.PlayPrompt(call.id, self._announce.expected_wait, minutes))
        self._timers.set(t.at + self._announce.periodic_every_s, TimerKind.ANNOUNCE, call.id,
                         call.wait_token)

    def _make_waiting(self, call: Call) -> None:
        call.state = CallState.QUEUED
        call.queue_token += 1
        for key in call.queues:
            self.queues[key].add_call(call)

    def _leave_queues(self, call: Call) -> None:
        call.queue_token += 1
        for key in call.queues:
            self.queues[key].remove_call(call.id)

