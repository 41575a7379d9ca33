"""Behaviour of the routing core, one scenario per test: a call's arrival and welcome, the
ring, the answer and the end, and the core driven late or twice."""

from __future__ import annotations

from acd.domain.model import AgentState, CallState
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from acd.vocabulary.tiers import Tier
from tests.support import PROMPTS, Harness, agent, build_flows, centre, ended, of, queue


def test_a_call_rings_an_agent_of_its_regency_while_the_welcome_plays():
    h = Harness()
    h.login("1001", "2001")
    out = h.send(ev.CallArrived("c1", "+6281234567890", ev.Ingress(
        trunk="trunk-telkomsel", headers=(("X-Cell-Region", "32.73"),))))
    assert of(out, cmd.Answer) == [cmd.Answer("c1")]
    assert [p.prompt for p in of(out, cmd.PlayPrompt)] == ["welcome"]
    started = of(out, rec.CallStarted)[0]
    assert (started.region_code, started.caller_e164, started.line_type) == (
        "32.73", "+6281234567890", "mobile")
    ring = of(out, cmd.RingAgent)[0]
    assert (ring.agent_id, ring.device, ring.tier) == ("1001", "PJSIP/1001", Tier.KABKOTA)
    assert ring.region_name == "Kota Bandung"
    assert of(out, rec.TierHop) == [rec.TierHop("c1", Tier.KABKOTA, "bdg", "arrival", h.now)]
    assert not of(h.send(ev.PromptFinished("c1", "welcome"), after=6), cmd.RingAgent), (
        "the end of the welcome rings nobody else")


def test_an_answer_during_the_welcome_bridges_the_caller_at_once():
    h = Harness()
    h.login("1001")
    h.call("c1", welcome_done=False)
    out = h.answer("c1")
    assert of(out, cmd.Bridge)[0].agent_id == "1001"
    assert h.acd.calls["c1"].state is CallState.CONNECTED
    assert h.send(ev.PromptFinished("c1", "welcome"), after=3) == [], (
        "the welcome's end (it was stopped by the bridge) changes nothing")


def test_a_queue_that_waits_for_the_welcome_rings_nobody_before_it_is_heard():
    h = Harness(build_flows(centres=[centre("bdg", "32.73",
                                            queues=[queue(ring_during_welcome=False)]),
                                     centre("jabar", "32"), centre("bnpb", "ID")]))
    h.login("1001", "2001")
    out = h.call("c1", welcome_done=False)
    assert not of(out, cmd.RingAgent), "nobody rings before the welcome has been heard"
    assert of(out, rec.TierHop) == [rec.TierHop("c1", Tier.KABKOTA, "bdg", "arrival", h.now)]
    out = h.send(ev.PromptFinished("c1", "welcome"), after=6)
    assert [r.agent_id for r in of(out, cmd.RingAgent)] == ["1001"]


def test_an_agent_freed_during_the_welcome_waits_for_it_where_the_queue_says_so():
    h = Harness(build_flows(centres=[centre("bdg", "32.73",
                                            queues=[queue(ring_during_welcome=False)]),
                                     centre("jabar", "32"), centre("bnpb", "ID")]))
    h.send(ev.AgentLoggedIn("1001", "PJSIP/1001"))
    h.send(ev.AgentPaused("1001", "break"))
    h.call("c1", welcome_done=False)
    assert not of(h.send(ev.AgentUnpaused("1001"), after=2), cmd.RingAgent)
    assert of(h.send(ev.PromptFinished("c1", "welcome"), after=4), cmd.RingAgent)


def test_a_welcome_to_be_heard_in_full_rings_nobody_before_it_ends():
    prompts = {**PROMPTS, "welcome": {**PROMPTS["welcome"], "heard_in_full": True}}
    flows = build_flows()
    h = Harness(build_flows(announcements={
        **flows.announcements.model_dump(mode="json"), "prompts": prompts}))
    h.login("1001")
    out = h.call("c1", welcome_done=False)
    assert not of(out, cmd.RingAgent) and not of(out, rec.TierHop), "not queued yet"
    out = h.send(ev.PromptFinished("c1", "welcome"), after=8)
    assert of(out, cmd.RingAgent)[0].agent_id == "1001"


