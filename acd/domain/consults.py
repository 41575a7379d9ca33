"""Consulting or conferencing another centre (its queue, the province's, the national
one): an attended transfer to a centre, or a three-way call with one of its agents.

The call's agent names a `centre` destination; the best free agent of that centre's queue
for the call's service is rung (the queue's own order, skills first), the caller on hold
with music meanwhile (a consultation) or still talking (a conference). An agent there who
does not answer is not rung again for it, and the next free one is; when there is nobody
left to ring, the caller is back with the agent (result `failed`). Once the agent there
answers, the two agents talk (with the caller, in a conference). Then:

* **complete** (or the first agent hangs up): the caller talks with the new agent, whose
  call it now is: the first agent goes to wrap-up, the call's next hop is the new centre
  (reason `transfer`), and its arrival time, priority class and history are kept; the
  bridge and its recording go on;
* **cancel**: the agent there is hung up and goes back to available; the caller is back;
* the agent there hangs up: the same as a cancel, with the result `connected` (they
  talked);
* the caller hangs up: the call ends, the agent there is hung up (`abandoned`).

A centre that is closed, has nobody logged in or nobody free is refused at once: the
agent keeps the caller (a blind transfer to its queue waits for someone instead).
"""

from __future__ import annotations

from acd.domain.model import Agent, AgentParty, AgentState, Call, Hop, Offer
from acd.domain.offers import _RING_RESULT, RING_GUARD_S
from acd.domain.state import CoreState
from acd.domain.timers import TimerKind
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from config.models import TransferTarget
from escalation.policy import is_open


