"""A third party on a connected call, from the console: a consultation (attended
transfer) completed or cancelled, a three-way conference, and the agent's hold and mute."""

from __future__ import annotations

from acd.domain.model import AgentState, CallState
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from tests.support import ended, of
from tests.test_core_transfers import connected, harness


def consult(h, conference: bool = False) -> cmd.DialOut:
    out = h.send(ev.ConsultRequested("c1", "1001", "113", conference), after=10)
    (dial,) = of(out, cmd.DialOut)
    assert (cmd.HoldCaller("c1") in out) is not conference
    return dial


def test_a_consultation_holds_the_caller_then_hands_them_to_the_number():
    h = harness()
    connected(h, "c1", "1001")
    requested = h.now + 10
    dial = consult(h)
    assert h.acd.agents["1001"].state is AgentState.ON_CALL
    out = h.send(ev.OutsideAnswered(dial.leg_id), after=3)
    assert of(out, cmd.ConnectOutside) == [cmd.ConnectOutside("c1", dial.leg_id, False)]
    assert not of(out, rec.CallTransferred), "known at the end"
    out = h.send(ev.ConsultEnded("c1", "1001", complete=True), after=20)
    assert of(out, cmd.ResumeCaller) and of(out, cmd.LeaveCall) == [cmd.LeaveCall("c1")]
    assert of(out, rec.CallTransferred) == [rec.CallTransferred(
        "c1", "1001", "bdg", "113", "number", "113", requested, "connected", h.now,
        "attended")]
    assert h.acd.calls["c1"].state is CallState.OUTSIDE
    assert h.acd.agents["1001"].state is AgentState.AFTER_CALL_WORK
    (end,) = ended(h.send(ev.OutsideHungUp("c1"), after=60))
    assert (end.outcome, end.hold_s) == ("answered", 23)


def test_a_cancelled_consultation_gives_the_agent_the_caller_back():
    h = harness()
    connected(h, "c1", "1001")
    dial = consult(h)
    h.send(ev.OutsideAnswered(dial.leg_id), after=3)
    out = h.send(ev.ConsultEnded("c1", "1001", complete=False), after=5)
    assert cmd.HangUp("c1", "outside") in out and cmd.ResumeCaller("c1") in out
    assert of(out, rec.CallTransferred)[0].result == "cancelled"
    assert h.acd.calls["c1"].state is CallState.CONNECTED
    assert h.acd.calls["c1"].hold_started is None


def test_a_number_that_does_not_answer_a_consultation_gives_the_caller_back():
    h = harness()
    connected(h, "c1", "1001")
    dial = consult(h)
    out = h.send(ev.OutsideFailed(dial.leg_id, "no_answer"), after=20)
    assert cmd.ResumeCaller("c1") in out
    assert of(out, rec.CallTransferred)[0].result == "failed"
    assert h.acd.calls["c1"].party is None


def test_an_agent_who_hangs_up_during_a_connected_consultation_completes_it():
    h = harness()
    connected(h, "c1", "1001")
    dial = consult(h)
    h.send(ev.OutsideAnswered(dial.leg_id), after=3)
    out = h.send(ev.AgentHungUp("c1"), after=5)
    assert not ended(out) and of(out, rec.CallTransferred)[0].result == "connected"
    assert h.acd.calls["c1"].state is CallState.OUTSIDE


def test_an_agent_who_hangs_up_while_the_number_still_rings_leaves_the_caller_queued():
    h = harness()
    connected(h, "c1", "1001", "1002")
    consult(h)
    out = h.send(ev.AgentHungUp("c1"), after=3)
    assert not ended(out) and cmd.HangUp("c1", "outside") in out
    assert of(out, rec.TierHop)[0].reason == "transfer_failed"
    assert h.ring_for("c1").agent_id == "1002"


def test_a_conference_joins_the_number_and_any_party_may_leave():
    h = harness()
    connected(h, "c1", "1001")
    dial = consult(h, conference=True)
    h.send(ev.OutsideAnswered(dial.leg_id), after=2)
    out = h.send(ev.OutsideHungUp("c1"), after=30)  # the dispatcher leaves
    assert of(out, rec.CallTransferred)[0].mode == "conference"
    assert h.acd.calls["c1"].state is CallState.CONNECTED and not ended(out)
    dial = consult(h, conference=True)
    h.send(ev.OutsideAnswered(dial.leg_id), after=2)
    h.send(ev.AgentHungUp("c1"), after=10)  # the agent leaves: caller and number go on
    assert h.acd.calls["c1"].state is CallState.OUTSIDE
    (end,) = ended(h.send(ev.CallerHungUp("c1"), after=10))
    assert end.outcome == "answered"