def test_answer_bridges_records_and_hang_up_ends_with_wrap_up():
    h = Harness()
    h.login("1001")
    h.call("c1")
    out = h.answer("c1")
    assert of(out, cmd.Bridge)[0].agent_id == "1001"
    assert of(out, cmd.StartRecording)[0].name == "c1"
    assert h.acd.agents["1001"].state is AgentState.ON_CALL
    out = h.send(ev.CallerHungUp("c1"), after=120)
    assert of(out, cmd.HangUp) == [cmd.HangUp("c1", "agent")]
    cdr = ended(out)[0]
    assert (cdr.outcome, cdr.agent_id, cdr.centre_id, cdr.talk_s) == (
        "answered", "1001", "bdg", 120)
    assert h.acd.agents["1001"].state is AgentState.AFTER_CALL_WORK
    out = h.wait(10)
    assert of(out, rec.WrapUpEnded)[0].wrap_up_s == 10
    assert h.acd.agents["1001"].state is AgentState.AVAILABLE


def test_agent_hanging_up_completes_the_call_and_hangs_up_the_caller():
    h = Harness()
    h.login("1001")
    h.call("c1")
    h.answer("c1")
    out = h.send(ev.AgentHungUp("c1"), after=60)
    assert of(out, cmd.HangUp) == [cmd.HangUp("c1", "caller")]
    assert ended(out)[0].outcome == "answered"
    assert h.send(ev.CallerHungUp("c1")) == [], "the caller's own hang-up report is stale"


def test_ring_no_answer_offers_the_call_to_the_next_agent_and_pauses_the_first():
    h = Harness()
    h.login("1001", "1002")
    h.call("c1")
    first = h.ring_for("c1")
    out = h.send(ev.RingFailed(first.offer_id, "no_answer"), after=15)
    assert of(out, rec.OfferEnded)[0].result == "no_answer"
    assert of(out, cmd.RingAgent)[0].agent_id != first.agent_id
    a = h.acd.agents[first.agent_id]
    assert (a.state, a.pause_reason) == (AgentState.PAUSED, "ring_no_answer")


def test_without_autopause_an_agent_who_missed_a_call_is_not_rung_for_it_again():
    flows = build_flows(centres=[centre("bdg", "32.73", queues=[queue(pause_on_no_answer=False)]),
                                 centre("jabar", "32"), centre("bnpb", "ID")])
    h = Harness(flows)
    h.login("1001")
    h.call("c1")
    out = h.send(ev.RingFailed(h.ring_for("c1").offer_id, "busy"), after=3)
    assert of(out, rec.OfferEnded)[0].result == "rejected"
    assert h.acd.agents["1001"].state is AgentState.AVAILABLE
    assert not of(out, cmd.RingAgent)
    h.call("c2")
    assert h.ring_for("c2").agent_id == "1001", "other calls still reach the agent"


def test_ring_all_rings_every_free_agent_and_stops_the_others_on_answer():
    flows = build_flows(centres=[centre("bdg", "32.73", queues=[queue(strategy="ring_all")]),
                                 centre("jabar", "32"), centre("bnpb", "ID")])
    h = Harness(flows)
    h.login("1001", "1002")
    out = h.call("c1")
    rings = of(out, cmd.RingAgent)
    assert sorted(r.agent_id for r in rings) == ["1001", "1002"]
    out = h.send(ev.RingAnswered(rings[1].offer_id), after=2)
    assert of(out, cmd.StopRinging) == [cmd.StopRinging(rings[0].offer_id, "answered_elsewhere")]
    assert h.acd.agents[rings[0].agent_id].state is AgentState.AVAILABLE
    # Asterisk may report the loser's answer too (both phones picked up): drop that leg.
    out = h.send(ev.RingAnswered(rings[0].offer_id))
    assert of(out, cmd.StopRinging) == [cmd.StopRinging(rings[0].offer_id, "answered_elsewhere")]
    assert h.acd.calls["c1"].agent_id == rings[1].agent_id