class CentreConsults(CoreState):
    def centre_party_refusal(self, call: Call, target: TransferTarget,
                             now: float) -> str | None:
        """Why this centre cannot be consulted on this call now (None: it can)."""
        assert target.centre is not None
        centre = self._centres[target.centre]
        if target.centre == call.centre_id:
            return f"the call is already at {centre.name}"
        if not is_open(centre, now):
            return f"{centre.name} is closed"
        key = self._queue_key(centre, call.service)
        if self.queues[key].logged_in == 0:
            return f"nobody is logged in at {centre.name}"
        if self._free_agent_there(key, set()) is None:
            return f"nobody is free at {centre.name}: transfer the call to its queue instead"
        return None

    def _free_agent_there(self, key: tuple[str, str], tried: set[str]) -> Agent | None:
        found = self.queues[key].agents_in_order(
            self.agents, lambda a: a.id not in tried and a.device not in self.unreachable, 1)
        return found[0] if found else None

    def _consult_centre(self, call: Call, e: ev.ConsultRequested, target: TransferTarget,
                        now: float) -> None:
        assert target.centre is not None
        key = self._queue_key(self._centres[target.centre], call.service)
        call.party = AgentParty(e.code, target.centre, key, e.agent_id, call.centre_id, now,
                                "conference" if e.conference else "attended")
        if not e.conference:
            self._hold(call, now)
        rung = self._ring_party(call, call.party, now)
        assert rung, "centre_party_refusal found a free agent there"

    def _ring_party(self, call: Call, party: AgentParty, now: float) -> bool:
        """Ring the next free agent there; False when there is nobody left to ring."""
        agent = self._free_agent_there(party.queue, party.tried)
        if agent is None:
            return False
        tier = self.centre_tier[party.queue[0]]
        offer = Offer(self._ids(), call.id, agent.id, party.queue, tier, agent.device or "",
                      now)
        party.offer = offer
        party.tried.add(agent.id)
        self.party_offers[offer.id] = call.id
        self._offer_seq += 1
        agent.last_offer_seq = self._offer_seq
        agent.call_id, agent.offer_id = call.id, offer.id
        self._set_state(agent, AgentState.RINGING, now)
        timeout = self.queues[party.queue].config.ring_timeout_s
        self._emit(cmd.RingAgent(call.id, offer.id, agent.id, offer.device, call.caller,
                                 call.region, call.region_name, tier, timeout, party=True))
        self._timers.set(now + timeout + RING_GUARD_S, TimerKind.RING_GUARD, offer.id)
        return True

    def _ringing_party(self, offer_id: str) -> tuple[Call, AgentParty, Offer] | None:
        call = self.calls.get(self.party_offers.get(offer_id, ""))
        party = call.party if call is not None else None
        if call is None or not isinstance(party, AgentParty) or party.offer is None \
                or party.offer.id != offer_id:
            return None
        return call, party, party.offer

    def _party_ring_answered(self, offer_id: str, now: float) -> None:
        found = self._ringing_party(offer_id)
        if found is None or found[1].connected:
            return  # a second report of the same answer
        call, party, offer = found
        party.connected = True
        self._record_offer(offer, "answered", now)
        self._set_state(self.agents[offer.agent_id], AgentState.ON_CALL, now)
        self._emit(cmd.JoinCall(call.id, offer.id))

    def _party_ring_failed(self, offer_id: str, reason: ev.RingFailure, now: float) -> None:
        found = self._ringing_party(offer_id)
        if found is None or found[1].connected:
            return
        call, party, offer = found
        party.offer = None
        del self.party_offers[offer_id]
        self._record_offer(offer, _RING_RESULT[reason], now)
        agent = self.agents[offer.agent_id]
        queue = self.queues.get(offer.queue)
        if queue is not None and queue.config.pause_on_no_answer:
            agent.call_id = agent.offer_id = None
            self._pause(agent, now, "ring_no_answer" if reason != "failed" else "ring_failed")
        else:
            self._release(agent, now)
        if not self._ring_party(call, party, now):
            self._drop_centre_party(call, party, "failed", now, hang_up=False)

    def _withdraw_party_ring(self, agent: Agent, now: float) -> None:
        """The agent rung for a consultation paused or logged out meanwhile: ring the next
        one there (or give the caller back)."""
        found = self._ringing_party(agent.offer_id or "")
        assert found is not None
        call, party, offer = found
        party.offer = None
        del self.party_offers[offer.id]
        self._emit(cmd.StopRinging(offer.id, "logged_out"))
        self._record_offer(offer, "cancelled", now)
        agent.call_id = agent.offer_id = None
        if not self._ring_party(call, party, now):
            self._drop_centre_party(call, party, "failed", now, hang_up=False)

    def _on_party_agent_hung_up(self, e: ev.PartyAgentHungUp, now: float) -> None:
        call = self.calls.get(e.call_id)
        if call is None:
            return
        party = call.party
        if isinstance(party, AgentParty) and party.offer is not None \
                and party.offer.id == e.offer_id:
            self._drop_centre_party(call, party, "connected" if party.connected else "failed",
                                    now, hang_up=False)
        elif call.agent_id == e.agent_id:
            # Handed to them just before they hung up: they were the call's agent by then.
            self._handle_agent_hung_up(call, now)

    def _drop_centre_party(self, call: Call, party: AgentParty, result: rec.TransferResult,
                           now: float, hang_up: bool) -> None:
        """The agent there leaves the call (cancelled, not reached, hung up, the caller
        gone); they are free again at once (the call was never theirs)."""
        call.party = None
        offer = party.offer
        if offer is not None:
            del self.party_offers[offer.id]
            if hang_up:
                self._emit(cmd.StopRinging(offer.id, "cancelled"))
            if not party.connected:
                self._record_offer(offer, "cancelled", now)
            agent = self.agents[offer.agent_id]
            if agent.call_id == call.id:
                self._release(agent, now)
        if call.hold_started is not None:
            self._resume(call, now)
        self._record_centre_party(call, party, result, now)

    def _hand_to_centre_agent(self, call: Call, party: AgentParty, now: float) -> None:
        """The first agent leaves the caller with the agent there, whose call it now is."""
        offer = party.offer
        assert offer is not None and party.connected
        if call.hold_started is not None:
            self._emit(cmd.ResumeCaller(call.id))
        self._emit(cmd.LeaveCall(call.id, to_offer=offer.id))
        self._settle_hold(call, now)
        self._start_wrap_up(call, now)  # the first agent, with their queue's wrap-up
        call.party = None
        del self.party_offers[offer.id]
        agent = self.agents[offer.agent_id]
        agent.calls_answered += 1
        call.agent_id = agent.id
        call.answered_queue = party.queue
        call.missed.add(party.agent_id)  # if it is queued again, not back to the first agent
        ladder, index = self._escalator.transfer(party.centre_id)
        call.ladder, call.step = ladder, index
        step = ladder[index]
        call.tier_token += 1  # the timers of the tier it came from are stale
        call.hops.append(Hop(step.tier, step.centre.id, now, "transfer"))
        self._emit(rec.TierHop(call.id, step.tier, step.centre.id, "transfer", now))
        self._record_centre_party(call, party, "connected", now)

    def _record_centre_party(self, call: Call, party: AgentParty,
                             result: rec.TransferResult, now: float) -> None:
        self._emit(rec.CallTransferred(call.id, party.agent_id, party.from_centre, party.code,
                                       "centre", party.centre_id, party.requested_at, result,
                                       now, party.mode))
