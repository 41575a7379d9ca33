"""Reloading the call flows in a running core: no call is dropped, new settings apply."""

from __future__ import annotations

import pytest

from acd.domain.core import ReloadRefused
from acd.domain.model import AgentState, CallState
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from acd.vocabulary.alerts import Alert
from tests.support import Harness, agent, build_flows, centre, ended, of, queue


def test_waiting_and_connected_calls_carry_on_through_a_reload() -> None:
    h = Harness()
    h.login("1001")
    h.call("talking")
    h.answer("talking")
    h.call("waiting")
    out = h.acd.reconfigure(build_flows(escalation={"kabkota": {"after_s": 45}}), h.now)
    assert ended(out) == []
    assert h.acd.calls["talking"].state is CallState.CONNECTED
    assert h.acd.calls["waiting"].state is CallState.QUEUED
    assert [n.kind for n in of(out, Alert)] == ["config_reloaded"]
    h.send(ev.AgentHungUp("talking"), after=30)
    assert [e.outcome for e in ended(h.log)] == ["answered"]


def test_the_new_escalation_time_applies_to_calls_that_arrive_after_the_reload() -> None:
    h = Harness()
    h.login("1001", "2001")
    h.send(ev.AgentPaused("1001", "break"))
    h.call("old")  # deadline already set: 20 s
    h.acd.reconfigure(build_flows(escalation={"kabkota": {"after_s": 60}}), h.now)
    h.call("new")
    h.wait(21)
    hops = {(r.call_id, r.tier.value) for r in of(h.log, rec.TierHop)}
    assert ("old", "province") in hops and ("new", "province") not in hops
    h.wait(40)
    assert ("new", "province") in {(r.call_id, r.tier.value) for r in of(h.log, rec.TierHop)}


def test_a_new_skill_lets_an_agent_take_a_waiting_call_at_once() -> None:
    flows = build_flows(centres=[centre("bdg", "32.73", queues=[queue(), queue("informasi")]),
                                 centre("bnpb", "ID")],
                        agents=[agent("1001", "bdg"), agent("1003", "bdg", informasi=4),
                                agent("9001", "bnpb")],
                        ingress={"rules": [{"trunk": "trunk-telkomsel", "header":
                                            "X-Cell-Region", "service": "informasi"}]},
                        escalation={"kabkota": {"after_s": 600}})
    h = Harness(flows)
    h.login("1001", "1003")
    h.send(ev.AgentPaused("1003", "briefing"))
    h.call("info")  # needs skill informasi; 1001 has only darurat, 1003 is paused
    assert of(h.log, cmd.RingAgent) == []
    skilled = flows.model_copy(update={"agents": [
        flows.agents[0].model_copy(update={"skills": {"darurat": 5, "informasi": 3}}),
        *flows.agents[1:]]})
    out = h.acd.reconfigure(skilled, h.now)
    assert [r.agent_id for r in of(out, cmd.RingAgent)] == ["1001"]


def test_removing_a_logged_in_agent_is_refused_and_nothing_changes() -> None:
    h = Harness()
    h.login("1001")
    before = h.acd.flows
    without = build_flows(agents=[agent("1002", "bdg"), agent("9001", "bnpb")])
    with pytest.raises(ReloadRefused, match="agent 1001 is logged in"):
        h.acd.reconfigure(without, h.now)
    assert h.acd.flows is before and "1001" in h.acd.agents
    h.send(ev.AgentLoggedOut("1001"))
    h.acd.reconfigure(without, h.now)  # accepted once they are gone
    assert "1001" not in h.acd.agents


def test_a_queue_with_a_call_in_it_cannot_be_removed_until_the_call_is_over() -> None:
    rule = {"trunk": "trunk-telkomsel", "header": "X-Cell-Region"}
    flows = build_flows(centres=[centre("bdg", "32.73", queues=[queue(), queue("informasi")]),
                                 centre("bnpb", "ID")],
                        agents=[agent("1001", "bdg", darurat=5, informasi=5),
                                agent("9001", "bnpb")],
                        ingress={"rules": [{**rule, "service": "informasi"}]},
                        escalation={"kabkota": {"after_s": 600}})
    h = Harness(flows)
    h.login("1001")
    h.send(ev.AgentPaused("1001", "break"))
    h.call("c1")  # waits in bdg's informasi queue
    darurat_only = build_flows(centres=[centre("bdg", "32.73"), centre("bnpb", "ID")],
                               agents=[agent("1001", "bdg"), agent("9001", "bnpb")],
                               ingress={"rules": [rule]})
    with pytest.raises(ReloadRefused, match="centre bdg, service informasi: 1 call"):
        h.acd.reconfigure(darurat_only, h.now)
    h.send(ev.CallerHungUp("c1"), after=5)
    h.acd.reconfigure(darurat_only, h.now)
    assert ("bdg", "informasi") not in h.acd.queues
    h.send(ev.AgentUnpaused("1001"))
    h.call("c2")
    assert h.ring_for("c2").agent_id == "1001"


def test_a_call_keeps_its_ladder_and_skips_a_centre_removed_meanwhile() -> None:
    h = Harness()
    h.login("1001", "9001")
    h.send(ev.AgentPaused("1001", "break"))
    h.call("c1")  # waits at bdg, ladder bdg -> jabar -> bnpb
    no_jabar = build_flows(centres=[centre("bdg", "32.73"), centre("bnpb", "ID")],
                           agents=[agent("1001", "bdg"), agent("1002", "bdg"),
                                   agent("9001", "bnpb"), agent("9002", "bnpb")])
    h.acd.reconfigure(no_jabar, h.now)
    h.wait(21)
    hops = [(r.tier.value, r.centre_id) for r in of(h.log, rec.TierHop) if r.call_id == "c1"]
    assert hops == [("kabkota", "bdg"), ("national", "bnpb")]
    assert h.ring_for("c1").agent_id == "9001"


def test_a_centre_added_for_a_region_serves_new_calls_while_old_ones_climb_their_ladder(
        ) -> None:
    flows = build_flows(centres=[centre("jabar", "32"), centre("bnpb", "ID")],
                        agents=[agent("2001", "jabar"), agent("9001", "bnpb")])
    h = Harness(flows)
    h.login("2001")
    h.send(ev.AgentPaused("2001", "break"))
    h.call("before")  # Kota Bandung has no centre yet: province first
    with_bdg = build_flows()
    h.acd.reconfigure(with_bdg, h.now)
    h.login("1001")
    h.call("after")
    assert h.ring_for("after").agent_id == "1001"
    assert h.acd.calls["before"].hops[-1].centre_id == "jabar"
    assert h.acd.agents["1001"].state is AgentState.RINGING
