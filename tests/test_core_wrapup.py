"""Wrap-up classification in the core: what the call was, recorded once per answer given,
and (when the call flows require it) nothing but a classification ends the wrap-up."""

from __future__ import annotations

from typing import Any

from acd.domain.model import AgentState
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from tests.support import Harness, build_flows, centre, of, queue

CLASSES: dict[str, Any] = {
    "classes": [{"code": "emergency", "label": "Laporan darurat", "report": True},
                {"code": "prank", "label": "Panggilan iseng", "review": True}],
    "emergency_types": [{"code": "flood", "label": "Banjir"}]}


def wrapping_up(required: bool, call_id: str = "c1") -> Harness:
    """Agent 1001 in wrap-up after call c1 (the queue's wrap-up time: 30 s)."""
    h = Harness(build_flows(wrapup={**CLASSES, "required": required}))
    h.login("1001")
    h.call(call_id)
    h.answer(call_id)
    h.send(ev.CallerHungUp(call_id), after=40)
    assert h.acd.agents["1001"].state is AgentState.AFTER_CALL_WORK
    return h


def classified(call_id: str = "c1", code: str = "prank", ready: bool = True,
               **details: Any) -> ev.CallClassified:
    return ev.CallClassified("1001", call_id, code, ready=ready, **details)


def test_a_required_classification_keeps_the_agent_in_wrap_up_past_its_time():
    h = wrapping_up(required=True)
    h.wait(120)
    assert h.acd.agents["1001"].state is AgentState.AFTER_CALL_WORK
    assert h.acd.wrap_up_refusal("1001") == "the call is not classified yet"
    h.send(ev.WrapUpDone("1001"))
    assert h.acd.agents["1001"].state is AgentState.AFTER_CALL_WORK, "*15 or ready: refused"
    out = h.send(classified(emergency_type=None, notes="tertawa lalu menutup"), after=5)
    assert of(out, rec.Classification) == [rec.Classification(
        "c1", "1001", "prank", h.now, notes="tertawa lalu menutup")]
    (ended,) = of(out, rec.WrapUpEnded)
    assert ended.wrap_up_s == 125
    assert h.acd.agents["1001"].state is AgentState.AVAILABLE


def test_a_classification_without_ready_keeps_the_wrap_up_until_the_agent_says_so():
    h = wrapping_up(required=True)
    h.send(classified(ready=False), after=3)
    assert h.acd.agents["1001"].state is AgentState.AFTER_CALL_WORK
    assert h.acd.wrap_up_refusal("1001") is None
    h.send(ev.WrapUpDone("1001"), after=2)
    assert h.acd.agents["1001"].state is AgentState.AVAILABLE


def test_a_corrected_classification_is_recorded_again_and_the_later_one_stands():
    h = wrapping_up(required=True)
    h.send(classified(ready=False), after=3)
    out = h.send(classified(code="emergency", emergency_type="flood", place="Desa Lolu",
                            people_affected=12), after=4)
    assert [(r.code, r.emergency_type, r.people_affected) for r in
            of(out, rec.Classification)] == [("emergency", "flood", 12)]
    assert h.acd.agents["1001"].state is AgentState.AVAILABLE


def test_without_the_requirement_the_wrap_up_time_still_ends_wrap_up():
    h = wrapping_up(required=False)
    assert h.acd.wrap_up_refusal("1001") is None
    h.wait(31)
    assert h.acd.agents["1001"].state is AgentState.AVAILABLE


def test_a_classification_of_another_call_or_too_late_changes_nothing():
    h = wrapping_up(required=True)
    assert not of(h.send(classified(call_id="c-other")), rec.Classification)
    assert h.acd.agents["1001"].state is AgentState.AFTER_CALL_WORK
    h.send(classified())
    assert not h.send(classified(code="emergency")), "the agent moved on: nothing recorded"


def test_an_agent_may_classify_while_still_on_the_call():
    h = Harness(build_flows(wrapup={**CLASSES, "required": True}))
    h.login("1001")
    h.call("c1")
    h.answer("c1")
    out = h.send(classified(), after=10)
    assert of(out, rec.Classification) and h.acd.agents["1001"].state is AgentState.ON_CALL
    h.send(ev.CallerHungUp("c1"), after=5)
    h.wait(31)
    assert h.acd.agents["1001"].state is AgentState.AVAILABLE, "classified before: timer ends it"


def test_logging_out_ends_an_unclassified_wrap_up_instead_of_waiting_for_ever():
    h = wrapping_up(required=True)
    out = h.send(ev.AgentLoggedOut("1001", "supervisor"), after=60)
    assert of(out, rec.WrapUpEnded) and h.acd.agents["1001"].state is AgentState.LOGGED_OUT
    assert not of(out, rec.Classification)


def test_a_queue_without_wrap_up_time_still_waits_for_a_required_classification():
    h = Harness(build_flows(centres=[centre("bdg", "32.73", queues=[queue(wrap_up_s=0)]),
                                     centre("jabar", "32"), centre("bnpb", "ID")],
                            wrapup={**CLASSES, "required": True}))
    h.login("1001")
    h.call("c1")
    h.answer("c1")
    out = h.send(ev.CallerHungUp("c1"), after=40)
    assert not of(out, rec.WrapUpEnded)
    assert h.acd.agents["1001"].state is AgentState.AFTER_CALL_WORK
    out = h.send(classified(), after=5)
    assert of(out, rec.WrapUpEnded) and h.acd.agents["1001"].state is AgentState.AVAILABLE