def test_caller_hanging_up_while_ringing_stops_the_ring_and_is_abandoned():
    h = Harness()
    h.login("1001")
    h.call("c1")
    ring = h.ring_for("c1")
    out = h.send(ev.CallerHungUp("c1"), after=4)
    assert of(out, cmd.StopRinging) == [cmd.StopRinging(ring.offer_id, "caller_left")]
    assert ended(out)[0].outcome == "abandoned"
    assert h.acd.agents["1001"].state is AgentState.AVAILABLE
    assert "c1" not in h.acd.calls


def test_a_lost_ring_outcome_is_recovered_by_the_guard_timer():
    h = Harness()
    h.login("1001", "1002")
    h.call("c1")
    first = h.ring_for("c1")
    out = h.wait(15 + 5)
    assert cmd.StopRinging(first.offer_id, "no_answer") in out
    assert of(out, cmd.RingAgent)[0].agent_id != first.agent_id


def test_a_lost_end_of_welcome_still_rings_where_the_queue_waits_for_it():
    h = Harness(build_flows(centres=[centre("bdg", "32.73",
                                            queues=[queue(ring_during_welcome=False)]),
                                     centre("jabar", "32"), centre("bnpb", "ID")]))
    h.login("1001")
    h.call("c1", welcome_done=False)
    out = h.wait(30)
    assert of(out, cmd.RingAgent)[0].call_id == "c1"


def test_a_late_driver_gets_the_same_outputs_as_a_punctual_one():
    punctual, late = Harness(), Harness()
    for h in (punctual, late):
        h.login("1001", "2001")
        h.call("c1")
    punctual.wait(45)
    late.now += 45
    late.log += late.acd.advance(late.now)
    assert punctual.log == late.log


def test_a_duplicate_arrival_of_the_same_channel_is_one_call():
    h = Harness()
    h.call("c1", welcome_done=False)
    assert h.send(ev.CallArrived("c1", "+6281234567890")) == []


def test_two_agents_never_ring_for_one_call_outside_ring_all():
    h = Harness()
    h.login("1001", "1002", "2001", "2002")
    h.call("c1")
    h.wait(45)  # escalates twice while 1001 rings
    rings = of(h.log, cmd.RingAgent)
    assert len({r.agent_id for r in rings}) == len(rings)
    pending = [o for o in h.acd.offers.values() if o.call_id == "c1"]
    assert len(pending) <= 1


def test_a_call_routed_to_another_service_uses_that_queue():
    flows = build_flows(
        centres=[centre("bdg", "32.73"),
                 centre("jabar", "32", queues=[queue(), queue("informasi")]),
                 centre("bnpb", "ID")],
        agents=[agent("2001", "jabar", darurat=5), agent("2002", "jabar", informasi=5)],
        ingress={"rules": [{"did": "+62227100118", "region": "32", "service": "informasi"}]})
    h = Harness(flows)
    h.login("2001", "2002")
    out = h.send(ev.CallArrived("c1", "+6281234567890", ev.Ingress(did="0227100118")))
    h.send(ev.PromptFinished("c1", "welcome"))
    assert of(out, rec.CallStarted)[0].service == "informasi"
    assert h.ring_for("c1").agent_id == "2002"


def test_a_call_handed_to_the_dialplan_fallback_is_neither_answered_nor_abandoned():
    h = Harness()
    h.login("1001")
    h.call("c1")
    ring = h.ring_for("c1")
    out = h.send(ev.CallHandedOff("c1", "handler failed"), after=2)
    assert of(out, cmd.StopRinging) == [cmd.StopRinging(ring.offer_id, "caller_left")]
    assert ended(out)[0].outcome == "handed_off"
    assert h.acd.agents["1001"].state is AgentState.AVAILABLE
