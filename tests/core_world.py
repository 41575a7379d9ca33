"""The world the core's invariants are checked in (tests/test_core_invariants.py): call
flows with four centres on three tiers, and every step a day can bring — calls, answers,
rings out, hang-ups, transfers, consultations, logins, pauses, phones lost, reloads, time,
and acd117 restarting and adopting its calls — with what the checks need to remember. The
checks made on each output as it comes out (rings in order, only a hang-up ends a call,
no wrap-up ends unclassified where the flows require it) are made here."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

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


class CoreWorld(RuleBasedStateMachine):
    """What can happen to the core, step by step, with the bookkeeping the invariants read."""

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
