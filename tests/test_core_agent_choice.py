"""Behaviour of the core's agents, one scenario per test: logging in and out, pausing,
reachability and free seating, and which free agent a strategy rings."""

from __future__ import annotations

from acd.domain.model import AgentState
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from acd.vocabulary.alerts import Alert
from tests.support import Harness, agent, build_flows, centre, of, queue


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
