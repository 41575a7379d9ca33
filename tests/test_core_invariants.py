"""The core's invariants, checked over random sequences of events and time.

After every step: an agent never has two calls; every call is in exactly one consistent
state; a waiting call is never past its escalation deadline; only hang-ups end calls; no
free agent sits beside a call it could take; rings go to the best waiting call (higher
priority first, first come, first served within a class).
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from acd.domain.core import Output
from acd.domain.model import AgentParty, AgentState, CallState, OutsideTransfer
from acd.store.logins import LoginBook
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from tests.support import Harness, agent, build_flows, centre, from_region, of, queue

AGENTS = ["1001", "1002", "1003", "2001", "2002", "7001", "9001", "9002"]
REGIONS = ["32.73", "32.04", "32", "72.71", "72", "ID"]
CALLERS = ["+6281234567890", "+6281311170117", "+62222034567", "+6285700000117", "anonymous"]


def flows(variant: str):
    ring_all = [queue(strategy="ring_all", wrap_up_s=5)]
    return build_flows(
        centres=[centre("bdg", "32.73", queues=ring_all if variant == "ring_all" else
                        [queue(pause_on_no_answer=variant != "ring_all")]),
                 centre("jabar", "32", queues=[queue(strategy="fewest_calls")]),
                 centre("palu", "72.71", queues=[queue(strategy="round_robin", wrap_up_s=0,
                                                        ring_during_welcome=False)]),
                 centre("bnpb", "ID")],
        agents=[agent("1001", "bdg", 3), agent("1002", "bdg", 7), agent("1003", "bdg", 7),
                agent("2001", "jabar"), agent("2002", "jabar"), agent("7001", "palu"),
                agent("9001", "bnpb"), agent("9002", "bnpb", 9)],
        escalation={"kabkota": {"after_s": 20, "mode": "move" if variant == "move" else "widen"},
                    "province": {"after_s": 25, "immediate_when_unstaffed": variant != "move"}},
        callers={"classes": [{"name": "listed", "numbers": ["+6281311170117"]},
                             {"name": "repeat", "repeat": True},
                             {"name": "mobile", "line_type": "mobile"}],
                 "nuisance": [{"number": "+6285700000117", "until": "2099-01-01",
                               "reason": "test"}]},
        transfers={"trunk": "trunk-out", "destinations": [
            {"code": "113", "label": "fire brigade", "number": "113"},
            {"code": "3200", "label": "province", "centre": "jabar"},
            {"code": "9000", "label": "national", "centre": "bnpb"}]},
        # One variant holds every wrap-up until the call is classified.
        wrapup={"required": variant == "widen", "classes": [
            {"code": "emergency", "label": "Laporan darurat", "report": True},
            {"code": "prank", "label": "Panggilan iseng", "review": True}]})


class CoreMachine(RuleBasedStateMachine):
    variant = "widen"

    def __init__(self) -> None:
        super().__init__()
        self.h = Harness(flows(self.variant))
        self.n = 0
        self.hung_up: set[str] = set()  # calls a hang-up was reported for
        self.ended: set[str] = set()
        self.live_offers: dict[str, str] = {}  # offer -> call, as the phones see them
        self.restarts = 0
        self.classified: set[str] = set()  # calls a classification was recorded for
        # each call's state, queues and whether its welcome played, before the step checked
        self.before: dict[str, tuple[str, tuple[tuple[str, str], ...], bool]] = {}

    # --- what happens ---------------------------------------------------------------

    def _snapshot(self) -> None:
        self.before = {c.id: (c.state.value, tuple(c.queues), c.welcome_playing)
                       for c in self.h.acd.calls.values()}

    def _send(self, event: ev.Event, after: float = 0.0) -> None:
        self._snapshot()
        self._observe(self.h.send(event, after))

    def _observe(self, out: list[Output]) -> None:
        for o in out:
            if isinstance(o, cmd.RingAgent):
                self.live_offers[o.offer_id] = o.call_id
                self._check_ring_order(o)
            elif isinstance(o, cmd.StopRinging):
                self.live_offers.pop(o.offer_id, None)
            elif isinstance(o, rec.CallEnded):
                assert o.call_id in self.hung_up, "the core ended a call nobody hung up"
                self.ended.add(o.call_id)
            elif isinstance(o, cmd.HangUp) and o.leg != "outside":  # an unanswered number
                assert o.call_id in self.hung_up, "the core hung up a call on its own"
            elif isinstance(o, rec.Classification):
                self.classified.add(o.call_id)
            elif isinstance(o, rec.WrapUpEnded) and self.h.acd.flows.wrapup.required:
                agent_ = self.h.acd.agents.get(o.agent_id)
                leaving = agent_ is None or agent_.state is AgentState.LOGGED_OUT
                assert o.call_id in self.classified or leaving or not o.call_id, (
                    f"{o.agent_id} left the wrap-up of {o.call_id} unclassified")

    def _check_ring_order(self, ring: cmd.RingAgent) -> None:
        """No call the agent could have taken, waiting in the agent's queues before this
        step and still waiting after it, is ahead of the one rung. (Ring-all rings agents
        for a call, so its order is the calls' order in the queue, checked the same way.)"""
        acd = self.h.acd
        agent_ = acd.agents[ring.agent_id]
        rung = acd.calls.get(ring.call_id)
        if rung is None:
            return
        for call in acd.calls.values():
            state, queues, welcome = self.before.get(call.id, ("", (), False))
            # A welcome that ended in the same instant (two guards due together) did not
            # make the call eligible before the step.
            shared = [q for q in queues if q in agent_.queues and not (
                (welcome or call.welcome_playing)
                and not acd.queues[q].config.ring_during_welcome)]
            if (call.state is CallState.QUEUED and state == "queued"
                    and agent_.id not in call.missed and shared):
                assert (call.priority, call.seq) >= (rung.priority, rung.seq), (
                    f"{call.id} waited ahead of {ring.call_id}")

    @rule(region=st.sampled_from(REGIONS), caller=st.sampled_from(CALLERS),
          after=st.floats(0, 5))
    def call_arrives(self, region: str, caller: str, after: float) -> None:
        self.n += 1
        self._send(ev.CallArrived(f"c{self.n}", caller, from_region(region)), after)

    @rule(data=st.data())
    def welcome_ends(self, data: st.DataObject) -> None:
        announcing = [c for c in self.h.acd.calls.values()
                      if c.state is CallState.ANNOUNCING or c.welcome_playing]
        if announcing:
            call = data.draw(st.sampled_from(announcing))
            self._send(ev.PromptFinished(call.id, call.prompt or ""))

    @rule(data=st.data(), after=st.floats(0, 10))
    def caller_hangs_up(self, data: st.DataObject, after: float) -> None:
        if self.h.acd.calls:
            call_id = data.draw(st.sampled_from(sorted(self.h.acd.calls)))
            self.hung_up.add(call_id)
            self._send(ev.CallerHungUp(call_id), after)

    @rule(data=st.data(), after=st.floats(0, 10))
    def agent_hangs_up(self, data: st.DataObject, after: float) -> None:
        connected = sorted(c.id for c in self.h.acd.calls.values()
                           if c.state is CallState.CONNECTED)
        if connected:
            call_id = data.draw(st.sampled_from(connected))
            self.hung_up.add(call_id)
            self._send(ev.AgentHungUp(call_id), after)

    @rule(data=st.data(), code=st.sampled_from(["113", "3200", "9000", "555"]),
          after=st.floats(0, 10))
    def agent_transfers(self, data: st.DataObject, code: str, after: float) -> None:
        connected = sorted(c.id for c in self.h.acd.calls.values()
                           if c.state is CallState.CONNECTED)
        if connected:
            call = self.h.acd.calls[data.draw(st.sampled_from(connected))]
            self._send(ev.TransferRequested(call.id, call.agent_id or "", code), after)

    @rule(data=st.data(), answer=st.booleans(), after=st.floats(0, 10))
    def the_number_answers_or_not(self, data: st.DataObject, answer: bool,
                                  after: float) -> None:
        ringing = sorted(leg.leg_id for c in self.h.acd.calls.values()
                         for leg in (c.outside, c.party)
                         if isinstance(leg, OutsideTransfer) and not leg.connected)
        if ringing:
            leg = data.draw(st.sampled_from(ringing))
            self._send(ev.OutsideAnswered(leg) if answer else ev.OutsideFailed(leg, "busy"),
                       after)

    @rule(data=st.data(), after=st.floats(0, 10))
    def the_number_hangs_up(self, data: st.DataObject, after: float) -> None:
        talking = sorted(c.id for c in self.h.acd.calls.values()
                         if any(isinstance(leg, OutsideTransfer) and leg.connected
                                for leg in (c.outside, c.party)))
        if talking:
            call_id = data.draw(st.sampled_from(talking))
            if self.h.acd.calls[call_id].party is None:  # a third party leaving ends nothing
                self.hung_up.add(call_id)
            self._send(ev.OutsideHungUp(call_id), after)

    @rule(data=st.data(), conference=st.booleans(), code=st.sampled_from(["113", "3200", "9000"]),
          after=st.floats(0, 10))
    def agent_consults_or_conferences(self, data: st.DataObject, conference: bool, code: str,
                                      after: float) -> None:
        """A number, or a centre (one of its agents is rung as a third party)."""
        connected = sorted(c.id for c in self.h.acd.calls.values()
                           if c.state is CallState.CONNECTED)
        if connected:
            call = self.h.acd.calls[data.draw(st.sampled_from(connected))]
            self._send(ev.ConsultRequested(call.id, call.agent_id or "", code, conference),
                       after)

    @rule(data=st.data(), answer=st.booleans(), after=st.floats(0, 10))
    def the_agent_consulted_answers_or_not(self, data: st.DataObject, answer: bool,
                                           after: float) -> None:
        ringing = sorted(c.party.offer.id for c in self.h.acd.calls.values()
                         if isinstance(c.party, AgentParty) and not c.party.connected
                         and c.party.offer is not None)
        if ringing:
            offer_id = data.draw(st.sampled_from(ringing))
            if not answer:
                self.live_offers.pop(offer_id, None)
            self._send(ev.RingAnswered(offer_id) if answer
                       else ev.RingFailed(offer_id, "no_answer"), after)

    @rule(data=st.data(), after=st.floats(0, 10))
    def the_agent_consulted_hangs_up(self, data: st.DataObject, after: float) -> None:
        talking = sorted((c.id, c.party.offer.id, c.party.offer.agent_id)
                         for c in self.h.acd.calls.values()
                         if isinstance(c.party, AgentParty) and c.party.connected
                         and c.party.offer is not None)
        if talking:
            call_id, offer_id, agent_id = data.draw(st.sampled_from(talking))
            self._send(ev.PartyAgentHungUp(call_id, offer_id, agent_id), after)

    @rule(data=st.data(), complete=st.booleans(), after=st.floats(0, 10))
    def agent_completes_or_cancels(self, data: st.DataObject, complete: bool,
                                   after: float) -> None:
        consulting = sorted(c.id for c in self.h.acd.calls.values() if c.party is not None)
        if consulting:
            call = self.h.acd.calls[data.draw(st.sampled_from(consulting))]
            self._send(ev.ConsultEnded(call.id, call.agent_id or "", complete), after)

    @rule(data=st.data(), on=st.booleans())
    def agent_holds_from_the_console(self, data: st.DataObject, on: bool) -> None:
        connected = sorted(c.id for c in self.h.acd.calls.values()
                           if c.state is CallState.CONNECTED)
        if connected:
            call = self.h.acd.calls[data.draw(st.sampled_from(connected))]
            self._send(ev.HoldRequested(call.id, call.agent_id or "", on))

    @precondition(lambda self: self.live_offers)
    @rule(data=st.data(), answer=st.booleans(),
          failure=st.sampled_from(["no_answer", "busy", "failed"]))
    def phone_rings_out_or_is_answered(self, data: st.DataObject, answer: bool,
                                       failure: str) -> None:
        offer_id = data.draw(st.sampled_from(sorted(self.live_offers)))
        if not answer:
            self.live_offers.pop(offer_id)
        self._send(ev.RingAnswered(offer_id) if answer else ev.RingFailed(offer_id, failure))  # type: ignore[arg-type]

    @rule(agent_id=st.sampled_from(AGENTS),
          device=st.sampled_from(["own", "PJSIP/shared", "PJSIP/1001", "PJSIP/x\nDial"]))
    def agent_logs_in(self, agent_id: str, device: str) -> None:
        """At their own phone, a phone several try, another agent's phone, or junk: an
        occupied phone or a string that is no endpoint is refused, never taken over."""
        self._send(ev.AgentLoggedIn(agent_id, f"PJSIP/{agent_id}" if device == "own" else device))

    @rule(agent_id=st.sampled_from(AGENTS))
    def agent_logs_out(self, agent_id: str) -> None:
        self._send(ev.AgentLoggedOut(agent_id))

    @rule(agent_id=st.sampled_from(AGENTS), pause=st.booleans())
    def agent_pauses_or_resumes(self, agent_id: str, pause: bool) -> None:
        self._send(ev.AgentPaused(agent_id, "break") if pause else ev.AgentUnpaused(agent_id))

    @rule(agent_id=st.sampled_from(AGENTS))
    def agent_ends_wrap_up(self, agent_id: str) -> None:
        self._send(ev.WrapUpDone(agent_id))

    @rule(agent_id=st.sampled_from(AGENTS), ready=st.booleans(), after=st.floats(0, 10))
    def agent_classifies_the_call(self, agent_id: str, ready: bool, after: float) -> None:
        agent_ = self.h.acd.agents.get(agent_id)  # a reload may have dropped the agent
        call_id = agent_.call_id if agent_ is not None else None
        if call_id is not None:
            self._send(ev.CallClassified(agent_id, call_id, "prank", ready=ready), after)

    @rule(agent_id=st.sampled_from(AGENTS), reachable=st.booleans())
    def phone_comes_and_goes(self, agent_id: str, reachable: bool) -> None:
        self._send(ev.DeviceStateChanged(f"PJSIP/{agent_id}", reachable))

    @rule(data=st.data())
    def hold_and_resume(self, data: st.DataObject) -> None:
        connected = sorted(c.id for c in self.h.acd.calls.values()
                           if c.state is CallState.CONNECTED)
        if connected:
            call_id = data.draw(st.sampled_from(connected))
            self._send(ev.HoldStarted(call_id))
            self._send(ev.HoldEnded(call_id), after=data.draw(st.floats(0, 30)))

    @rule(seconds=st.floats(0.1, 90))
    def time_passes(self, seconds: float) -> None:
        h = self.h
        end = h.now + seconds
        # One instant at a time, so each ring is checked against the state just before it.
        while (due := h.acd.next_due()) is not None and due <= end:
            self._snapshot()
            h.now = max(h.now, due)
            out = h.acd.advance(h.now)
            h.log += out
            self._observe(out)
        h.now = end

    @rule()
    def acd117_restarts_and_adopts_its_calls(self) -> None:
        """A new core, fed what the daemon reads back: the logins, folded from every agent
        state recorded so far (as the store does), then what the adapter finds in Asterisk:
        each call's channel variables (rings in flight are hung up)."""
        old = self.h.acd
        self.restarts += 1
        # The restarted daemon reads the call flows in force (a reload may have changed them).
        new = Harness(old.flows, start=self.h.now, offer_prefix=f"r{self.restarts}o")
        new.log = self.h.log
        self.h = new
        self.live_offers.clear()  # the adapter hangs up the agent legs that were ringing
        book = LoginBook()
        for r in of(new.log, rec.AgentStateChanged):
            book.apply(r)
        for login in book.logins:
            self._send(ev.AgentLoginRestored(login.agent_id, login.device, login.pause_reason))
        for a in old.agents.values():
            if a.state is AgentState.LOGGED_OUT:
                continue
            back = new.acd.agents[a.id]
            assert back.device == a.device, f"agent {a.id} restored at another device"
            assert back.pause_reason == (a.pause_reason if a.state is AgentState.PAUSED
                                         else None), f"agent {a.id} restored paused wrongly"
        for c in sorted(old.calls.values(), key=lambda c: c.seq):
            agent_ = old.agents.get(c.agent_id or "")
            connected = c.state is CallState.CONNECTED
            # A number that answered is in the bridge too; one still ringing is hung up and
            # its caller waits again, as one whose agent is gone (ari.resync).
            outside = (c.state is CallState.OUTSIDE and c.outside is not None
                       and c.outside.connected)
            self._send(ev.CallAdopted(
                c.id, c.caller, from_region(c.region), c.arrived_at,
                tier=c.ladder[c.step].tier if c.step >= 0 else None,
                tier_since=c.hops[-1].at if c.hops else None,
                # Only a connected call has its agent's leg (and phone) in its bridge to
                # find; one handed to a number keeps who had it on the caller's channel.
                agent_id=c.agent_id if connected or outside else None,
                device=agent_.device if agent_ and connected else None,
                answered_at=c.answered_at if connected or outside else None,
                outside_leg=c.outside.leg_id if outside and c.outside else None))

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
