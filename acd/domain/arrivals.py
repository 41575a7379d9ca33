"""Calls from arrival to end: the welcome, adopting calls found after a restart, hold,
hang-ups and the call's final record."""

from __future__ import annotations

from typing import Literal

from acd.domain.callers import parse_caller
from acd.domain.model import Agent, AgentState, Call, CallState, OutsideTransfer
from acd.domain.state import CoreState
from acd.domain.timers import Timer, TimerKind
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from acd.vocabulary.alerts import Alert

# If Asterisk never reports the end of the welcome prompt (a lost event), queue anyway.
WELCOME_GUARD_S = 30.0


class Arrivals(CoreState):
    def _on_nuisance_listed(self, e: ev.NuisanceListed, now: float) -> None:
        """Effective from the next call of that number (a call already waiting keeps its
        place: it was classified when it came)."""
        if e.until is None or e.until <= now:
            self.nuisance_listed.pop(e.number, None)
        else:
            self.nuisance_listed[e.number] = e.until

    def _on_call_arrived(self, e: ev.CallArrived, now: float) -> None:
        if e.call_id in self.calls:
            return  # the same channel announced twice (e.g. after a reconnect): one call
        call = self._new_call(e.call_id, e.caller, e.ingress, now)
        self._emit(cmd.Answer(call.id))
        prompt = self._announce.welcome
        if call.nuisance:
            self._emit(Alert("nuisance_call", f"listed nuisance number {call.caller} called",
                             now, call_id=call.id))
            if self.flows.callers.nuisance_action == "prompt" and self._announce.nuisance:
                prompt = self._announce.nuisance
        call.prompt = prompt
        self._emit(cmd.PlayPrompt(call.id, prompt))
        self._timers.set(now + WELCOME_GUARD_S, TimerKind.WELCOME_GUARD, call.id)
        if prompt == self._announce.welcome and not self._announce.prompts[prompt].heard_in_full:
            # Queued at once, the welcome still playing: an agent's answer cuts it short
            # (the telephony stops a caller's playbacks when it bridges).
            call.welcome_playing = True
            self._climb(call, now, "arrival")

    def _new_call(self, call_id: str, caller: str, ingress: ev.Ingress, arrived_at: float) -> Call:
        """Classify, place and record a new (or adopted) call."""
        info = parse_caller(caller)
        last = self._remember_caller(info.e164, arrived_at)
        cls = self._callers.classify(info, arrived_at, last, self.nuisance_listed)
        res = self._ingress.resolve(ingress, info)
        region = self.regions.get(res.region)
        self._call_seq += 1
        call = Call(
            id=call_id, caller=caller, caller_e164=info.e164, caller_class=cls.caller_class,
            priority=cls.priority, nuisance=cls.nuisance, region=res.region,
            region_name=region.name if region else res.region, service=res.service,
            arrived_at=arrived_at, seq=self._call_seq, line_type=info.line_type,
            region_source=res.source,
        )
        call.ladder = self._escalator.ladder(call.region)
        self.calls[call.id] = call
        # Replayed for an adopted call: the store keeps the first copy of a record.
        self._emit(rec.CallStarted(
            call.id, caller, info.e164, cls.caller_class, info.line_type, cls.priority,
            res.region, res.source, res.service, ingress.trunk, ingress.did, arrived_at))
        return call

    def _on_call_adopted(self, e: ev.CallAdopted, now: float) -> None:
        if e.call_id in self.calls:
            return  # still known: the connection came back, acd117 did not restart
        call = self._new_call(e.call_id, e.caller, e.ingress, e.arrived_at)
        agent = self.agents.get(e.agent_id or "")
        if e.outside_leg is not None and e.answered_at is not None:
            # Handed to a number before the restart: the call's story there is told (its
            # transfer record written); only its end is left to record.
            call.state = CallState.OUTSIDE
            call.answered_at = e.answered_at
            call.agent_id = e.agent_id  # the last agent who talked, as after the transfer
            call.outside = OutsideTransfer(e.outside_leg, "", "", e.agent_id or "", None,
                                           e.answered_at, connected=True)
            self.outside_legs[e.outside_leg] = call.id
        elif agent is not None and e.answered_at is not None:
            self._adopt_connected(call, agent, e.device, e.answered_at, now)
        elif e.tier is None:
            self._climb(call, now, "arrival")  # its welcome was cut short: queue it now
        else:
            self._rejoin(call, e.tier, e.tier_since or e.arrived_at, now)

    def _adopt_connected(self, call: Call, agent: Agent, device: str | None, answered_at: float,
                         now: float) -> None:
        call.state = CallState.CONNECTED
        call.answered_at = answered_at
        call.answered_queue = self._queue_key(self._centres[agent.centre_id], call.service)
        if agent.state is AgentState.RINGING:
            self._withdraw_ring(agent, now)
        if agent.state in (AgentState.ON_CALL, AgentState.AFTER_CALL_WORK):
            # The agent is already busy in our books: keep the call (it is real), but do not
            # give the agent a second one; their current call's end frees them as usual.
            self._emit(Alert("adoption_conflict", f"agent {agent.id} is busy; call "
                             f"{call.id} carries on without wrap-up tracking", now,
                             call_id=call.id, centre_id=agent.centre_id))
            return
        if agent.state is AgentState.LOGGED_OUT:
            self._log_in(agent, device or "", now)
        call.agent_id = agent.id
        agent.call_id = call.id
        self._set_state(agent, AgentState.ON_CALL, now, "adopted")

    def _remember_caller(self, number: str | None, now: float) -> float | None:
        if number is None:
            return None
        last = self._last_call.pop(number, None)
        self._last_call[number] = now
        horizon = now - self._callers.repeat_window_s
        while self._last_call:  # oldest first: keep the memory bounded to the window
            oldest, at = next(iter(self._last_call.items()))
            if at >= horizon:
                break
            del self._last_call[oldest]
        return last

    def _on_prompt_finished(self, e: ev.PromptFinished, now: float) -> None:
        call = self.calls.get(e.call_id)
        if call and call.prompt == e.prompt:
            self._welcome_heard(call, now)

    def _on_welcome_guard(self, t: Timer) -> None:
        call = self.calls.get(t.subject)
        if call:
            self._welcome_heard(call, t.at)

    def _welcome_heard(self, call: Call, now: float) -> None:
        if call.state is CallState.ANNOUNCING:
            self._climb(call, now, "arrival")
        elif call.welcome_playing:
            call.welcome_playing = False
            if call.state is CallState.QUEUED:  # queues that wait for the welcome ring now
                self._offer_call(call, now)

    def _on_caller_hung_up(self, e: ev.CallerHungUp, now: float) -> None:
        call = self.calls.get(e.call_id)
        if call is None:
            return  # already ended (we hung it up after the agent did) or never known
        if call.state is CallState.CONNECTED:
            self._end_conversation(call, now, hang_up="agent")
            return
        if call.state is CallState.OUTSIDE:
            self._leave_outside(call, now)
            return
        self._withdraw(call, now)
        if call.answered_at is not None:  # answered, transferred, and gone while re-queued
            self._finish(call, "answered", now)
            return
        self._finish(call, "blocked" if call.nuisance else "abandoned", now)

    def _on_call_handed_off(self, e: ev.CallHandedOff, now: float) -> None:
        call = self.calls.get(e.call_id)
        if call is None:
            return
        if call.state is CallState.CONNECTED:  # the conversation happened; the caller left
            self._end_conversation(call, now, hang_up="agent")
            return
        if call.state is CallState.OUTSIDE:
            self._leave_outside(call, now)
            return
        self._withdraw(call, now)
        self._finish(call, "handed_off", now)

    def _withdraw(self, call: Call, now: float) -> None:
        """The caller is gone from acd117: stop ringing for them, leave every queue."""
        for offer_id in list(call.offers):
            self._cancel_offer(offer_id, "caller_left", now)
        self._leave_queues(call)

    def _on_agent_hung_up(self, e: ev.AgentHungUp, now: float) -> None:
        call = self.calls.get(e.call_id)
        if call is not None:
            self._handle_agent_hung_up(call, now)

    def _handle_agent_hung_up(self, call: Call, now: float) -> None:
        if call.state is CallState.CONNECTED \
                and not self._agent_left_party(call, now) \
                and not self._agent_left_after_refusal(call, now):
            self._end_conversation(call, now, hang_up="caller")

    # The phone's hold button. During a consultation or conference the caller's hold is the
    # consultation's own (held from its start, resumed at its end): the phone holding or
    # resuming its first call then (as it does around its own second call) changes nothing.
    def _on_hold_started(self, e: ev.HoldStarted, now: float) -> None:
        call = self.calls.get(e.call_id)
        if call and call.state is CallState.CONNECTED and call.hold_started is None \
                and call.party is None:
            call.hold_started = now
            self._record_agent(self.agents[call.agent_id or ""], "on_hold", now)

    def _on_hold_ended(self, e: ev.HoldEnded, now: float) -> None:
        call = self.calls.get(e.call_id)
        if call and call.state is CallState.CONNECTED and call.hold_started is not None \
                and call.party is None:
            call.hold_s += now - call.hold_started
            call.hold_started = None
            self._record_agent(self.agents[call.agent_id or ""], "on_call", now)

    def _end_conversation(self, call: Call, now: float,
                          hang_up: Literal["caller", "agent"]) -> None:
        if call.party is not None:  # the caller left (the agent leaving is handled first)
            self._drop_party(call, "abandoned", now)
        self._emit(cmd.HangUp(call.id, hang_up))
        self._settle_hold(call, now)
        self._finish(call, "answered", now)
        self._start_wrap_up(call, now)

    def _settle_hold(self, call: Call, now: float) -> None:
        if call.hold_started is not None:
            call.hold_s += now - call.hold_started
            call.hold_started = None

    def _settle_mute(self, call: Call, now: float) -> None:
        """Unmuted, or the agent's part is over (the next agent starts unmuted)."""
        if call.mute_started is not None:
            call.mute_s += now - call.mute_started
            call.mute_started = None

    def _start_wrap_up(self, call: Call, now: float) -> None:
        """The agent's part of the call is over: after-call work, for the queue's time."""
        self._settle_mute(call, now)
        agent = self.agents.get(call.agent_id or "")
        if agent is None or agent.call_id != call.id:
            return  # an adopted call whose agent was busy in our books: nobody to wrap up
        assert call.answered_queue is not None
        wrap_up_s = self.queues[call.answered_queue].config.wrap_up_s
        self._set_state(agent, AgentState.AFTER_CALL_WORK, now)
        agent.wrap_up_until = now + wrap_up_s
        if wrap_up_s <= 0:
            # No after-call time: over at once, unless only a classification ends it.
            if self.may_end_wrap_up(agent):
                self._wrap_up_over(agent, now)
        else:
            self._timers.set(now + wrap_up_s, TimerKind.WRAP_UP, agent.id, agent.token)

    def _finish(self, call: Call, outcome: rec.Outcome, now: float) -> None:
        self._settle_mute(call, now)
        waited_until = call.answered_at if call.answered_at is not None else now
        steps = call.ladder
        reached = steps[max(call.step, 0)]
        self._emit(rec.CallEnded(
            call.id, outcome, call.arrived_at, call.answered_at, now,
            tier=reached.tier,
            centre_id=call.centre_id or (call.hops[-1].centre_id if call.hops else None),
            agent_id=call.agent_id,
            answered_tier=self.centre_tier[call.centre_id] if call.centre_id else None,
            wait_s=waited_until - call.arrived_at,
            talk_s=now - call.answered_at if call.answered_at is not None else 0.0,
            hold_s=call.hold_s, escalations=max(len(call.hops) - 1, 0), mute_s=call.mute_s))
        call.state = CallState.ENDED
        del self.calls[call.id]  # ended calls leave memory; the records carry their story
        for leg in (call.outside, call.party):
            if isinstance(leg, OutsideTransfer):
                self.outside_legs.pop(leg.leg_id, None)