def test_a_caller_who_hangs_up_during_a_consultation_ends_every_leg():
    h = harness()
    connected(h, "c1", "1001")
    dial = consult(h)
    h.send(ev.OutsideAnswered(dial.leg_id), after=3)
    out = h.send(ev.CallerHungUp("c1"), after=3)
    assert cmd.HangUp("c1", "outside") in out and cmd.HangUp("c1", "agent") in out
    assert of(out, rec.CallTransferred)[0].result == "abandoned"
    assert ended(out)[0].outcome == "answered"


def test_one_third_party_at_a_time_may_join_a_call():
    h = harness()
    connected(h, "c1", "1001")
    consult(h)
    assert "already in progress" in h.acd.party_refusal("c1", "1001", "113", h.now)
    out = h.send(ev.ConsultRequested("c1", "1001", "113"))
    assert of(out, cmd.TransferRefused) and not of(out, cmd.DialOut)


def test_hold_and_mute_from_the_console():
    h = harness()
    connected(h, "c1", "1001")
    out = h.send(ev.HoldRequested("c1", "1001", True), after=5)
    assert of(out, cmd.HoldCaller) == [cmd.HoldCaller("c1")]
    assert [r.state for r in of(out, rec.AgentStateChanged)] == ["on_hold"]
    assert h.send(ev.HoldRequested("c1", "1001", True)) == [], "already on hold"
    out = h.send(ev.HoldRequested("c1", "1001", False), after=12)
    assert of(out, cmd.ResumeCaller) == [cmd.ResumeCaller("c1")]
    assert of(h.send(ev.MuteRequested("c1", "1001", True)), cmd.MuteAgent) == [
        cmd.MuteAgent("c1", True)]
    assert h.send(ev.MuteRequested("c1", "1002", True)) == [], "not their call"
    (end,) = ended(h.send(ev.CallerHungUp("c1"), after=30))
    assert end.hold_s == 12


def test_a_blind_transfer_during_a_consultation_is_refused_and_the_consult_goes_on():
    h = harness()
    connected(h, "c1", "1001")
    consult(h)
    out = h.send(ev.TransferRequested("c1", "1001", "113"), after=2)
    assert of(out, cmd.TransferRefused) and not of(out, cmd.DialOut)
    call = h.acd.calls["c1"]
    assert call.state is CallState.CONNECTED and call.party is not None


def test_the_time_the_agent_was_muted_is_in_the_cdr():
    h = harness()
    connected(h, "c1", "1001")
    h.send(ev.MuteRequested("c1", "1001", True), after=10)
    h.send(ev.MuteRequested("c1", "1001", True), after=2)  # asked twice: still one stretch
    h.send(ev.MuteRequested("c1", "1001", False), after=8)
    h.send(ev.MuteRequested("c1", "1001", True), after=20)
    (end,) = ended(h.send(ev.CallerHungUp("c1"), after=5))
    assert end.mute_s == 15


def test_a_consultation_from_a_call_the_phone_held_counts_the_hold_from_the_phones_hold():
    # The phone's attended transfer: the phone holds the call, then its second call asks
    # for the consultation; the phone holding and resuming its calls meanwhile (as it does
    # when the agent swaps between them) changes nothing: the consultation holds the caller.
    h = harness()
    connected(h, "c1", "1001")
    h.send(ev.HoldStarted("c1"), after=10)
    held_at = h.now
    dial = consult(h)
    assert h.acd.calls["c1"].hold_started == held_at
    h.send(ev.OutsideAnswered(dial.leg_id), after=3)
    assert h.send(ev.HoldEnded("c1"), after=1) == [] and h.send(ev.HoldStarted("c1")) == []
    h.send(ev.ConsultEnded("c1", "1001", complete=True), after=6)
    (end,) = ended(h.send(ev.OutsideHungUp("c1"), after=60))
    assert end.hold_s == 20


def test_completing_a_consultation_that_has_ended_is_refused():
    # e.g. the phone's Transfer button just after the number hung up: the phone is told.
    h = harness()
    connected(h, "c1", "1001")
    out = h.send(ev.ConsultEnded("c1", "1001", complete=True), after=5)
    assert of(out, cmd.TransferRefused) == [
        cmd.TransferRefused("c1", "1001", "no consultation to complete")]
    assert h.acd.calls["c1"].state is CallState.CONNECTED
