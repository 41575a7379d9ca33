"""After a restart the core gets its agents' logins back (`AgentLoginRestored`) before the
calls are re-adopted: same device, paused with the same reason, and no new "login"."""

from __future__ import annotations

from acd.domain.model import AgentState
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from acd.vocabulary.alerts import Alert
from acd.vocabulary.tiers import Tier
from tests.support import Harness, of


def states(out: list) -> list[tuple[str, str, str | None, str | None]]:  # type: ignore[type-arg]
    return [(r.agent_id, r.state, r.reason, r.device) for r in of(out, rec.AgentStateChanged)]


def test_a_restored_agent_is_available_at_their_device_without_a_new_login():
    h = Harness()
    out = h.send(ev.AgentLoginRestored("1001", "PJSIP/desk-7"))
    agent = h.acd.agents["1001"]
    assert (agent.state, agent.device) == (AgentState.AVAILABLE, "PJSIP/desk-7")
    assert h.acd.agent_at("PJSIP/desk-7") == "1001"
    assert states(out) == [("1001", "available", "restored", "PJSIP/desk-7")]
    assert h.acd.queues[("bdg", "darurat")].logged_in == 1


def test_a_restored_paused_agent_stays_paused_with_their_reason_and_takes_no_call():
    h = Harness()
    out = h.send(ev.AgentLoginRestored("1001", "PJSIP/1001", pause_reason="briefing"))
    agent = h.acd.agents["1001"]
    assert (agent.state, agent.pause_reason) == (AgentState.PAUSED, "briefing")
    # The latest record keeps saying why, for the next restart and the reports.
    assert states(out) == [("1001", "paused", "briefing", "PJSIP/1001")]
    h.call("c1")
    assert not of(h.log, cmd.RingAgent)
    h.send(ev.AgentUnpaused("1001"))
    assert h.ring_for("c1").agent_id == "1001"


def test_a_waiting_call_adopted_after_the_restart_is_offered_to_a_restored_agent():
    h = Harness()
    h.send(ev.AgentLoginRestored("9001", "PJSIP/9001"))
    h.send(ev.CallAdopted("c1", "+6281234567890", ev.Ingress(), h.now - 40,
                          tier=Tier.NATIONAL, tier_since=h.now - 10))
    ring = h.ring_for("c1")
    assert (ring.agent_id, ring.device) == ("9001", "PJSIP/9001")
    assert not [r for r in of(h.log, rec.AgentStateChanged) if r.reason == "login"]


def test_an_agent_on_a_call_at_the_crash_takes_the_call_back_when_it_is_adopted():
    h = Harness()
    h.send(ev.AgentLoginRestored("1001", "PJSIP/1001"))
    h.send(ev.CallAdopted("c1", "+6281234567890", ev.Ingress(), h.now - 50,
                          agent_id="1001", device="PJSIP/1001", answered_at=h.now - 30))
    agent = h.acd.agents["1001"]
    assert (agent.state, agent.call_id) == (AgentState.ON_CALL, "c1")


def test_an_agent_no_longer_in_the_call_flows_is_skipped_with_a_warning():
    h = Harness()
    out = h.send(ev.AgentLoginRestored("7777", "PJSIP/7777"))
    [notify] = of(out, Alert)
    assert notify.kind == "login_not_restored" and "7777" in notify.message
    assert not of(out, rec.AgentStateChanged) and h.acd.agent_at("PJSIP/7777") is None


def test_an_agent_who_logged_in_again_meanwhile_keeps_what_they_did():
    h = Harness()
    h.login("1001")
    assert h.send(ev.AgentLoginRestored("1001", "PJSIP/old", pause_reason="break")) == []
    agent = h.acd.agents["1001"]
    assert (agent.state, agent.device) == (AgentState.AVAILABLE, "PJSIP/1001")
