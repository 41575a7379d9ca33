"""Behaviour of the routing and escalation core, one scenario per test."""

from __future__ import annotations

from acd.domain.model import AgentState, CallState
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from acd.vocabulary.alerts import Alert
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


def test_unanswered_call_escalates_to_the_province_at_the_deadline_counted_from_arrival():
    h = Harness()
    h.login("1001", "2001")
    h.call("c1")  # rings 1001, who lets it ring
    arrived = h.start
    out = h.wait(19.9)
    assert not of(out, rec.TierHop)
    out = h.wait(0.1)
    hop = of(out, rec.TierHop)[0]
    assert (hop.tier, hop.centre_id, hop.reason, hop.at) == (
        Tier.PROVINCE, "jabar", "timeout", arrived + 20)
    assert [p.prompt for p in of(out, cmd.PlayPrompt)] == ["to-province"]


def test_a_call_climbs_to_national_and_is_kept_there_with_alerts():
    flows = build_flows(agents=[agent("9001", "bnpb")])
    h = Harness(flows)
    h.login("9001")
    h.send(ev.AgentPaused("9001", "briefing"))
    h.call("c1")
    tiers = [hop.tier for hop in of(h.log, rec.TierHop)]
    # kabkota and province have nobody logged in: skipped at once
    assert tiers == [Tier.NATIONAL]
    assert of(h.log, rec.TierHop)[0].reason == "unstaffed"
    out = h.wait(3600)
    assert not ended(out), "the national tier never gives up on a call"
    alerts = [n for n in of(out, Alert) if n.kind == "national_long_wait"]
    assert len(alerts) == 30  # every 120 s
    assert h.acd.calls["c1"].state is CallState.QUEUED


def test_widen_keeps_the_call_offered_to_regency_agents_after_escalation():
    h = Harness()
    h.login("1001")
    h.call("c1")
    h.send(ev.RingFailed(h.ring_for("c1").offer_id, "no_answer"), after=15)  # 1001 paused
    h.wait(5)  # escalated to province (nobody there is logged in: on to national)
    assert h.acd.calls["c1"].queues[0] == ("bdg", "darurat")
    out = h.send(ev.AgentUnpaused("1001"))
    assert not of(out, cmd.RingAgent), "1001 let this call ring out: not again"
    h.login("1002")
    assert h.ring_for("c1").agent_id == "1002", "a fresh regency agent still gets the call"
    h.answer("c1")
    cdr = ended(h.send(ev.AgentHungUp("c1"), after=30))[0]
    # one escalation: the province had nobody logged in and was skipped
    assert (cdr.tier, cdr.answered_tier, cdr.escalations) == (Tier.NATIONAL, Tier.KABKOTA, 1)


def test_move_takes_the_call_away_from_the_lower_tier():
    flows = build_flows(escalation={"kabkota": {"after_s": 20, "mode": "move"}})
    h = Harness(flows)
    h.login("1001", "2001")
    h.send(ev.AgentPaused("2001", "break"))
    h.send(ev.AgentPaused("1001", "break"))
    h.call("c1")
    h.wait(20)
    assert h.acd.calls["c1"].queues == [("jabar", "darurat")]
    out = h.send(ev.AgentUnpaused("1001"))
    assert not of(out, cmd.RingAgent)
    out = h.send(ev.AgentUnpaused("2001"))
    assert of(out, cmd.RingAgent)[0].agent_id == "2001"


def test_a_region_without_a_centre_starts_at_its_province():
    h = Harness()
    h.login("2001")
    h.call("c1", region="32.04")  # Kabupaten Bandung has no centre here
    hop = of(h.log, rec.TierHop)[0]
    assert (hop.tier, hop.reason) == (Tier.PROVINCE, "no_centre")
    assert h.ring_for("c1").agent_id == "2001"


def test_a_closed_centre_is_skipped_at_once_with_the_after_hours_prompt():
    closed = {"hours": [{"days": ["mon"], "open": "00:00", "close": "00:01"}]}
    flows = build_flows(centres=[centre("bdg", "32.73", **closed), centre("jabar", "32"),
                                 centre("bnpb", "ID")])
    h = Harness(flows)  # 1_800_000_000 is a Friday
    h.login("1001", "2001")
    out = h.call("c1")
    assert [p.prompt for p in of(out, cmd.PlayPrompt)] == ["welcome", "after-hours"]
    assert [(x.tier, x.reason) for x in of(out, rec.TierHop)] == [(Tier.PROVINCE, "closed")]
    assert h.ring_for("c1").agent_id == "2001"


