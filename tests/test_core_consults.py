"""Consulting or conferencing another centre: one of its free agents is rung (the caller
on hold with music, or still talking in a conference), the two agents talk, then the
first agent completes (the call is the new agent's, at their centre, its history kept)
or cancels (the caller is back); every outcome is one `call_transfers` record."""

from __future__ import annotations

from acd.domain.model import AgentState, CallState
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from acd.vocabulary.tiers import Tier
from tests.support import Harness, ended, of
from tests.test_core_transfers import connected, harness


def consult_province(h: Harness, conference: bool = False) -> cmd.RingAgent:
    out = h.send(ev.ConsultRequested("c1", "1001", "3200", conference), after=10)
    (ring,) = of(out, cmd.RingAgent)
    assert ring.party and ring.call_id == "c1"
    assert (cmd.HoldCaller("c1") in out) is not conference
    assert not of(out, cmd.Requeue), "the caller stays the agent's meanwhile"
    return ring


def test_a_consultation_with_the_province_hands_the_caller_to_its_agent():
    h = harness()
    connected(h, "c1", "1001", "2001")
    call = h.acd.calls["c1"]
    arrived, priority, answered = call.arrived_at, call.priority, call.answered_at
    requested = h.now + 10
    ring = consult_province(h)
    assert ring.agent_id == "2001" and ring.tier is Tier.PROVINCE
    assert h.acd.agents["2001"].state is AgentState.RINGING
    out = h.send(ev.RingAnswered(ring.offer_id), after=4)
    assert of(out, cmd.JoinCall) == [cmd.JoinCall("c1", ring.offer_id)]
    assert not of(out, cmd.Bridge) and not of(out, cmd.StartRecording), "same bridge"
    assert h.acd.agents["2001"].state is AgentState.ON_CALL
    assert h.acd.calls["c1"].agent_id == "1001", "still the first agent's call"

    out = h.send(ev.ConsultEnded("c1", "1001", complete=True), after=30)
    assert cmd.ResumeCaller("c1") in out
    assert of(out, cmd.LeaveCall) == [cmd.LeaveCall("c1", to_offer=ring.offer_id)]
    assert of(out, rec.CallTransferred) == [rec.CallTransferred(
        "c1", "1001", "bdg", "3200", "centre", "jabar", requested, "connected", h.now,
        "attended")]
    assert of(out, rec.TierHop) == [rec.TierHop("c1", Tier.PROVINCE, "jabar", "transfer",
                                                h.now)]
    assert h.acd.agents["1001"].state is AgentState.AFTER_CALL_WORK
    call = h.acd.calls["c1"]
    assert (call.state, call.agent_id, call.centre_id) == (CallState.CONNECTED, "2001", "jabar")
    assert (call.arrived_at, call.priority, call.answered_at) == (arrived, priority, answered)
    (end,) = ended(h.send(ev.AgentHungUp("c1"), after=60))
    assert (end.agent_id, end.centre_id, end.answered_tier) == ("2001", "jabar", Tier.PROVINCE)
    assert (end.hold_s, end.escalations) == (34, 1)
    assert h.acd.agents["2001"].state is not AgentState.ON_CALL


def test_a_cancelled_consultation_frees_the_agent_there_and_gives_the_caller_back():
    h = harness()
    connected(h, "c1", "1001", "2001")
    ring = consult_province(h)
    h.send(ev.RingAnswered(ring.offer_id), after=4)
    out = h.send(ev.ConsultEnded("c1", "1001", complete=False), after=20)
    assert cmd.StopRinging(ring.offer_id, "cancelled") in out and cmd.ResumeCaller("c1") in out
    assert of(out, rec.CallTransferred)[0].result == "cancelled"
    assert h.acd.agents["2001"].state is AgentState.AVAILABLE
    call = h.acd.calls["c1"]
    assert (call.state, call.agent_id, call.party) == (CallState.CONNECTED, "1001", None)
    assert not of(out, rec.TierHop), "the call never left its centre"


def test_an_agent_there_who_does_not_answer_is_followed_by_the_next_then_the_caller_is_back():
    h = harness()
    connected(h, "c1", "1001", "2001", "2002")
    first = consult_province(h)
    out = h.send(ev.RingFailed(first.offer_id, "no_answer"), after=15)
    (second,) = of(out, cmd.RingAgent)
    assert second.party and {first.agent_id, second.agent_id} == {"2001", "2002"}
    assert not of(out, rec.CallTransferred)
    out = h.send(ev.RingFailed(second.offer_id, "busy"), after=15)
    assert not of(out, cmd.RingAgent), "each agent there is rung once"
    assert cmd.ResumeCaller("c1") in out
    assert of(out, rec.CallTransferred)[0].result == "failed"
    assert h.acd.calls["c1"].party is None and not h.acd.party_offers


