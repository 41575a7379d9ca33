"""Behaviour of the core's waiting calls, one scenario per test: nuisance callers, priority
classes and first come first served, repeat callers, the periodic prompts and hold time."""

from __future__ import annotations

from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from acd.vocabulary.alerts import Alert
from tests.support import Harness, build_flows, ended, of


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