def test_the_last_agent_logging_out_escalates_waiting_calls_at_once():
    h = Harness()
    h.login("1001", "2001")
    h.send(ev.AgentPaused("1001", "break"))
    h.send(ev.AgentPaused("2001", "break"))
    h.call("c1")
    assert of(h.log, rec.TierHop)[-1].tier is Tier.KABKOTA
    out = h.send(ev.AgentLoggedOut("1001"), after=3)
    assert [(x.tier, x.reason) for x in of(out, rec.TierHop)] == [(Tier.PROVINCE, "unstaffed")]


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


def test_a_nuisance_caller_hears_a_warning_is_served_last_and_ends_as_blocked():
    flows = build_flows(callers={"nuisance": [
        {"number": "+6285700000117", "until": "2099-12-31", "reason": "pranks"}]})
    h = Harness(flows)
    h.login("1001")
    h.send(ev.AgentPaused("1001", "break"))
    out = h.call("n1", caller="+6285700000117")
    assert [p.prompt for p in of(out, cmd.PlayPrompt)] == ["nuisance"]
    assert of(out, Alert)[0].kind == "nuisance_call"
    h.call("c2")
    h.send(ev.AgentUnpaused("1001"))
    assert h.ring_for("c2").agent_id == "1001", "the genuine caller goes first"
    assert ended(h.send(ev.CallerHungUp("n1")))[0].outcome == "blocked"


def test_an_expired_nuisance_listing_no_longer_applies():
    flows = build_flows(callers={"nuisance": [
        {"number": "+6285700000117", "until": "2020-01-01", "reason": "old"}]})
    h = Harness(flows)
    h.call("c1", caller="+6285700000117", welcome_done=False)
    assert of(h.log, rec.CallStarted)[0].caller_class != "nuisance"


def test_higher_priority_first_and_first_come_first_served_within_a_class():
    flows = build_flows(callers={"classes": [
        {"name": "listed", "numbers": ["+62222034567"]},
        {"name": "mobile", "line_type": "mobile"}]})
    h = Harness(flows)
    h.login("1001")
    h.send(ev.AgentPaused("1001", "break"))
    h.call("m1", caller="+6281111111111")
    h.call("m2", caller="+6281222222222")
    h.call("L1", caller="+62222034567")
    served = []
    h.send(ev.AgentUnpaused("1001"))
    for _ in range(3):
        call_id = [o for o in h.log if isinstance(o, cmd.RingAgent)][-1].call_id
        served.append(call_id)
        h.answer(call_id)
        h.send(ev.AgentHungUp(call_id), after=1)
        h.send(ev.WrapUpDone("1001"))
    assert served == ["L1", "m1", "m2"]


def test_a_caller_calling_again_within_the_window_is_a_repeat_caller():
    flows = build_flows(callers={"classes": [{"name": "repeat", "repeat": True}],
                                 "repeat_window_min": 10})
    h = Harness(flows)
    h.call("c1", welcome_done=False)
    h.send(ev.CallerHungUp("c1"), after=5)
    h.call("c2", welcome_done=False)
    h.wait(601)
    h.call("c3", welcome_done=False)
    classes = [s.caller_class for s in of(h.log, rec.CallStarted)]
    assert classes == ["other", "repeat", "other"]


def test_logging_out_during_a_call_takes_effect_after_wrap_up():
    h = Harness()
    h.login("1001")
    h.call("c1")
    h.answer("c1")
    out = h.send(ev.AgentLoggedOut("1001"))
    assert not of(out, cmd.HangUp), "a conversation is never cut"
    h.send(ev.AgentHungUp("c1"), after=30)
    h.wait(10)
    assert h.acd.agents["1001"].state is AgentState.LOGGED_OUT


def test_pausing_while_ringing_gives_the_call_to_another_agent():
    h = Harness()
    h.login("1001", "1002")
    h.call("c1")
    first = h.ring_for("c1")
    out = h.send(ev.AgentPaused(first.agent_id, "toilet"))
    assert of(out, cmd.StopRinging) == [cmd.StopRinging(first.offer_id, "logged_out")]
    assert of(out, cmd.RingAgent)[0].agent_id != first.agent_id