def test_a_ring_there_that_is_never_reported_is_given_up_by_its_guard():
    h = harness()
    connected(h, "c1", "1001", "2001")
    ring = consult_province(h)
    out = h.wait(60)
    assert cmd.StopRinging(ring.offer_id, "no_answer") in out and cmd.ResumeCaller("c1") in out
    assert h.acd.calls["c1"].party is None


def test_the_agent_there_hanging_up_ends_the_consultation_as_connected():
    h = harness()
    connected(h, "c1", "1001", "2001")
    ring = consult_province(h)
    h.send(ev.RingAnswered(ring.offer_id), after=4)
    out = h.send(ev.PartyAgentHungUp("c1", ring.offer_id, "2001"), after=40)
    assert cmd.ResumeCaller("c1") in out and not ended(out)
    assert of(out, rec.CallTransferred)[0].result == "connected"
    assert h.acd.calls["c1"].agent_id == "1001"
    assert h.acd.agents["2001"].state is AgentState.AVAILABLE


def test_a_hang_up_reported_as_the_party_after_the_hand_over_ends_the_call():
    """Completed, and the new agent hung up before the telephony knew the call was theirs:
    it is the call's agent hanging up."""
    h = harness()
    connected(h, "c1", "1001", "2001")
    ring = consult_province(h)
    h.send(ev.RingAnswered(ring.offer_id), after=4)
    h.send(ev.ConsultEnded("c1", "1001", complete=True), after=10)
    (end,) = ended(h.send(ev.PartyAgentHungUp("c1", ring.offer_id, "2001"), after=1))
    assert end.agent_id == "2001"


def test_a_conference_with_the_province_and_the_first_agent_leaving():
    h = harness()
    connected(h, "c1", "1001", "2001")
    ring = consult_province(h, conference=True)
    h.send(ev.RingAnswered(ring.offer_id), after=4)
    out = h.send(ev.AgentHungUp("c1"), after=60)  # the first agent leaves the three-way call
    assert not ended(out) and not of(out, cmd.ResumeCaller), "the caller was never held"
    assert of(out, rec.CallTransferred)[0].mode == "conference"
    assert h.acd.calls["c1"].agent_id == "2001"
    (end,) = ended(h.send(ev.CallerHungUp("c1"), after=30))
    assert (end.agent_id, end.hold_s) == ("2001", 0)


def test_the_caller_hanging_up_during_a_consultation_ends_the_call_and_frees_everyone():
    h = harness()
    connected(h, "c1", "1001", "2001")
    ring = consult_province(h)
    out = h.send(ev.CallerHungUp("c1"), after=3)  # while the province still rings
    assert cmd.StopRinging(ring.offer_id, "cancelled") in out
    assert of(out, rec.CallTransferred)[0].result == "abandoned"
    assert ended(out)[0].outcome == "answered"
    assert h.acd.agents["2001"].state is AgentState.AVAILABLE
    assert not h.acd.party_offers


def test_the_agent_there_logging_out_while_rung_is_replaced_by_the_next():
    h = harness()
    connected(h, "c1", "1001", "2001", "2002")
    first = consult_province(h)
    out = h.send(ev.AgentLoggedOut(first.agent_id), after=2)
    assert cmd.StopRinging(first.offer_id, "logged_out") in out
    (second,) = of(out, cmd.RingAgent)
    assert second.party and second.agent_id != first.agent_id


def test_a_centre_with_nobody_free_closed_or_the_calls_own_is_refused():
    h = harness()
    connected(h, "c1", "1001", "9001")
    assert "nobody is logged in" in h.acd.party_refusal("c1", "1001", "3200", h.now)
    h.login("2001")
    h.call("c2", region="32")
    h.answer("c2")  # 2001 is busy with a call of their own
    assert "nobody is free" in h.acd.party_refusal("c1", "1001", "3200", h.now)
    out = h.send(ev.ConsultRequested("c1", "1001", "3200"))
    assert of(out, cmd.TransferRefused) and not of(out, cmd.RingAgent)
    assert h.acd.party_refusal("c1", "1001", "9000", h.now) is None
    ring = consult_province_at(h, "9000")
    h.send(ev.RingAnswered(ring.offer_id), after=2)
    h.send(ev.ConsultEnded("c1", "1001", complete=True), after=2)
    assert "already at" in h.acd.party_refusal("c1", "9001", "9000", h.now)


def consult_province_at(h: Harness, code: str) -> cmd.RingAgent:
    (ring,) = of(h.send(ev.ConsultRequested("c1", "1001", code), after=1), cmd.RingAgent)
    return ring
