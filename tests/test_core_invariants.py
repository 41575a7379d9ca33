"""The core's invariants, checked over random sequences of events and time.

After every step: an agent never has two calls; every call is in exactly one consistent
state; a waiting call is never past its escalation deadline; only hang-ups end calls; no
free agent sits beside a call it could take; rings go to the best waiting call (higher
priority first, first come, first served within a class).
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis.stateful import initialize, invariant

from acd.domain.model import AgentParty, AgentState, CallState, OutsideTransfer
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from tests.core_world import AGENTS, CALLERS, CoreWorld
from tests.support import from_region, of


class CoreMachine(CoreWorld):
    """The world, checked after every step."""

    # --- what must always hold ------------------------------------------------------

    @invariant()
    def the_outside_legs_index_names_exactly_the_legs_of_live_calls(self) -> None:
        acd = self.h.acd
        legs = {leg.leg_id: c.id for c in acd.calls.values()
                for leg in (c.outside, c.party) if isinstance(leg, OutsideTransfer)}
        assert acd.outside_legs == legs

    @invariant()
    def a_centre_consulted_rings_or_talks_with_exactly_one_of_its_agents(self) -> None:
        acd = self.h.acd
        rings = {}
        for call in acd.calls.values():
            party = call.party
            if not isinstance(party, AgentParty):
                continue
            assert party.offer is not None, "nobody left to ring gives the caller back"
            rings[party.offer.id] = call.id
            there = acd.agents[party.offer.agent_id]
            assert there.centre_id == party.centre_id != call.centre_id
            assert there.call_id == call.id and there.offer_id == party.offer.id
            assert there.state is (AgentState.ON_CALL if party.connected
                                   else AgentState.RINGING), (there.id, there.state)
        assert acd.party_offers == rings

    @invariant()
    def an_agent_never_has_two_calls(self) -> None:
        acd = self.h.acd
        load: dict[str, int] = {}
        for offer in acd.offers.values():
            load[offer.agent_id] = load.get(offer.agent_id, 0) + 1
        for call in acd.calls.values():
            if call.state is CallState.CONNECTED:
                load[call.agent_id or ""] = load.get(call.agent_id or "", 0) + 1
            if isinstance(call.party, AgentParty) and call.party.offer is not None:
                there = call.party.offer.agent_id  # rung or talking as a third party
                load[there] = load.get(there, 0) + 1
        assert all(n <= 1 for n in load.values()), load
        for agent_ in acd.agents.values():
            busy = agent_.state in (AgentState.RINGING, AgentState.ON_CALL)
            assert busy == (load.get(agent_.id, 0) == 1), (agent_.id, agent_.state)

    @invariant()
    def every_call_is_in_one_consistent_state(self) -> None:
        acd = self.h.acd
        for call in acd.calls.values():
            assert call.id not in self.ended
            waiting_in = [k for k in acd.queues if call.id in acd.queues[k].waiting_ids]
            if call.state is CallState.ANNOUNCING:
                assert not call.queues and not call.offers
            elif call.state is CallState.QUEUED:
                assert not call.offers and sorted(waiting_in) == sorted(call.queues)
            elif call.state is CallState.OFFERED:
                assert call.offers and not waiting_in
                assert all(acd.offers[o].call_id == call.id for o in call.offers)
            elif call.state is CallState.OUTSIDE:
                assert call.outside is not None and not call.offers and not waiting_in
                assert call.party is None
            else:
                assert call.state is CallState.CONNECTED
                assert not call.offers and not waiting_in
                assert acd.agents[call.agent_id or ""].call_id == call.id
            if call.state is not CallState.CONNECTED:
                assert call.party is None, "a third party only joins a connected call"
        for offer in acd.offers.values():
            assert acd.calls[offer.call_id].state is CallState.OFFERED
            if acd.calls[offer.call_id].welcome_playing:  # rung while the welcome plays
                assert acd.queues[offer.queue].config.ring_during_welcome, offer

    @invariant()
    def one_agent_per_phone_and_no_login_logs_anyone_out(self) -> None:
        acd = self.h.acd
        seated = [a.device for a in acd.agents.values() if a.state is not AgentState.LOGGED_OUT]
        assert len(seated) == len(set(seated)), seated
        assert all(d is not None and "\n" not in d for d in seated), seated
        for a in acd.agents.values():
            if a.state is not AgentState.LOGGED_OUT:
                assert acd.agent_at(a.device or "") == a.id, (a.id, a.device)
        assert not [r for r in of(self.h.log, rec.AgentStateChanged)
                    if r.reason == "device_taken"]

    @invariant()
    def a_waiting_call_is_never_past_its_deadline(self) -> None:
        for call in self.h.acd.calls.values():
            if call.state in (CallState.QUEUED, CallState.OFFERED) and call.deadline is not None:
                assert call.deadline > self.h.now

    @invariant()
    def only_a_hang_up_ends_a_call(self) -> None:
        started = {r.call_id for r in self.h.log if isinstance(r, rec.CallStarted)}
        assert started - self.hung_up <= set(self.h.acd.calls)

    @invariant()
    def no_free_agent_sits_beside_a_call_they_could_take(self) -> None:
        acd = self.h.acd
        for agent_ in acd.agents.values():
            if agent_.state is not AgentState.AVAILABLE or agent_.device in acd.unreachable:
                continue
            for key in agent_.queues:
                q = acd.queues[key]
                for call_id in q.waiting_ids:
                    call = acd.calls[call_id]
                    if call.welcome_playing and not q.config.ring_during_welcome:
                        continue  # this queue rings once the welcome has been heard
                    assert agent_.id in call.missed, (agent_.id, call_id)


class MoveAndNoUnstaffedSkip(CoreMachine):
    variant = "move"


class RingAll(CoreMachine):
    variant = "ring_all"


class CallsConnectedFirst(CoreMachine):
    """Every agent logged in and a call connected at each regency first, so that the
    random steps often hand calls on, consult and conference between centres."""

    @initialize()
    def everyone_logs_in_and_two_calls_connect(self) -> None:
        for agent_id in AGENTS:
            self._send(ev.AgentLoggedIn(agent_id, f"PJSIP/{agent_id}"))
        for n, region in enumerate(("32.73", "72.71"), start=1):
            self._send(ev.CallArrived(f"first{n}", CALLERS[0], from_region(region)))
            call = self.h.acd.calls[f"first{n}"]
            self._send(ev.PromptFinished(call.id, call.prompt or ""))
            for offer_id in sorted(o for o, c in self.live_offers.items() if c == call.id):
                self._send(ev.RingAnswered(offer_id))
            assert self.h.acd.calls[call.id].state is CallState.CONNECTED


SETTINGS = settings(max_examples=250, stateful_step_count=80, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
TestWidenLongestIdle = CoreMachine.TestCase
TestWidenLongestIdle.settings = SETTINGS
TestMoveWithoutUnstaffedSkip = MoveAndNoUnstaffedSkip.TestCase
TestMoveWithoutUnstaffedSkip.settings = SETTINGS
TestRingAll = RingAll.TestCase
TestRingAll.settings = SETTINGS
TestCallsConnectedFirst = CallsConnectedFirst.TestCase
TestCallsConnectedFirst.settings = SETTINGS
