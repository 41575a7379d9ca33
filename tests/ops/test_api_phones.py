"""The phone policy (acd.domain.phones) through the HTTP API: an occupied phone, a trunk or a
device string with a newline is refused for an agent's login and a supervisor's monitor."""

from __future__ import annotations

import pytest

from acd.bootstrap import Daemon
from acd.domain.model import AgentState
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from tests.ops.support import until
from tests.ops.test_api import Client, Phones, api, audit_rows  # noqa: F401  (the fixture)
from tests.support import from_region


async def test_an_agent_login_at_an_occupied_phone_is_a_409_and_the_holder_stays(
        api: tuple[Daemon, Client, Phones]) -> None:  # noqa: F811
    daemon, client, _ = api
    daemon.switchboard.post(ev.AgentLoggedIn("1002", "PJSIP/desk-12"))
    await until(lambda: daemon.acd.agents["1002"].state is AgentState.AVAILABLE)
    status, body = await client.call("POST", "/api/agent/login", {
        "agent_id": "1001", "password": "Sekret117", "device": "PJSIP/desk-12"})
    assert status == 409 and "taken" in body["error"], body
    assert daemon.acd.agents["1002"].state is AgentState.AVAILABLE
    assert daemon.acd.agents["1001"].state is AgentState.LOGGED_OUT
    assert ("1001", "agent.login", "PJSIP/desk-12", "refused") in await audit_rows(
        daemon.settings.dsn or "")


@pytest.mark.parametrize(("device", "status"), [
    ("PJSIP/trunk-telkomsel", 409),  # an endpoint, but the carrier's
    ("PJSIP/3001", 409),  # a phone of Kota Palu, not of 1001's centre
    ("PJSIP/desk-12\n", 400), ("PJSIP/desk-12\nAction: Originate", 400)])
async def test_an_agent_cannot_log_in_at_a_trunk_another_centres_phone_or_junk(
        api: tuple[Daemon, Client, Phones], device: str, status: int) -> None:  # noqa: F811
    daemon, client, _ = api
    got, body = await client.call("POST", "/api/agent/login", {
        "agent_id": "1001", "password": "Sekret117", "device": device})
    assert got == status, body
    assert daemon.acd.agents["1001"].state is AgentState.LOGGED_OUT


async def test_a_supervisor_monitors_only_from_a_supervisor_phone(
        api: tuple[Daemon, Client, Phones]) -> None:  # noqa: F811
    daemon, client, phones = api
    client.token = await client.login("sup1", "Sekret117")
    board = daemon.switchboard
    board.post(ev.AgentLoggedIn("1001", "PJSIP/1001"))
    board.post(ev.AgentLoggedIn("1002", "PJSIP/1002"))
    board.post(ev.CallArrived("c1", "+6281234567890", from_region("32.73")))
    board.post(ev.PromptFinished("c1", "welcome"))
    await until(lambda: any(isinstance(c, cmd.RingAgent) for c in phones.done))
    ring = next(c for c in phones.done if isinstance(c, cmd.RingAgent))
    board.post(ev.RingAnswered(ring.offer_id))
    agent = ring.agent_id
    await until(lambda: daemon.acd.agents[agent].state is AgentState.ON_CALL)
    for device, status in (("PJSIP/1002", 409), ("PJSIP/1001", 409),
                           ("PJSIP/trunk-telkomsel", 409), ("PJSIP/desk-3", 409),
                           ("PJSIP/sup-1\n", 400), ("PJSIP/sup-1", 202)):
        got, body = await client.call("POST", f"/api/agents/{agent}/monitor",
                                      {"mode": "barge", "device": device})
        assert got == status, (device, body)
    assert [r.supervisor_device for r in phones.supervision.requests] == ["PJSIP/sup-1"]
