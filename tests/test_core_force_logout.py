"""A logout asked for during a call happens after it, with the reason of whoever asked."""

from __future__ import annotations

from acd.domain.model import AgentState
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from tests.support import Harness, of


def logout_reasons(h: Harness) -> list[str | None]:
    return [r.reason for r in of(h.log, rec.AgentStateChanged)
            if r.agent_id == "1001" and r.state == "logged_out"]


def test_a_supervisors_force_logout_during_a_call_is_recorded_as_the_supervisors():
    h = Harness()
    h.login("1001")
    h.call("c1")
    h.answer("c1")
    h.send(ev.AgentLoggedOut("1001", "supervisor"))
    h.send(ev.AgentHungUp("c1"), after=30)
    h.wait(10)
    assert h.acd.agents["1001"].state is AgentState.LOGGED_OUT
    assert logout_reasons(h) == ["supervisor"]


def test_an_agents_own_logout_during_a_call_is_still_the_agents():
    h = Harness()
    h.login("1001")
    h.call("c1")
    h.answer("c1")
    h.send(ev.AgentLoggedOut("1001"))
    h.send(ev.AgentHungUp("c1"), after=30)
    h.wait(10)
    assert logout_reasons(h) == ["agent"]
