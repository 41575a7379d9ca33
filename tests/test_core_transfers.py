"""Handing a connected call on: to another centre's queue or to an outside number, blind.
The caller is never lost: a refused transfer leaves the call with the agent, a number that
does not answer brings the call back to the centre that had it."""

from __future__ import annotations

from acd.domain.model import AgentState, CallState
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from acd.vocabulary.tiers import Tier
from tests.support import Harness, build_flows, ended, of

TRANSFERS = {
    "trunk": "trunk-out",
    "ring_timeout_s": 20,
    "destinations": [
        {"code": "113", "label": "Pemadam Kebakaran", "number": "113"},
        {"code": "3200", "label": "Provinsi Jawa Barat", "centre": "jabar"},
        {"code": "9000", "label": "Nasional", "centre": "bnpb"},
    ],
}


def connected(h: Harness, call_id: str = "c1", *agents: str) -> None:
    h.login(*(agents or ("1001",)))
    h.call(call_id)
    h.answer(call_id)


def harness() -> Harness:
    return Harness(build_flows(transfers=TRANSFERS))


def test_a_transfer_to_a_centre_queues_the_call_there_and_frees_the_agent():
    h = harness()
    connected(h, "c1", "1001", "2001")
    arrived = h.acd.calls["c1"].arrived_at
    out = h.send(ev.TransferRequested("c1", "1001", "3200"), after=30)
    assert of(out, cmd.Requeue) == [cmd.Requeue("c1")]
    assert of(out, rec.CallTransferred) == [rec.CallTransferred(
        "c1", "1001", "bdg", "3200", "centre", "jabar", h.now, "queued", h.now)]
    assert of(out, rec.TierHop) == [rec.TierHop("c1", Tier.PROVINCE, "jabar", "transfer",
                                                h.now)]
    assert [r.agent_id for r in of(out, cmd.RingAgent)] == ["2001"]
    assert h.acd.agents["1001"].state is AgentState.AFTER_CALL_WORK
    out = h.answer("c1")
    assert of(out, cmd.Bridge)[0].agent_id == "2001"
    (recording,) = of(out, cmd.StartRecording)
    assert (recording.name, recording.agent_id) == ("c1-2", "2001"), "a second recording"
    (end,) = ended(h.send(ev.CallerHungUp("c1"), after=60))
    assert (end.outcome, end.agent_id, end.answered_tier) == ("answered", "2001",
                                                              Tier.PROVINCE)
    assert end.arrived_at == arrived and end.wait_s == 0, "the first answer counts"


def test_a_transferred_call_is_not_offered_back_to_the_agent_who_handed_it_on():
    h = harness()
    connected(h, "c1", "1001", "1002", "2001")
    h.send(ev.PromptFinished("c1", "welcome"))
    h.send(ev.TransferRequested("c1", "1001", "3200"))
    h.send(ev.WrapUpDone("1001"), after=1)
    assert h.ring_for("c1").agent_id == "2001"
    assert h.acd.agents["1001"].state is AgentState.AVAILABLE


def test_a_transferred_call_escalates_on_from_its_new_tier_not_on_its_old_deadline():
    h = harness()
    h.login("1001", "2001")
    h.send(ev.AgentPaused("2001", "break"))  # logged in at the province, not free
    h.call("c1")
    h.answer("c1")
    out = h.send(ev.TransferRequested("c1", "1001", "3200"), after=5)
    assert of(out, rec.TierHop)[0].tier is Tier.PROVINCE
    assert not of(h.wait(19), rec.TierHop), "the regency deadline of arrival + 20 s is stale"
    hop = of(h.wait(2), rec.TierHop)
    assert [(x.tier, x.reason) for x in hop] == [(Tier.NATIONAL, "timeout")]


def test_a_caller_who_leaves_while_requeued_after_a_transfer_was_answered():
    h = harness()
    connected(h, "c1", "1001", "2001")
    h.send(ev.AgentPaused("2001", "break"))
    h.send(ev.TransferRequested("c1", "1001", "3200"))
    (end,) = ended(h.send(ev.CallerHungUp("c1"), after=10))
    assert end.outcome == "answered"


