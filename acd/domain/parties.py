"""A third party on a connected call, and the agent's own hold and mute.

* **Consult** (an attended transfer): the caller is put on hold with music while the agent
  talks to an outside number (or another centre's agent: `acd.domain.consults`); the
  agent then completes (the caller is connected to it and the agent goes to wrap-up) or
  cancels (the number is hung up, the caller comes back).
  An agent who hangs up during a connected consult completes it, as on a PBX.
* **Conference**: the number joins the caller and the agent; any party may leave. When the
  agent leaves, the caller and the number talk on (the call is handed to the number);
  when the caller leaves, the call ends.

A `number` destination is dialled as an outside leg; a `centre` destination rings one of
its agents (`acd.domain.consults`). Each consult or conference is one `CallTransferred`
record (mode `attended` or `conference`) written when its outcome is known.
"""

from __future__ import annotations

from acd.domain.consults import CentreConsults
from acd.domain.model import AgentParty, Call, CallState, OutsideTransfer
from acd.domain.offers import RING_GUARD_S
from acd.domain.timers import TimerKind
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec


class Parties(CentreConsults):
    def party_refusal(self, call_id: str, agent_id: str, code: str,
                      now: float) -> str | None:
        """Why this agent cannot bring destination `code` into this call (None: they can)."""
        call = self.calls.get(call_id)
        if call is None or call.state is not CallState.CONNECTED or call.agent_id != agent_id:
            return f"agent {agent_id} has no connected call {call_id}"
        if call.party is not None:
            return "a consultation or conference is already in progress on this call"
        target = self.flows.transfers.target(code)
        if target is None:
            return f"'{code}' is not a transfer destination"
        if target.centre is not None:
            return self.centre_party_refusal(call, target, now)
        return None

    def _agent_call(self, call_id: str, agent_id: str) -> Call | None:
        call = self.calls.get(call_id)
        if call is None or call.state is not CallState.CONNECTED or call.agent_id != agent_id:
            return None
        return call

    def _on_consult_requested(self, e: ev.ConsultRequested, now: float) -> None:
        why = self.party_refusal(e.call_id, e.agent_id, e.code, now)
        if why is not None:
            self._emit(cmd.TransferRefused(e.call_id, e.agent_id, why))
            return
        call = self.calls[e.call_id]
        target = self.flows.transfers.target(e.code)
        assert target is not None
        if target.centre is not None:
            self._consult_centre(call, e, target, now)
            return
        assert target.number is not None
        leg_id = self._ids()
        self.outside_legs[leg_id] = call.id
        call.party = OutsideTransfer(leg_id, e.code, target.number, e.agent_id, call.centre_id,
                                     now, mode="conference" if e.conference else "attended")
        if not e.conference:
            self._hold(call, now)
        timeout = self.flows.transfers.ring_timeout_s
        self._emit(cmd.DialOut(call.id, leg_id, self.flows.transfers.dial_string(target),
                               call.caller, timeout))
        self._timers.set(now + timeout + RING_GUARD_S, TimerKind.OUTSIDE_GUARD, leg_id)

    def _on_consult_ended(self, e: ev.ConsultEnded, now: float) -> None:
        call = self._agent_call(e.call_id, e.agent_id)
        if call is None or call.party is None:
            if e.complete:  # e.g. the phone's attended transfer, just after the party left
                self._emit(cmd.TransferRefused(e.call_id, e.agent_id,
                                               "no consultation to complete"))
            return
        if e.complete and call.party.connected:
            self._hand_to_party(call, now)
        else:
            self._drop_party(call, "cancelled", now)

    def _party_answered(self, call: Call, now: float) -> None:
        assert isinstance(call.party, OutsideTransfer)
        call.party.connected = True
        self._emit(cmd.ConnectOutside(call.id, call.party.leg_id, with_caller=False))

    def _party_not_reached(self, call: Call, now: float) -> None:
        """The number did not answer (its leg is gone): the agent has the caller back."""
        self._drop_party(call, "failed", now, hang_up=False)

    def _party_left(self, call: Call, now: float) -> None:
        """The number hung up: the caller (back from hold) and the agent talk on."""
        self._drop_party(call, "connected" if call.party and call.party.connected else "failed",
                         now, hang_up=False)

    def _drop_party(self, call: Call, result: rec.TransferResult, now: float,
                    hang_up: bool = True) -> None:
        party = call.party
        assert party is not None
        if isinstance(party, AgentParty):
            self._drop_centre_party(call, party, result, now, hang_up)
            return
        call.party = None
        self.outside_legs.pop(party.leg_id, None)
        if hang_up:
            self._emit(cmd.HangUp(call.id, "outside"))
        if call.hold_started is not None and call.state is CallState.CONNECTED:
            self._resume(call, now)
        self._record_party(call, party, result, now)

    def _hand_to_party(self, call: Call, now: float) -> None:
        """The agent leaves the caller with the number (a completed consult, or the agent
        leaving a conference): the call goes on as one handed to that number."""
        party = call.party
        assert party is not None
        if isinstance(party, AgentParty):
            self._hand_to_centre_agent(call, party, now)
            return
        if call.hold_started is not None:
            self._emit(cmd.ResumeCaller(call.id))
        self._emit(cmd.LeaveCall(call.id))
        self._settle_hold(call, now)
        self._start_wrap_up(call, now)
        call.party, call.outside = None, party
        call.state = CallState.OUTSIDE
        self._record_party(call, party, "connected", now)

    def _agent_left_party(self, call: Call, now: float) -> bool:
        """The agent hung up while a third party was on the call: hand the caller to it if
        it answered; otherwise (still ringing) the caller waits again at the centre."""
        if call.party is None:
            return False
        if call.party.connected:
            self._hand_to_party(call, now)
            return True
        self._drop_party(call, "cancelled", now)
        self._requeue_here(call, now)
        return True

    def _record_party(self, call: Call, party: OutsideTransfer, result: rec.TransferResult,
                      now: float) -> None:
        self._emit(rec.CallTransferred(call.id, party.agent_id, party.from_centre, party.code,
                                       "number", party.number, party.requested_at, result,
                                       now, party.mode))

    # --- the agent's own hold and mute --------------------------------------------------

    def _on_hold_requested(self, e: ev.HoldRequested, now: float) -> None:
        call = self._agent_call(e.call_id, e.agent_id)
        if call is None or call.party is not None:
            return  # a consultation holds and resumes the caller itself
        if e.on and call.hold_started is None:
            self._hold(call, now)
        elif not e.on and call.hold_started is not None:
            self._resume(call, now)

    def _hold(self, call: Call, now: float) -> None:
        self._emit(cmd.HoldCaller(call.id))
        if call.hold_started is None:  # not already held with the phone's hold button
            call.hold_started = now
            self._record_agent(self.agents[call.agent_id or ""], "on_hold", now)

    def _resume(self, call: Call, now: float) -> None:
        self._emit(cmd.ResumeCaller(call.id))
        self._settle_hold(call, now)
        self._record_agent(self.agents[call.agent_id or ""], "on_call", now)

    def _on_mute_requested(self, e: ev.MuteRequested, now: float) -> None:
        call = self._agent_call(e.call_id, e.agent_id)
        if call is not None:
            self._emit(cmd.MuteAgent(e.call_id, e.on))
            if e.on and call.mute_started is None:
                call.mute_started = now
            elif not e.on:
                self._settle_mute(call, now)
