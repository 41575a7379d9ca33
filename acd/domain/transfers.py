"""Handing a connected call on: to another centre's queue, or to an outside number.

A transfer never loses the caller. One that cannot be made is refused and the call stays
with the agent; a centre transfer puts the call in the destination's queue with its arrival
time, priority class and history (and it escalates on from there); an outside number that
does not answer brings the call back to the transferring centre's queue. Either way the
agent goes to after-call work at once (a blind transfer) and the call's CDR stays one row,
answered at its first answer; each transfer is a `CallTransferred` record.
"""

from __future__ import annotations

from acd.domain.model import Call, CallState, Hop, OutsideTransfer
from acd.domain.offers import RING_GUARD_S
from acd.domain.state import CoreState
from acd.domain.timers import Timer, TimerKind
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from escalation.policy import is_open

REFUSED_GRACE_S = 5.0


class Transfers(CoreState):
    def transfer_refusal(self, call_id: str, agent_id: str, code: str,
                         now: float) -> str | None:
        """Why this agent cannot hand this call to destination `code` now (None: they can)."""
        call = self.calls.get(call_id)
        if call is None or call.state is not CallState.CONNECTED or call.agent_id != agent_id:
            return f"agent {agent_id} has no connected call {call_id}"
        if call.party is not None:  # e.g. the phone's Transfer button during a consult
            return "a consultation or conference is on: complete or cancel it first"
        target = self.flows.transfers.target(code)
        if target is None:
            return f"'{code}' is not a transfer destination"
        if target.centre is None:
            return None
        centre = self._centres[target.centre]
        if target.centre == call.centre_id:
            return f"the call is already at {centre.name}"
        if not is_open(centre, now):
            return f"{centre.name} is closed"
        if self.queues[self._queue_key(centre, call.service)].logged_in == 0:
            return f"nobody is logged in at {centre.name}"
        return None

    def _on_transfer_requested(self, e: ev.TransferRequested, now: float) -> None:
        why = self.transfer_refusal(e.call_id, e.agent_id, e.code, now)
        if why is not None:
            self._emit(cmd.TransferRefused(e.call_id, e.agent_id, why))
            call = self.calls.get(e.call_id)
            if call is not None and call.state is CallState.CONNECTED \
                    and call.agent_id == e.agent_id:
                call.refused_at = now
                target = self.flows.transfers.target(e.code)
                kind: rec.TransferKind = "centre" if target and target.centre else "number"
                self._emit(rec.CallTransferred(
                    call.id, e.agent_id, call.centre_id, e.code, kind,
                    (target.centre or target.number or e.code) if target else e.code,
                    now, "refused", now))
            return
        call = self.calls[e.call_id]
        target = self.flows.transfers.target(e.code)
        assert target is not None
        from_centre = call.centre_id
        self._emit(cmd.Requeue(call.id))
        self._settle_hold(call, now)
        self._start_wrap_up(call, now)  # call.agent_id stays the last agent who talked
        if target.centre is not None:
            call.missed.add(e.agent_id)  # not rung again for the call they handed on
            self._emit(rec.CallTransferred(call.id, e.agent_id, from_centre, e.code, "centre",
                                           target.centre, now, "queued", now))
            self._join_centre(call, target.centre, "transfer", now)
            return
        assert target.number is not None
        leg_id = self._ids()
        self.outside_legs[leg_id] = call.id
        call.state = CallState.OUTSIDE
        call.outside = OutsideTransfer(leg_id, e.code, target.number, e.agent_id, from_centre,
                                       now)
        timeout = self.flows.transfers.ring_timeout_s
        self._emit(cmd.DialOut(call.id, leg_id, self.flows.transfers.dial_string(target),
                               call.caller, timeout))
        self._timers.set(now + timeout + RING_GUARD_S, TimerKind.OUTSIDE_GUARD, leg_id)

    def _agent_left_after_refusal(self, call: Call, now: float) -> bool:
        """Some phones (baresip) hang up when told a transfer failed: an agent who hangs up
        just after a refused transfer meant to hand the call on, so the caller waits again
        at the same centre instead of being cut off."""
        if call.refused_at is None or now - call.refused_at > REFUSED_GRACE_S:
            return False
        self._requeue_here(call, now)
        return True

    def _requeue_here(self, call: Call, now: float) -> None:
        """The agent is gone but the caller is not: they wait again at the same centre."""
        self._emit(cmd.Requeue(call.id))
        self._settle_hold(call, now)
        self._start_wrap_up(call, now)
        self._join_centre(call, call.centre_id or call.hops[-1].centre_id, "transfer_failed",
                          now)

    def _join_centre(self, call: Call, centre_id: str, reason: rec.HopReason,
                     now: float) -> None:
        """The call waits at this centre, and escalates on from its tier as any call."""
        ladder, index = self._escalator.transfer(centre_id)
        call.ladder, call.step = ladder, index
        step = ladder[index]
        call.queues = [self._queue_key(step.centre, call.service)]
        call.hops.append(Hop(step.tier, step.centre.id, now, reason))
        self._emit(rec.TierHop(call.id, step.tier, step.centre.id, reason, now))
        self._set_tier_timers(call, step, first=False, since=now, now=now)
        self._start_waiting(call, now)

    def _outside_call(self, leg_id: str) -> tuple[Call, OutsideTransfer] | None:
        """The call an outside leg rings or talks for: handed to it, or as a third party."""
        c = self.calls.get(self.outside_legs.get(leg_id, ""))
        if c is not None:
            for leg in (c.outside, c.party):
                if isinstance(leg, OutsideTransfer) and leg.leg_id == leg_id:
                    return c, leg
        return None

    def _on_outside_answered(self, e: ev.OutsideAnswered, now: float) -> None:
        found = self._outside_call(e.leg_id)
        if found is None or found[1].connected:
            return  # the caller left meanwhile: the telephony hangs that leg up
        call, leg = found
        if leg is call.party:
            self._party_answered(call, now)
            return
        leg.connected = True
        self._emit(cmd.ConnectOutside(call.id, e.leg_id))
        self._record_transfer(call, leg, "connected", now)

    def _on_outside_failed(self, e: ev.OutsideFailed, now: float) -> None:
        found = self._outside_call(e.leg_id)
        if found is not None and not found[1].connected:
            self._outside_not_reached(*found, now)

    def _on_outside_guard(self, t: Timer) -> None:
        found = self._outside_call(t.subject)
        if found is not None and not found[1].connected:
            self._emit(cmd.HangUp(found[0].id, "outside"))
            self._outside_not_reached(*found, t.at)

    def _outside_not_reached(self, call: Call, outside: OutsideTransfer, now: float) -> None:
        """Nobody answered the number: the call comes back to the centre that had it (or,
        for a consultation, to the agent)."""
        if outside is call.party:
            self._party_not_reached(call, now)
            return
        call.outside = None
        self.outside_legs.pop(outside.leg_id, None)
        self._record_transfer(call, outside, "failed", now)
        centre = outside.from_centre or call.ladder[max(call.step, 0)].centre.id
        self._join_centre(call, centre, "transfer_failed", now)

    def _on_outside_hung_up(self, e: ev.OutsideHungUp, now: float) -> None:
        call = self.calls.get(e.call_id)
        if call is None:
            return
        if isinstance(call.party, OutsideTransfer):
            self._party_left(call, now)
        elif call.outside is not None and call.outside.connected:
            self._emit(cmd.HangUp(call.id, "caller"))
            self._finish(call, "answered", now)

    def _leave_outside(self, call: Call, now: float) -> None:
        """The caller left a call handed to an outside number (ringing or connected)."""
        outside = call.outside
        assert outside is not None
        self._emit(cmd.HangUp(call.id, "outside"))
        if not outside.connected:
            self._record_transfer(call, outside, "abandoned", now)
        self._finish(call, "answered", now)

    def _record_transfer(self, call: Call, outside: OutsideTransfer,
                         result: rec.TransferResult, now: float) -> None:
        self._emit(rec.CallTransferred(call.id, outside.agent_id, outside.from_centre,
                                       outside.code, "number", outside.number,
                                       outside.requested_at, result, now, outside.mode))