def test_a_transfer_that_cannot_be_made_leaves_the_call_with_the_agent():
    h = harness()
    connected(h, "c1", "1001")
    for code, why in (("555", "not a transfer destination"),
                      ("3200", "nobody is logged in"), ):
        out = h.send(ev.TransferRequested("c1", "1001", code))
        (refused,) = of(out, cmd.TransferRefused)
        assert why in refused.reason
        assert not of(out, cmd.Requeue)
        assert [t.result for t in of(out, rec.CallTransferred)] == ["refused"]
    assert "no connected call" in h.acd.transfer_refusal("c1", "1002", "9000", h.now)
    assert h.acd.calls["c1"].state is CallState.CONNECTED
    assert h.acd.agents["1001"].state is AgentState.ON_CALL


def test_a_transfer_to_a_number_dials_it_and_connects_the_caller_when_it_answers():
    h = harness()
    connected(h, "c1", "1001")
    out = h.send(ev.TransferRequested("c1", "1001", "113"), after=20)
    requested = h.now
    (dial,) = of(out, cmd.DialOut)
    assert (dial.dial, dial.caller, dial.timeout_s) == ("PJSIP/113@trunk-out",
                                                        "+6281234567890", 20)
    assert of(out, cmd.Requeue) == [cmd.Requeue("c1")]
    assert h.acd.agents["1001"].state is AgentState.AFTER_CALL_WORK
    out = h.send(ev.OutsideAnswered(dial.leg_id), after=4)
    assert of(out, cmd.ConnectOutside) == [cmd.ConnectOutside("c1", dial.leg_id)]
    assert of(out, rec.CallTransferred) == [rec.CallTransferred(
        "c1", "1001", "bdg", "113", "number", "113", requested, "connected", h.now)]
    assert not of(h.wait(120), cmd.HangUp), "a connected outside leg has no ring guard"
    out = h.send(ev.OutsideHungUp("c1"), after=60)
    assert of(out, cmd.HangUp) == [cmd.HangUp("c1", "caller")]
    (end,) = ended(out)
    assert (end.outcome, end.agent_id) == ("answered", "1001")


def test_a_number_that_does_not_answer_brings_the_call_back_to_the_centre():
    h = harness()
    connected(h, "c1", "1001", "1002")
    (dial,) = of(h.send(ev.TransferRequested("c1", "1001", "113")), cmd.DialOut)
    out = h.send(ev.OutsideFailed(dial.leg_id, "busy"), after=3)
    assert of(out, rec.CallTransferred)[0].result == "failed"
    assert of(out, rec.TierHop) == [rec.TierHop("c1", Tier.KABKOTA, "bdg", "transfer_failed",
                                                h.now)]
    assert [r.agent_id for r in of(out, cmd.RingAgent)] == ["1002"]


def test_an_outside_number_whose_outcome_is_never_reported_is_given_up_on():
    h = harness()
    connected(h, "c1", "1001")
    (dial,) = of(h.send(ev.TransferRequested("c1", "1001", "113")), cmd.DialOut)
    out = h.wait(30)
    assert cmd.HangUp("c1", "outside") in out
    assert of(out, rec.TierHop)[0].reason == "transfer_failed"
    assert h.send(ev.OutsideAnswered(dial.leg_id)) == [], "too late: nothing connects"


def test_a_caller_who_hangs_up_while_the_number_rings_ends_the_call_and_that_leg():
    h = harness()
    connected(h, "c1", "1001")
    h.send(ev.TransferRequested("c1", "1001", "113"))
    out = h.send(ev.CallerHungUp("c1"), after=5)
    assert cmd.HangUp("c1", "outside") in out
    assert of(out, rec.CallTransferred)[0].result == "abandoned"
    assert ended(out)[0].outcome == "answered"
    assert not h.acd.calls


def test_an_agent_whose_phone_hangs_up_on_a_refused_transfer_does_not_cut_the_caller_off():
    h = harness()
    connected(h, "c1", "1001", "1002")
    h.send(ev.TransferRequested("c1", "1001", "555"), after=10)
    out = h.send(ev.AgentHungUp("c1"), after=0.5)
    assert of(out, cmd.Requeue) == [cmd.Requeue("c1")] and not ended(out)
    assert of(out, rec.TierHop)[0].reason == "transfer_failed"
    assert h.ring_for("c1").agent_id == "1002"
    assert h.acd.agents["1001"].state is AgentState.AFTER_CALL_WORK


def test_an_agent_who_hangs_up_long_after_a_refused_transfer_ends_the_call():
    h = harness()
    connected(h, "c1", "1001")
    h.send(ev.TransferRequested("c1", "1001", "555"))
    (end,) = ended(h.send(ev.AgentHungUp("c1"), after=30))
    assert end.outcome == "answered"
