"""Who may sit at which phone (acd.domain.phones), as the core enforces it for every login: an
occupied phone is refused, never taken over; trunks and dial strings are no phones; a
centre's listed phones are its agents' only; supervisors monitor from supervisor phones."""

from __future__ import annotations

from acd.domain.model import AgentState
from acd.vocabulary import events as ev
from acd.vocabulary.alerts import Alert
from tests.support import Harness, agent, build_flows, centre, of


def _refusals(out: list) -> list[Alert]:
    return [n for n in of(out, Alert) if n.kind == "login_refused"]


def test_a_login_at_an_occupied_phone_is_refused_and_the_agent_there_stays() -> None:
    h = Harness()
    h.login("1001")
    out = h.send(ev.AgentLoggedIn("2001", "PJSIP/1001"))
    assert _refusals(out) and "taken" in _refusals(out)[0].message
    assert h.acd.agents["1001"].state is AgentState.AVAILABLE
    assert h.acd.agent_at("PJSIP/1001") == "1001"
    assert h.acd.agents["2001"].state is AgentState.LOGGED_OUT


def test_two_agents_never_share_a_phone() -> None:
    h = Harness()
    h.send(ev.AgentLoggedIn("1001", "PJSIP/desk-1"))
    h.send(ev.AgentLoggedIn("1002", "PJSIP/desk-1"))
    seated = [a.id for a in h.acd.agents.values() if a.device == "PJSIP/desk-1"
              and a.state is not AgentState.LOGGED_OUT]
    assert seated == ["1001"]


def test_an_agent_moves_to_a_free_phone() -> None:
    h = Harness()
    h.login("1001")
    assert not _refusals(h.send(ev.AgentLoggedIn("1001", "PJSIP/desk-7")))
    assert h.acd.agents["1001"].device == "PJSIP/desk-7"
    assert h.acd.agent_at("PJSIP/1001") is None


def test_a_trunk_is_no_agent_phone() -> None:
    h = Harness()  # the flows' ingress names trunk-telkomsel
    out = h.send(ev.AgentLoggedIn("1001", "PJSIP/trunk-telkomsel"))
    assert "trunk" in _refusals(out)[0].message
    assert h.acd.agents["1001"].state is AgentState.LOGGED_OUT


def test_a_string_that_is_no_clean_endpoint_is_refused() -> None:
    h = Harness()
    for junk in ("PJSIP/1001\nAction: Originate", "PJSIP/trunk/0812345", "Local/1@x", "",
                 "PJSIP/" + "a" * 65):
        out = h.send(ev.AgentLoggedIn("1001", junk))
        assert _refusals(out), junk
    assert h.acd.agents["1001"].state is AgentState.LOGGED_OUT


def _centres_with_phones() -> Harness:
    return Harness(build_flows(
        centres=[centre("bdg", "32.73", phones=["PJSIP/10??"]), centre("jabar", "32"),
                 centre("bnpb", "ID", supervisor_phones=["PJSIP/sup-*"])],
        agents=[agent("1001", "bdg"), agent("2001", "jabar"), agent("9001", "bnpb")]))


def test_a_centres_phones_are_for_its_own_agents_only() -> None:
    h = _centres_with_phones()
    assert "bdg" in _refusals(h.send(ev.AgentLoggedIn("2001", "PJSIP/1001")))[0].message
    assert _refusals(h.send(ev.AgentLoggedIn("1001", "PJSIP/desk-1")))  # not one of bdg's
    assert not _refusals(h.send(ev.AgentLoggedIn("1001", "PJSIP/1001")))
    assert not _refusals(h.send(ev.AgentLoggedIn("2001", "PJSIP/desk-1")))  # free seating


def test_a_restored_login_at_a_phone_taken_since_is_not_restored() -> None:
    h = Harness()
    h.login("1001")
    out = h.send(ev.AgentLoginRestored("2001", "PJSIP/1001"))
    assert [n.kind for n in of(out, Alert)] == ["login_not_restored"]
    assert h.acd.agent_at("PJSIP/1001") == "1001"


def test_supervisors_monitor_from_supervisor_phones_only() -> None:
    h = _centres_with_phones()
    h.login("9001")
    assert h.acd.monitor_refusal("PJSIP/sup-01") is None
    assert h.acd.monitor_refusal("PJSIP/1001") is not None  # an agent's phone
    assert h.acd.monitor_refusal("PJSIP/trunk-telkomsel") is not None
    assert h.acd.monitor_refusal("PJSIP/sup-01\r\nX") is not None


def test_without_supervisor_phones_any_free_non_agent_phone_may_monitor() -> None:
    h = Harness()
    h.login("1001")
    assert h.acd.monitor_refusal("PJSIP/sup-1") is None
    assert "1001" in (h.acd.monitor_refusal("PJSIP/1001") or "")
    assert h.acd.monitor_refusal("PJSIP/trunk-telkomsel") is not None
