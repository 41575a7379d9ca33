"""Matching calls and agents: ringing the best agent, answers, ring failures and
withdrawn offers."""

from __future__ import annotations

from functools import partial

from acd.domain.model import Agent, AgentState, Call, CallState, Offer, QueueKey
from acd.domain.state import CoreState
from acd.domain.timers import Timer, TimerKind
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from config.models import Queue as QueueConfig
from config.models import Strategy

# Asterisk ends an unanswered originate at its own timeout; this is the fallback if that
# report is lost, so a call can never stay "ringing" forever.
RING_GUARD_S = 5.0
EWMA_ALPHA = 0.2

_RING_RESULT: dict[ev.RingFailure, rec.OfferResult] = {
    "no_answer": "no_answer", "busy": "rejected", "failed": "failed",
}


class Offers(CoreState):
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
        if e.offer_id in self.party_offers:  # another centre's agent, consulted
            self._party_ring_answered(e.offer_id, now)
            return
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
        first_answer = call.answered_at is None  # a transferred call is answered again
        if first_answer:
            call.answered_at = now
        call.agent_id = agent.id
        call.answered_queue = offer.queue
        agent.calls_answered += 1
        self._set_state(agent, AgentState.ON_CALL, now)
        q = self.queues[offer.queue]
        wait = now - call.arrived_at
        if first_answer:  # the caller's wait: a transfer's second answer is not one
            q.ewma_wait_s = wait if q.ewma_wait_s is None else (
                q.ewma_wait_s + EWMA_ALPHA * (wait - q.ewma_wait_s))
        self._emit(cmd.Bridge(call.id, offer.id, agent.id))
        # One recording per answer: Asterisk ends a bridge's recording when its last
        # channel leaves, as the caller does while a transfer re-queues the call.
        call.answers += 1
        if self.flows.recording.records(call.service):
            name = call.id if call.answers == 1 else f"{call.id}-{call.answers}"
            self._emit(cmd.StartRecording(call.id, name, self.flows.recording.format,
                                          agent.id, offer.queue[0], offer.tier))

    def _on_ring_failed(self, e: ev.RingFailed, now: float) -> None:
        if e.offer_id in self.party_offers:
            self._party_ring_failed(e.offer_id, e.reason, now)
            return
        offer = self.offers.get(e.offer_id)
        if offer is not None:
            self._ring_failed(offer, e.reason, now)

    def _on_ring_guard(self, t: Timer) -> None:
        if (call_id := self.party_offers.get(t.subject)) is not None:
            party = self.calls[call_id].party
            if party is not None and not party.connected:
                self._emit(cmd.StopRinging(t.subject, "no_answer"))
                self._party_ring_failed(t.subject, "no_answer", t.at)
            return
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

    def _withdraw_ring(self, agent: Agent, now: float) -> None:
        """The agent paused or logged out while their phone rang: give the call to others."""
        if (agent.offer_id or "") in self.party_offers:
            self._withdraw_party_ring(agent, now)
            return
        offer = self.offers.pop(agent.offer_id or "")
        call = self.calls[offer.call_id]
        call.offers.discard(offer.id)
        self._emit(cmd.StopRinging(offer.id, "logged_out"))
        self._record_offer(offer, "cancelled", now)
        agent.call_id = agent.offer_id = None
        if not call.offers:
            self._make_waiting(call)
            self._offer_call(call, now)

    def _record_offer(self, offer: Offer, result: rec.OfferResult, now: float) -> None:
        self._emit(rec.OfferEnded(offer.id, offer.call_id, offer.agent_id, offer.queue[0],
                                  offer.tier, offer.device, offer.at, now, result))


def _may_ring(agent: Agent, queue: QueueConfig, call: Call) -> bool:
    """May this waiting call ring this agent of this queue now?"""
    return agent.id not in call.missed and (queue.ring_during_welcome
                                            or not call.welcome_playing)
