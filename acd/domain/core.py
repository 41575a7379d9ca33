"""The routing and escalation core: events and `now` in, commands and records out.

Synchronous and deterministic: no asyncio, no I/O, no wall clock. The driver (the daemon,
the simulator, a test) passes the time with every event and asks `next_due()` when to call
`advance()`; offer ids come from the injected `ids`. Due timers are always fired before an
event is handled, each at its own due time, so a driver that wakes late still gets exactly
the result of one that woke on time.

What the core guarantees (checked by the stateful tests in tests/test_core_invariants.py):
an agent never has two calls; a call is in one state until it ends; a waiting call is
escalated no later than its deadline; only a hang-up ends a call; higher priority first and
first come, first served within a priority class.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from typing import Any, Literal, cast

from acd.domain.callers import CallerPolicy, parse_caller
from acd.domain.ingress import IngressResolver
from acd.domain.model import Agent, AgentState, Call, CallState, Hop, Offer, QueueKey
from acd.domain.phones import PhonePolicy
from acd.domain.queues import QueueState
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from acd.vocabulary.tiers import Tier
from config.models import CallFlows, Centre, Strategy
from config.models import Queue as QueueConfig
from config.regions import NATIONAL_CODE, RegionTable
from escalation.policy import Step, TierLadder, is_open
from escalation.timers import Timer, TimerKind, Timers

Output = cmd.Command | rec.Record

# If Asterisk never reports the end of the welcome prompt (a lost event), queue anyway.
WELCOME_GUARD_S = 30.0
# Asterisk ends an unanswered originate at its own timeout; this is the fallback if that
# report is lost, so a call can never stay "ringing" forever.
RING_GUARD_S = 5.0
EWMA_ALPHA = 0.2

_WAITING = (CallState.QUEUED, CallState.OFFERED)
_RING_RESULT: dict[ev.RingFailure, rec.OfferResult] = {
    "no_answer": "no_answer", "busy": "rejected", "failed": "failed",
}


class ReloadRefused(Exception):
    """New call flows that cannot be adopted now; `problems` says why. Nothing changed."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class Acd:
    def __init__(self, flows: CallFlows, regions: RegionTable, ids: Callable[[], str]) -> None:
        self.regions = regions
        self._ids = ids
        self._timers = Timers()
        self.calls: dict[str, Call] = {}
        self.agents: dict[str, Agent] = {}
        self.offers: dict[str, Offer] = {}
        self.queues: dict[QueueKey, QueueState] = {}
        self.unreachable: set[str] = set()  # devices known to be unregistered or unreachable
        self._device_agent: dict[str, str] = {}
        self._last_call: OrderedDict[str, float] = OrderedDict()  # for the repeat-caller class
        self._call_seq = 0
        self._offer_seq = 0
        self._out: list[Output] = []
        self._adopt_flows(flows)
        self._handlers: dict[type[Any], Callable[[Any, float], None]] = {
            ev.CallArrived: self._on_call_arrived,
            ev.CallAdopted: self._on_call_adopted,
            ev.PromptFinished: self._on_prompt_finished,
            ev.CallerHungUp: self._on_caller_hung_up,
            ev.CallHandedOff: self._on_call_handed_off,
            ev.RingAnswered: self._on_ring_answered,
            ev.RingFailed: self._on_ring_failed,
            ev.AgentHungUp: self._on_agent_hung_up,
            ev.HoldStarted: self._on_hold_started,
            ev.HoldEnded: self._on_hold_ended,
            ev.AgentLoggedIn: self._on_agent_logged_in,
            ev.AgentLoginRestored: self._on_agent_login_restored,
            ev.AgentLoggedOut: self._on_agent_logged_out,
            ev.AgentPaused: self._on_agent_paused,
            ev.AgentUnpaused: self._on_agent_unpaused,
            ev.WrapUpDone: self._on_wrap_up_done,
            ev.DeviceStateChanged: self._on_device_state_changed,
        }
        self._timer_handlers: dict[TimerKind, Callable[[Timer], None]] = {
            TimerKind.WELCOME_GUARD: self._on_welcome_guard,
            TimerKind.ESCALATE: self._on_escalate,
            TimerKind.ANNOUNCE: self._on_announce,
            TimerKind.RING_GUARD: self._on_ring_guard,
            TimerKind.WRAP_UP: self._on_wrap_up_timer,
            TimerKind.NATIONAL_ALERT: self._on_national_alert,
        }

    # --- the driver's interface ------------------------------------------------------

    def handle(self, event: ev.Event, now: float) -> list[Output]:
        """Fire the timers due by `now`, then apply `event`; return what to do and record."""
        out = self._out = []
        self._fire_due(now)
        self._handlers[type(event)](event, now)
        self._fire_due(now)  # e.g. a deadline already due when the call joined its tier
        return out

    def advance(self, now: float) -> list[Output]:
        out = self._out = []
        self._fire_due(now)
        return out

    def next_due(self) -> float | None:
        return self._timers.next_due()

    def agent_at(self, device: str) -> str | None:
        """The agent logged in at this phone, if any."""
        return self._device_agent.get(device)

    # --- calls -----------------------------------------------------------------------

    def _on_call_arrived(self, e: ev.CallArrived, now: float) -> None:
        if e.call_id in self.calls:
            return  # the same channel announced twice (e.g. after a reconnect): one call
        call = self._new_call(e.call_id, e.caller, e.ingress, now)
        self._emit(cmd.Answer(call.id))
        prompt = self._announce.welcome
        if call.nuisance:
            self._emit(cmd.Notify("nuisance_call", f"listed nuisance number {call.caller} called",
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
        cls = self._callers.classify(info, arrived_at, last)
        res = self._ingress.resolve(ingress, info)
        region = self.regions.get(res.region)
        self._call_seq += 1
        call = Call(
            id=call_id, caller=caller, caller_e164=info.e164, caller_class=cls.caller_class,
            priority=cls.priority, nuisance=cls.nuisance, region=res.region,
            region_name=region.name if region else res.region, service=res.service,
            arrived_at=arrived_at, seq=self._call_seq,
        )
        call.ladder = self._ladder.steps(call.region)
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
        if agent is not None and e.answered_at is not None:
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
            self._emit(cmd.Notify("adoption_conflict", f"agent {agent.id} is busy; call "
                                  f"{call.id} carries on without wrap-up tracking", now,
                                  call_id=call.id, centre_id=agent.centre_id))
            return
        if agent.state is AgentState.LOGGED_OUT:
            self._log_in(agent, device or "", now)
        call.agent_id = agent.id
        agent.call_id = call.id
        self._set_state(agent, AgentState.ON_CALL, now, "adopted")

    def _rejoin(self, call: Call, tier: Tier, since: float, now: float) -> None:
        """Put an adopted call back at the tier it had reached, in the queues it was in
        (lower tiers too where they widen), with its original deadline."""
        steps = call.ladder
        order = list(Tier)
        reachable = [i for i, s in enumerate(steps) if order.index(s.tier) <= order.index(tier)]
        call.step = reachable[-1] if reachable else 0
        step = steps[call.step]
        call.queues = [self._queue_key(step.centre, call.service)]
        for lower in reversed(steps[:call.step]):
            policy = self.flows.escalation.for_tier(lower.tier)
            if policy is None or policy.mode == "move":
                break
            call.queues.insert(0, self._queue_key(lower.centre, call.service))
        call.hops.append(Hop(step.tier, step.centre.id, since, "adopted"))
        self._set_tier_timers(call, step, first=call.step == 0, since=since, now=now)
        self._start_waiting(call, now)

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
        self._withdraw(call, now)
        self._finish(call, "blocked" if call.nuisance else "abandoned", now)

    def _on_call_handed_off(self, e: ev.CallHandedOff, now: float) -> None:
        call = self.calls.get(e.call_id)
        if call is None:
            return
        if call.state is CallState.CONNECTED:  # the conversation happened; the caller left
            self._end_conversation(call, now, hang_up="agent")
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
        if call is not None and call.state is CallState.CONNECTED:
            self._end_conversation(call, now, hang_up="caller")

    def _on_hold_started(self, e: ev.HoldStarted, now: float) -> None:
        call = self.calls.get(e.call_id)
        if call and call.state is CallState.CONNECTED and call.hold_started is None:
            call.hold_started = now
            self._record_agent(self.agents[call.agent_id or ""], "on_hold", now)

    def _on_hold_ended(self, e: ev.HoldEnded, now: float) -> None:
        call = self.calls.get(e.call_id)
        if call and call.state is CallState.CONNECTED and call.hold_started is not None:
            call.hold_s += now - call.hold_started
            call.hold_started = None
            self._record_agent(self.agents[call.agent_id or ""], "on_call", now)

    def _end_conversation(self, call: Call, now: float,
                          hang_up: Literal["caller", "agent"]) -> None:
        self._emit(cmd.HangUp(call.id, hang_up))
        if call.hold_started is not None:
            call.hold_s += now - call.hold_started
            call.hold_started = None
        self._finish(call, "answered", now)
        agent = self.agents.get(call.agent_id or "")
        if agent is None or agent.call_id != call.id:
            return  # an adopted call whose agent was busy in our books: nobody to wrap up
        assert call.answered_queue is not None
        wrap_up_s = self.queues[call.answered_queue].config.wrap_up_s
        self._set_state(agent, AgentState.AFTER_CALL_WORK, now)
        if wrap_up_s <= 0:
            self._wrap_up_over(agent, now)
        else:
            self._timers.set(now + wrap_up_s, TimerKind.WRAP_UP, agent.id, agent.token)

    def _finish(self, call: Call, outcome: rec.Outcome, now: float) -> None:
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
            hold_s=call.hold_s, escalations=max(len(call.hops) - 1, 0)))
        call.state = CallState.ENDED
        del self.calls[call.id]  # ended calls leave memory; the records carry their story

    # --- queueing and escalation -------------------------------------------------------

    def _climb(self, call: Call, now: float, reason: rec.HopReason) -> None:
        """Move the call to its next tier (or to its first one from the welcome), skipping
        closed centres and, where the policy says so, centres with no agent logged in."""
        steps = call.ladder
        first = call.step == -1
        if first and steps[0].tier is not self._natural_tier(call.region):
            reason = "no_centre"
        said_after_hours = False
        while True:
            call.step += 1
            step = steps[call.step]
            last = call.step == len(steps) - 1
            centre = self._centres.get(step.centre.id)  # as configured now
            if centre is None:  # removed by a reload since the call arrived
                if not last:
                    continue
                centre = self._ladder.steps(call.region)[-1].centre  # today's national
                step = Step(step.tier, centre)
            key = self._queue_key(centre, call.service)
            if last:
                break
            if not is_open(centre, now):
                if first and not said_after_hours and self._announce.after_hours:
                    self._emit(cmd.PlayPrompt(call.id, self._announce.after_hours))
                    said_after_hours = True
                reason = "closed"
                continue
            policy = self.flows.escalation.for_tier(step.tier)
            if policy and policy.immediate_when_unstaffed and self.queues[key].logged_in == 0:
                reason = "unstaffed"
                continue
            break
        if call.queues and not first:
            left = self.flows.escalation.for_tier(self.centre_tier[call.queues[-1][0]])
            if left is not None and left.mode == "move":
                self._leave_queues(call)
                call.queues.clear()
        call.queues.append(key)
        call.hops.append(Hop(step.tier, step.centre.id, now, reason))
        self._emit(rec.TierHop(call.id, step.tier, step.centre.id, reason, now))
        if not first and step.tier in self._announce.escalated:
            self._emit(cmd.PlayPrompt(call.id, self._announce.escalated[step.tier]))
        self._set_tier_timers(call, step, first, since=now, now=now)
        if call.state is CallState.ANNOUNCING:
            self._start_waiting(call, now)
        elif call.state is CallState.QUEUED:
            self.queues[key].add_call(call)
            self._offer_call(call, now)

    def _set_tier_timers(self, call: Call, step: Step, first: bool, since: float,
                         now: float) -> None:
        """The deadline at this tier, or at the last tier the long-wait alert."""
        policy = self.flows.escalation.for_tier(step.tier)
        if policy is None or call.step == len(call.ladder) - 1:
            call.deadline = None
            self._timers.set(now + self.flows.escalation.national.alert_after_s,
                             TimerKind.NATIONAL_ALERT, call.id, call.step)
            if self.queues[call.queues[-1]].logged_in == 0:
                self._emit(cmd.Notify("centre_unstaffed",
                                      f"call waiting at {step.centre.id} with no agent logged in",
                                      now, call_id=call.id, centre_id=step.centre.id))
            return
        # At the first tier the SLA clock started when the call arrived.
        call.deadline = (call.arrived_at if first else since) + policy.after_s
        self._timers.set(call.deadline, TimerKind.ESCALATE, call.id, call.step)

    def _start_waiting(self, call: Call, now: float) -> None:
        self._make_waiting(call)
        self._timers.set(now + self._announce.periodic_every_s, TimerKind.ANNOUNCE, call.id)
        self._offer_call(call, now)

    def _natural_tier(self, region: str) -> Tier:
        if region == NATIONAL_CODE:
            return Tier.NATIONAL
        return Tier.PROVINCE if self.regions.province_of(region) == region else Tier.KABKOTA

    def _on_escalate(self, t: Timer) -> None:
        call = self.calls.get(t.subject)
        if call and call.state in _WAITING and call.step == t.token:
            self._climb(call, t.at, "timeout")

    def _escalate_unstaffed(self, key: QueueKey, now: float) -> None:
        """The last agent of a queue logged out: its calls need not wait out the deadline."""
        policy = self.flows.escalation.for_tier(self.centre_tier[key[0]])
        if policy is None or not policy.immediate_when_unstaffed:
            return
        for call_id in list(self.queues[key].waiting_ids):
            call = self.calls[call_id]
            if call.queues[-1] == key:
                self._climb(call, now, "unstaffed")

    def _on_national_alert(self, t: Timer) -> None:
        call = self.calls.get(t.subject)
        if call and call.state in _WAITING and call.step == t.token:
            waited = t.at - call.arrived_at
            self._emit(cmd.Notify("national_long_wait",
                                  f"call from {call.caller} waiting {waited:.0f} s at national",
                                  t.at, call_id=call.id, centre_id=call.hops[-1].centre_id))
            self._timers.set(t.at + self.flows.escalation.national.alert_after_s,
                             TimerKind.NATIONAL_ALERT, call.id, call.step)

    def _on_announce(self, t: Timer) -> None:
        call = self.calls.get(t.subject)
        if not call or call.state not in _WAITING:
            return
        if call.state is CallState.QUEUED:  # not while an agent's phone is ringing
            self._emit(cmd.PlayPrompt(call.id, self._announce.periodic))
            estimates = [w for k in call.queues if (w := self.queues[k].ewma_wait_s) is not None]
            if self._announce.expected_wait and estimates:
                minutes = max(1, math.ceil(min(estimates) / 60))
                self._emit(cmd.PlayPrompt(call.id, self._announce.expected_wait, minutes))
        self._timers.set(t.at + self._announce.periodic_every_s, TimerKind.ANNOUNCE, call.id)

    def _make_waiting(self, call: Call) -> None:
        call.state = CallState.QUEUED
        call.queue_token += 1
        for key in call.queues:
            self.queues[key].add_call(call)

    def _leave_queues(self, call: Call) -> None:
        call.queue_token += 1
        for key in call.queues:
            self.queues[key].remove_call(call.id)

    # --- matching calls and agents ----------------------------------------------------

    def _offer_call(self, call: Call, now: float) -> None:
        """A call is waiting: ring the best available agent, lowest tier first (the local
        centre knows the area). Ring-all queues ring every available agent."""
        def usable(agent: Agent) -> bool:
            return agent.id not in call.missed and agent.device not in self.unreachable

        for key in call.queues:
            q = self.queues[key]
            if call.welcome_playing and not q.config.ring_during_welcome:
                continue
            limit = len(q.agent_ids) if q.config.strategy is Strategy.RING_ALL else 1
            agents = q.agents_in_order(self.agents, usable, limit)
            if agents:
                for agent in agents:
                    self._ring(call, agent, key, now)
                return

    def _serve_agent(self, agent: Agent, now: float) -> None:
        """An agent became available: ring them for the best call waiting in their queues."""
        if agent.state is not AgentState.AVAILABLE or agent.device in self.unreachable:
            return
        best: Call | None = None
        best_key: QueueKey | None = None
        for key in agent.queues:
            q = self.queues[key]
            if not q.waiting_ids:
                continue
            call = q.first_call(self.calls, partial(_may_ring, agent, q.config))
            if call and (best is None or (call.priority, call.seq) < (best.priority, best.seq)):
                best, best_key = call, key
        if best is not None and best_key is not None:
            self._ring(best, agent, best_key, now)

    def _ring(self, call: Call, agent: Agent, key: QueueKey, now: float) -> None:
        tier = self.centre_tier[key[0]]
        offer = Offer(self._ids(), call.id, agent.id, key, tier, agent.device or "", now)
        self.offers[offer.id] = offer
        call.offers.add(offer.id)
        if call.state is CallState.QUEUED:
            call.state = CallState.OFFERED
            self._leave_queues(call)
        self._offer_seq += 1
        agent.last_offer_seq = self._offer_seq
        agent.call_id, agent.offer_id = call.id, offer.id
        self._set_state(agent, AgentState.RINGING, now)
        timeout = self.queues[key].config.ring_timeout_s
        self._emit(cmd.RingAgent(call.id, offer.id, agent.id, offer.device, call.caller,
                                 call.region, call.region_name, tier, timeout))
        self._timers.set(now + timeout + RING_GUARD_S, TimerKind.RING_GUARD, offer.id)

    def _on_ring_answered(self, e: ev.RingAnswered, now: float) -> None:
        offer = self.offers.pop(e.offer_id, None)
        if offer is None:
            # Answered after it was withdrawn (ring-all race, caller gone): drop that leg.
            self._emit(cmd.StopRinging(e.offer_id, "answered_elsewhere"))
            return
        call, agent = self.calls[offer.call_id], self.agents[offer.agent_id]
        call.offers.discard(offer.id)
        self._record_offer(offer, "answered", now)
        for other in list(call.offers):
            self._cancel_offer(other, "answered_elsewhere", now)
        call.state = CallState.CONNECTED
        call.answered_at = now
        call.agent_id = agent.id
        call.answered_queue = offer.queue
        agent.calls_answered += 1
        self._set_state(agent, AgentState.ON_CALL, now)
        q = self.queues[offer.queue]
        wait = now - call.arrived_at
        q.ewma_wait_s = wait if q.ewma_wait_s is None else (
            q.ewma_wait_s + EWMA_ALPHA * (wait - q.ewma_wait_s))
        self._emit(cmd.Bridge(call.id, offer.id, agent.id))
        if self.flows.recording.records(call.service):
            self._emit(cmd.StartRecording(call.id, call.id, self.flows.recording.format,
                                          agent.id, offer.queue[0], offer.tier))

    def _on_ring_failed(self, e: ev.RingFailed, now: float) -> None:
        offer = self.offers.get(e.offer_id)
        if offer is not None:
            self._ring_failed(offer, e.reason, now)

    def _on_ring_guard(self, t: Timer) -> None:
        offer = self.offers.get(t.subject)
        if offer is not None:
            self._emit(cmd.StopRinging(offer.id, "no_answer"))
            self._ring_failed(offer, "no_answer", t.at)

    def _ring_failed(self, offer: Offer, reason: ev.RingFailure, now: float) -> None:
        del self.offers[offer.id]
        call, agent = self.calls[offer.call_id], self.agents[offer.agent_id]
        call.offers.discard(offer.id)
        call.missed.add(agent.id)
        self._record_offer(offer, _RING_RESULT[reason], now)
        if not call.offers:
            self._make_waiting(call)
            self._offer_call(call, now)
        if self.queues[offer.queue].config.pause_on_no_answer:
            agent.call_id = agent.offer_id = None
            self._pause(agent, now, "ring_no_answer" if reason != "failed" else "ring_failed")
        else:
            self._release(agent, now)

    def _cancel_offer(self, offer_id: str, reason: cmd.StopReason, now: float) -> None:
        offer = self.offers.pop(offer_id)
        self.calls[offer.call_id].offers.discard(offer_id)
        self._emit(cmd.StopRinging(offer_id, reason))
        self._record_offer(offer, "cancelled", now)
        self._release(self.agents[offer.agent_id], now)

    # --- agents ----------------------------------------------------------------------

    def login_refusal(self, agent_id: str, device: str) -> str | None:
        """Why this agent may not log in at this phone now, or None (acd.domain.phones): the
        HTTP API and the phone's feature dialog ask first to tell the agent; the core asks
        again when the login arrives, so both obey it whatever they did."""
        agent = self.agents.get(agent_id)
        if agent is None:
            return f"unknown agent id {agent_id}"
        why = self.phones.agent_refusal(agent.centre_id, device)
        if why is not None:
            return why
        holder = self._device_agent.get(device)
        if holder is not None and holder != agent_id:
            return f"{device} is taken: agent {holder} is logged in there"
        return None

    def monitor_refusal(self, device: str) -> str | None:
        """Why a supervisor may not listen, whisper or barge from this phone, or None."""
        why = self.phones.supervisor_refusal(device)
        if why is None and (holder := self._device_agent.get(device)) is not None:
            why = f"{device} is agent {holder}'s phone"
        return why

    def _on_agent_logged_in(self, e: ev.AgentLoggedIn, now: float) -> None:
        agent = self.agents.get(e.agent_id)
        if agent is None:
            self._emit(cmd.Notify("login_rejected", f"unknown agent id {e.agent_id}", now))
            return
        why = self.login_refusal(e.agent_id, e.device)
        if why is not None:
            # Refused, never taken over: whoever sits there stays logged in.
            self._emit(cmd.Notify("login_refused", f"agent {e.agent_id}: {why}", now))
            return
        if agent.state is AgentState.LOGGED_OUT:
            self._log_in(agent, e.device, now)
            self._make_available(agent, now, "login")
            return
        self._take_device(agent, e.device, now)
        if agent.state is AgentState.AVAILABLE:  # free seating: callable at the new phone
            self._make_available(agent, now, "device_changed")
        else:  # moved to another phone mid-call: the call carries on, later ones ring there
            state = cast(rec.AgentStateName, agent.state.value)
            self._record_agent(agent, state, now, reason="device_changed")

    def _on_agent_login_restored(self, e: ev.AgentLoginRestored, now: float) -> None:
        """Log an agent back in after a restart without a new "login": the state recorded
        is `available` with reason `restored`, or `paused` with the pause reason (so that
        the latest record keeps telling the next restart why), and the agent's session in
        the store, never closed, carries on."""
        agent = self.agents.get(e.agent_id)
        if agent is None:
            self._emit(cmd.Notify("login_not_restored",
                                  f"agent {e.agent_id} was logged in at {e.device} before the "
                                  "restart but is no longer in the call flows", now))
            return
        if agent.state is not AgentState.LOGGED_OUT:
            return  # logged in since (or restored twice): what happened since wins
        why = self.login_refusal(e.agent_id, e.device)
        if why is not None:  # e.g. someone else logged in at that phone since
            self._emit(cmd.Notify("login_not_restored", f"agent {e.agent_id}: {why}", now))
            return
        self._log_in(agent, e.device, now)
        if e.pause_reason is None:
            self._make_available(agent, now, "restored")
        else:
            self._pause(agent, now, e.pause_reason)

    def _log_in(self, agent: Agent, device: str, now: float) -> None:
        self._take_device(agent, device, now)
        for key in agent.queues:
            self.queues[key].logged_in += 1
        agent.idle_since = now
        agent.calls_answered = 0

    def _take_device(self, agent: Agent, device: str, now: float) -> None:
        """One agent per phone: the caller checked with `login_refusal` that it is free."""
        if agent.device is not None and self._device_agent.get(agent.device) == agent.id:
            del self._device_agent[agent.device]
        agent.device = device
        self._device_agent[device] = agent.id

    def _on_agent_logged_out(self, e: ev.AgentLoggedOut, now: float) -> None:
        agent = self.agents.get(e.agent_id)
        if agent is None or agent.state is AgentState.LOGGED_OUT:
            return
        if agent.state in (AgentState.ON_CALL, AgentState.AFTER_CALL_WORK):
            agent.pending = "logout"  # never cut a conversation; log out when it is done
            agent.logout_reason = e.reason  # a supervisor's force-logout stays theirs
            return
        if agent.state is AgentState.RINGING:
            self._withdraw_ring(agent, now)
        self._logout(agent, now, e.reason)

    def _on_agent_paused(self, e: ev.AgentPaused, now: float) -> None:
        agent = self.agents.get(e.agent_id)
        if agent is None or agent.state is AgentState.LOGGED_OUT:
            return
        if agent.state in (AgentState.ON_CALL, AgentState.AFTER_CALL_WORK):
            agent.pending = f"pause:{e.reason}"
            return
        if agent.state is AgentState.RINGING:
            self._withdraw_ring(agent, now)
        self._pause(agent, now, e.reason)

    def _on_agent_unpaused(self, e: ev.AgentUnpaused, now: float) -> None:
        agent = self.agents.get(e.agent_id)
        if agent is None:
            return
        if agent.pending and agent.pending.startswith("pause:"):
            agent.pending = None
        if agent.state is AgentState.PAUSED:
            agent.pause_reason = None
            self._make_available(agent, now, "unpause")

    def _on_wrap_up_done(self, e: ev.WrapUpDone, now: float) -> None:
        agent = self.agents.get(e.agent_id)
        if agent is not None and agent.state is AgentState.AFTER_CALL_WORK:
            self._wrap_up_over(agent, now)

    def _on_wrap_up_timer(self, t: Timer) -> None:
        agent = self.agents.get(t.subject)
        if agent and agent.state is AgentState.AFTER_CALL_WORK and agent.token == t.token:
            self._wrap_up_over(agent, t.at)

    def _on_device_state_changed(self, e: ev.DeviceStateChanged, now: float) -> None:
        if e.reachable == (e.device not in self.unreachable):
            return
        if e.reachable:
            self.unreachable.discard(e.device)
        else:
            self.unreachable.add(e.device)
        agent_id = self._device_agent.get(e.device)
        agent = self.agents[agent_id] if agent_id else None
        if agent is not None and agent.state is AgentState.AVAILABLE:
            self._make_available(agent, now, "device_reachable" if e.reachable
                                 else "device_unreachable")

    def _wrap_up_over(self, agent: Agent, now: float) -> None:
        self._emit(rec.WrapUpEnded(agent.call_id or "", agent.id, now - agent.state_since, now))
        agent.idle_since = now
        self._release(agent, now)

    def _release(self, agent: Agent, now: float) -> None:
        """The agent's call or ring is over: apply a pending logout or pause, else serve."""
        agent.call_id = agent.offer_id = None
        pending, agent.pending = agent.pending, None
        if pending == "logout":
            self._logout(agent, now, agent.logout_reason)
        elif pending is not None:
            self._pause(agent, now, pending.removeprefix("pause:"))
        else:
            self._make_available(agent, now, None)

    def _withdraw_ring(self, agent: Agent, now: float) -> None:
        """The agent paused or logged out while their phone rang: give the call to others."""
        offer = self.offers.pop(agent.offer_id or "")
        call = self.calls[offer.call_id]
        call.offers.discard(offer.id)
        self._emit(cmd.StopRinging(offer.id, "logged_out"))
        self._record_offer(offer, "cancelled", now)
        agent.call_id = agent.offer_id = None
        if not call.offers:
            self._make_waiting(call)
            self._offer_call(call, now)

    def _make_available(self, agent: Agent, now: float, reason: str | None) -> None:
        self._set_state(agent, AgentState.AVAILABLE, now, reason)
        if agent.device in self.unreachable:
            return  # logged in but not callable until the phone is back
        for key in agent.queues:
            self.queues[key].add_agent(agent)
        self._serve_agent(agent, now)

    def _pause(self, agent: Agent, now: float, reason: str) -> None:
        agent.pause_reason = reason
        self._set_state(agent, AgentState.PAUSED, now, reason)

    def _logout(self, agent: Agent, now: float, reason: str) -> None:
        if agent.device is not None and self._device_agent.get(agent.device) == agent.id:
            del self._device_agent[agent.device]
        self._set_state(agent, AgentState.LOGGED_OUT, now, reason)
        agent.device = None
        agent.pause_reason = None
        for key in agent.queues:
            q = self.queues[key]
            q.logged_in -= 1
            if q.logged_in == 0:
                self._escalate_unstaffed(key, now)

    def _set_state(self, agent: Agent, state: AgentState, now: float,
                   reason: str | None = None) -> None:
        agent.state = state
        agent.token += 1  # every index entry and timer for the old state is now stale
        agent.state_since = now
        self._record_agent(agent, state.value, now, reason)

    def _record_agent(self, agent: Agent, state: rec.AgentStateName, now: float,
                      reason: str | None = None) -> None:
        self._emit(rec.AgentStateChanged(agent.id, agent.centre_id, state, reason, agent.device,
                                         now, agent.call_id))

    def _record_offer(self, offer: Offer, result: rec.OfferResult, now: float) -> None:
        self._emit(rec.OfferEnded(offer.id, offer.call_id, offer.agent_id, offer.queue[0],
                                  offer.tier, offer.device, offer.at, now, result))

    # --- reloading the call flows -------------------------------------------------------

    def reload_conflicts(self, flows: CallFlows) -> list[str]:
        """Why `flows` cannot be adopted now without dropping or stranding someone (empty
        when it can). Only removals of what is in use conflict: a queue with calls in it,
        a logged-in agent removed or moved to another centre."""
        new_queues = {(c.id, q.service) for c in flows.centres for q in c.queues}
        new_agents = {a.id: a for a in flows.agents}
        in_use: dict[QueueKey, int] = {}
        for call in self.calls.values():
            keys = {*call.queues, *((call.answered_queue,) if call.answered_queue else ())}
            for key in keys:
                in_use[key] = in_use.get(key, 0) + 1
        for offer in self.offers.values():
            in_use.setdefault(offer.queue, 1)
        problems = []
        for key, n in sorted(in_use.items()):
            if key not in new_queues:
                problems.append(f"centre {key[0]}, service {key[1]}: {n} call(s) in progress "
                                "there; remove it once they are over")
        for agent in self.agents.values():
            if agent.state is AgentState.LOGGED_OUT:
                continue
            new = new_agents.get(agent.id)
            if new is None:
                problems.append(f"agent {agent.id} is logged in; log them out before removing "
                                "them")
            elif new.centre != agent.centre_id:
                problems.append(f"agent {agent.id} is logged in at {agent.centre_id}; log them "
                                f"out before moving them to {new.centre}")
        return problems

    def reconfigure(self, flows: CallFlows, now: float) -> list[Output]:
        """Adopt new call flows without dropping a call.

        Calls in flight keep their tier ladder (the steps they were promised) and their
        timers; everything else takes effect at once: queue settings and strategies,
        agents' skills, escalation timers of the next hop, prompts, ingress rules, caller
        classes. Removing a queue with calls in it, or a logged-in agent, is refused
        (`ReloadRefused`) and nothing changes. Agents whose new skills let them take a
        waiting call are rung for it right away."""
        problems = self.reload_conflicts(flows)
        if problems:
            raise ReloadRefused(problems)
        out = self._out = []
        staffed_before = {k for k, q in self.queues.items() if q.logged_in > 0}
        self._adopt_flows(flows)
        self._emit(cmd.Notify("config_reloaded",
                              f"call flows reloaded: {len(flows.centres)} centres, "
                              f"{len(flows.agents)} agents", now))
        for key in sorted(staffed_before):
            if key in self.queues and self.queues[key].logged_in == 0:
                self._escalate_unstaffed(key, now)
        for agent in list(self.agents.values()):
            self._serve_agent(agent, now)
        self._fire_due(now)
        return out

    def _adopt_flows(self, flows: CallFlows) -> None:
        """Derive everything that comes from the call flows; queues and agents already
        known keep their state (waiting calls, who is logged in, idle times)."""
        self.flows = flows
        self._callers = CallerPolicy(flows.callers)
        self.phones = PhonePolicy(flows)
        self._ingress = IngressResolver(flows.ingress, self.regions)
        self._ladder = TierLadder(flows, self.regions)
        self._announce = flows.announcements
        self._centres = {c.id: c for c in flows.centres}
        queues: dict[QueueKey, QueueState] = {}
        self._centre_queues: dict[str, dict[str, QueueKey]] = {}
        self.centre_tier: dict[str, Tier] = {}
        for centre in flows.centres:
            self.centre_tier[centre.id] = self._natural_tier(centre.region)
            keys = self._centre_queues[centre.id] = {}
            for qc in centre.queues:
                key = (centre.id, qc.service)
                keys[qc.service] = key
                q = self.queues.get(key) or QueueState(centre.id, qc)
                q.config = qc
                q.agent_ids, q.available, q.logged_in = [], [], 0
                queues[key] = q
        self.queues = queues
        agents: dict[str, Agent] = {}
        for a in flows.agents:
            agent = self.agents.get(a.id) or Agent(a.id, a.centre, dict(a.skills), ())
            agent.centre_id, agent.skills = a.centre, dict(a.skills)
            agent.queues = tuple(k for k in self._centre_queues.get(a.centre, {}).values()
                                 if self.queues[k].eligible(agent))
            for k in agent.queues:
                q = self.queues[k]
                q.agent_ids.append(a.id)
                if agent.state is not AgentState.LOGGED_OUT:
                    q.logged_in += 1
                if agent.state is AgentState.AVAILABLE and agent.device not in self.unreachable:
                    q.add_agent(agent)
            agents[a.id] = agent
        self.agents = agents

    # --- helpers -----------------------------------------------------------------------

    def _queue_key(self, centre: Centre, service: str) -> QueueKey:
        keys = self._centre_queues[centre.id]
        return keys.get(service) or next(iter(keys.values()))

    def _fire_due(self, now: float) -> None:
        while (timer := self._timers.pop_due(now)) is not None:
            self._timer_handlers[timer.kind](timer)

    def _emit(self, output: Output) -> None:
        self._out.append(output)


def _may_ring(agent: Agent, queue: QueueConfig, call: Call) -> bool:
    """May this waiting call ring this agent of this queue now?"""
    return agent.id not in call.missed and (queue.ring_during_welcome
                                            or not call.welcome_playing)