def test_an_agent_whose_phone_is_unreachable_gets_no_calls_until_it_is_back():
    h = Harness()
    h.login("1001")
    h.send(ev.DeviceStateChanged("PJSIP/1001", reachable=False))
    out = h.call("c1")
    assert not of(out, cmd.RingAgent)
    out = h.send(ev.DeviceStateChanged("PJSIP/1001", reachable=True), after=2)
    assert of(out, cmd.RingAgent)[0].agent_id == "1001"


def test_free_seating_an_agent_logging_in_at_another_phone_is_rung_there():
    h = Harness()
    h.login("1001")
    h.send(ev.AgentLoggedIn("1001", "PJSIP/desk-7"))
    h.call("c1")
    assert h.ring_for("c1").device == "PJSIP/desk-7"


def test_a_second_agent_logging_in_at_an_occupied_phone_is_refused_and_the_first_stays():
    h = Harness()
    h.login("1001")
    out = h.send(ev.AgentLoggedIn("1002", "PJSIP/1001"))
    assert [n.kind for n in of(out, Alert)] == ["login_refused"]
    assert h.acd.agents["1001"].state is AgentState.AVAILABLE
    assert h.acd.agents["1002"].state is AgentState.LOGGED_OUT


def test_an_unknown_agent_cannot_log_in():
    h = Harness()
    out = h.send(ev.AgentLoggedIn("7777", "PJSIP/x"))
    assert of(out, Alert)[0].kind == "login_rejected"


def test_higher_skill_level_is_preferred_then_longest_idle():
    flows = build_flows(agents=[agent("1001", "bdg", 3), agent("1002", "bdg", 9),
                                agent("1003", "bdg", 9)])
    h = Harness(flows)
    h.login("1001", "1003")
    h.wait(5)
    h.login("1002")  # same level as 1003 but idle for less time
    h.call("c1")
    assert h.ring_for("c1").agent_id == "1003"


def test_fewest_calls_strategy_prefers_the_agent_with_fewer_answered_calls():
    flows = build_flows(centres=[centre("bdg", "32.73", queues=[queue(strategy="fewest_calls",
                                                                       wrap_up_s=0)]),
                                 centre("jabar", "32"), centre("bnpb", "ID")])
    h = Harness(flows)
    h.login("1001")
    h.call("c1")
    h.answer("c1")
    h.send(ev.AgentHungUp("c1"), after=5)
    h.login("1002")  # logged in later, idle for less time, but answered nothing yet
    h.call("c2")
    assert h.ring_for("c2").agent_id == "1002"


def test_round_robin_rings_the_agent_offered_a_call_longest_ago():
    flows = build_flows(centres=[centre("bdg", "32.73", queues=[queue(strategy="round_robin",
                                                                       wrap_up_s=0)]),
                                 centre("jabar", "32"), centre("bnpb", "ID")])
    h = Harness(flows)
    h.login("1001", "1002")
    order = []
    for i in range(4):
        h.call(f"c{i}")
        ring = h.ring_for(f"c{i}")
        order.append(ring.agent_id)
        h.answer(f"c{i}")
        h.send(ev.AgentHungUp(f"c{i}"), after=1)
    assert order == ["1001", "1002", "1001", "1002"]


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


def test_a_waiting_call_hears_periodic_prompts_with_the_expected_wait():
    h = Harness()
    h.login("1001")
    h.send(ev.AgentPaused("1001", "break"))
    h.call("c0")
    h.wait(88)
    h.send(ev.AgentUnpaused("1001"))
    h.send(ev.RingAnswered(h.ring_for("c0").offer_id), after=2)  # c0 waited 90 s
    h.call("c1")
    out = h.wait(30)
    said = [(p.prompt, p.number) for p in of(out, cmd.PlayPrompt)]
    assert said[-2:] == [("periodic", None), ("wait", 2)]


def test_hold_time_is_counted_in_the_call_record():
    h = Harness()
    h.login("1001")
    h.call("c1")
    h.answer("c1")
    h.send(ev.HoldStarted("c1"), after=10)
    h.send(ev.HoldEnded("c1"), after=25)
    cdr = ended(h.send(ev.AgentHungUp("c1"), after=5))[0]
    assert (cdr.hold_s, cdr.talk_s) == (25, 40)
    states = [r.state for r in of(h.log, rec.AgentStateChanged) if r.agent_id == "1001"]
    assert "on_hold" in states


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
