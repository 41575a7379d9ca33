"""The HTTP API: users and roles, agents' actions, supervisors' and admins' powers."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from argon2 import PasswordHasher

from acd.bootstrap import Daemon
from acd.domain.model import AgentState
from acd.service.ports import TelephonyBase
from acd.service.settings import EXAMPLE_CONFIG
from acd.service.supervision import RecordingSupervision
from acd.service.users import PasswordPolicyError, Users, password_problems
from acd.store.database import PostgresDatabase
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from tests.ops.support import audit_log, serving, settings, until
from tests.support import from_region

FAST = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)  # argon2id, test-sized


class Phones(TelephonyBase):
    """Telephony that only listens; it offers listen/whisper/barge like the adapter will."""

    def __init__(self) -> None:
        self.supervision = RecordingSupervision()
        self.done: list[cmd.Command] = []

    async def execute(self, command: cmd.Command) -> None:
        self.done.append(command)


class Client:
    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.s = session
        self.base = base
        self.token: str | None = None

    async def call(self, method: str, path: str, json: Any = None,
                   token: str | None = None) -> tuple[int, Any]:
        token = token or self.token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.s.request(method, self.base + path, json=json, headers=headers) as r:
            return r.status, await r.json(content_type=None)

    async def login(self, username: str, password: str) -> str:
        status, body = await self.call("POST", "/api/login",
                                       {"username": username, "password": password})
        assert status == 200, body
        return str(body["token"])


@pytest.fixture
async def api(tmp_path: Path, migrated_dsn: str) -> AsyncIterator[tuple[Daemon, Client, Phones]]:
    config = tmp_path / "flows"
    shutil.copytree(EXAMPLE_CONFIG, config)
    phones = Phones()
    async with serving(settings(tmp_path, migrated_dsn, config=config), simulate=False,
                       telephony=phones) as daemon:
        assert daemon.users is not None
        daemon.users.hasher = FAST
        for name, role in (("admin1", "admin"), ("sup1", "supervisor"), ("1001", "agent"),
                           ("9001", "agent")):
            await daemon.users.add(name, "Sekret117", role)  # type: ignore[arg-type]
        async with aiohttp.ClientSession() as s:
            yield daemon, Client(s, daemon.url), phones


async def audit_rows(dsn: str) -> list[tuple[str | None, str, str | None, str]]:
    return await audit_log(dsn)


def test_the_password_policy_wants_eight_characters_mixing_cases_and_digits() -> None:
    assert password_problems("Sekret117") == []
    assert password_problems("Sek117") == ["at least 8 characters"]
    assert password_problems("sekret117") == ["an upper-case letter"]
    assert password_problems("SEKRET117") == ["a lower-case letter"]
    assert password_problems("Sekretaris") == ["a digit"]


async def test_passwords_are_stored_as_argon2_hashes(migrated_dsn: str) -> None:
    users = Users(PostgresDatabase(migrated_dsn), hasher=FAST)
    try:
        await users.add("sup2", "Sekret117", "supervisor")
        with pytest.raises(PasswordPolicyError):
            await users.add("sup3", "weakpass", "supervisor")
        assert await users.authenticate("sup2", "Sekret117") is not None
        assert await users.authenticate("sup2", "Sekret118") is None
        assert await users.authenticate("nobody", "Sekret117") is None
        conn = await asyncpg.connect(migrated_dsn)
        stored = await conn.fetchval("SELECT password_hash FROM users WHERE username='sup2'")
        await conn.close()
        assert stored.startswith("$argon2id$") and "Sekret117" not in stored
    finally:
        await users.close()
        await users.database.close()


async def test_sessions_expire(migrated_dsn: str) -> None:
    now = [1000.0]
    users = Users(PostgresDatabase(migrated_dsn), session_ttl_s=60, clock=lambda: now[0],
                  hasher=FAST)
    try:
        user = await users.add("sup4", "Sekret117", "supervisor")
        token, _ = await users.open_session(user)
        assert users.session(token) is not None
        now[0] += 61
        assert users.session(token) is None
    finally:
        await users.close()
        await users.database.close()


async def test_the_state_needs_a_supervisor(api: tuple[Daemon, Client, Phones]) -> None:
    daemon, client, _ = api
    assert (await client.call("GET", "/api/state"))[0] == 401
    agent = await client.login("1001", "Sekret117")
    assert (await client.call("GET", "/api/state", token=agent))[0] == 403
    sup = await client.login("sup1", "Sekret117")
    status, state = await client.call("GET", "/api/state", token=sup)
    assert status == 200 and len(state["agents"]) == 22
    assert (await client.call("POST", "/api/login",
                              {"username": "sup1", "password": "wrong"}))[0] == 401
    daemon.switchboard.post(ev.AgentLoggedIn("8888", "PJSIP/x"))  # unknown: an alert
    await until(lambda: bool(daemon.switchboard.alerts))
    status, body = await client.call("GET", "/api/alerts", token=sup)
    assert status == 200 and body["alerts"][0]["kind"] == "login_rejected"
    assert (await client.call("GET", "/api/alerts", token=agent))[0] == 403
    rows = await audit_rows(daemon.settings.dsn or "")
    assert (None, "login", "sup1", "denied") in rows
    assert ("1001", "GET /api/state", None, "denied") in rows


@pytest.mark.parametrize("device", ["PJSIP/trunk-telkomsel/sip:+6281234567890@carrier",
                                    "Local/081234567890@from-pstn", "SIP/desk-12"])
async def test_an_agent_cannot_log_in_at_a_dial_string_that_diverts_calls(
        api: tuple[Daemon, Client, Phones], device: str) -> None:
    daemon, client, _ = api
    status, _body = await client.call("POST", "/api/agent/login", {
        "agent_id": "1001", "password": "Sekret117", "device": device})
    assert status == 400
    assert daemon.acd.agents["1001"].device is None


async def test_an_agent_logs_in_at_a_phone_pauses_unpauses_and_logs_out(
        api: tuple[Daemon, Client, Phones]) -> None:
    daemon, client, _ = api
    status, body = await client.call("POST", "/api/agent/login", {
        "agent_id": "1001", "password": "Sekret117", "device": "PJSIP/desk-12"})
    assert status == 200
    client.token = body["token"]
    agent = daemon.acd.agents["1001"]
    await until(lambda: agent.state is AgentState.AVAILABLE)
    assert agent.device == "PJSIP/desk-12"
    assert (await client.call("POST", "/api/agent/pause", {"reason": "briefing"}))[0] == 202
    await until(lambda: agent.state is AgentState.PAUSED)
    assert agent.pause_reason == "briefing"
    assert (await client.call("POST", "/api/agent/pause", {"reason": "No Way!"}))[0] == 400
    assert (await client.call("POST", "/api/agent/unpause"))[0] == 202
    await until(lambda: agent.state is AgentState.AVAILABLE)
    assert (await client.call("POST", "/api/agent/logout"))[0] == 202
    await until(lambda: agent.state is AgentState.LOGGED_OUT)
    assert (await client.call("GET", "/api/agent"))[0] == 401  # the session ended with it


async def test_guessing_a_password_locks_the_account_for_a_while(
        api: tuple[Daemon, Client, Phones]) -> None:
    daemon, client, _ = api
    for _ in range(5):
        status, _body = await client.call("POST", "/api/login",
                                          {"username": "sup1", "password": "Guess1234"})
        assert status == 401
    status, _body = await client.call("POST", "/api/login",
                                      {"username": "sup1", "password": "Sekret117"})
    assert status == 429  # even the right password, for the rest of the window
    assert (await client.call("POST", "/api/login",
                              {"username": "admin1", "password": "Sekret117"}))[0] == 200
    assert (None, "login", "sup1", "locked") in await audit_rows(daemon.settings.dsn or "")


async def test_an_agent_login_with_a_wrong_password_is_refused(
        api: tuple[Daemon, Client, Phones]) -> None:
    daemon, client, _ = api
    status, _body = await client.call("POST", "/api/agent/login", {
        "agent_id": "1001", "password": "Sekret118", "device": "PJSIP/desk-12"})
    assert status == 401
    assert daemon.acd.agents["1001"].state is AgentState.LOGGED_OUT


async def test_a_supervisor_forces_a_log_out(api: tuple[Daemon, Client, Phones]) -> None:
    daemon, client, _ = api
    daemon.switchboard.post(ev.AgentLoggedIn("1002", "PJSIP/1002"))
    await until(lambda: daemon.acd.agents["1002"].state is AgentState.AVAILABLE)
    agent = await client.login("1001", "Sekret117")
    assert (await client.call("POST", "/api/agents/1002/logout", token=agent))[0] == 403
    client.token = await client.login("sup1", "Sekret117")
    assert (await client.call("POST", "/api/agents/1002/logout"))[0] == 202
    await until(lambda: daemon.acd.agents["1002"].state is AgentState.LOGGED_OUT)
    assert ("sup1", "agent.force_logout", "1002", "ok") in await audit_rows(
        daemon.settings.dsn or "")


async def test_a_supervisor_listens_whispers_and_barges_on_a_call(
        api: tuple[Daemon, Client, Phones]) -> None:
    daemon, client, phones = api
    client.token = await client.login("sup1", "Sekret117")
    board = daemon.switchboard
    board.post(ev.AgentLoggedIn("1001", "PJSIP/1001"))
    status, body = await client.call("POST", "/api/agents/1001/monitor",
                                     {"mode": "listen", "device": "PJSIP/sup-1"})
    await until(lambda: daemon.acd.agents["1001"].state is AgentState.AVAILABLE)
    status, body = await client.call("POST", "/api/agents/1001/monitor",
                                     {"mode": "listen", "device": "PJSIP/sup-1"})
    assert status == 409  # not on a call
    board.post(ev.CallArrived("c1", "+6281234567890", from_region("32.73")))
    board.post(ev.PromptFinished("c1", "welcome"))
    await until(lambda: any(isinstance(c, cmd.RingAgent) for c in phones.done))
    ring = next(c for c in phones.done if isinstance(c, cmd.RingAgent))
    board.post(ev.RingAnswered(ring.offer_id))
    await until(lambda: daemon.acd.agents["1001"].state is AgentState.ON_CALL)
    for mode in ("listen", "whisper", "barge"):
        status, body = await client.call("POST", "/api/agents/1001/monitor",
                                         {"mode": mode, "device": "PJSIP/sup-1"})
        assert status == 202 and body["call_id"] == "c1"
    assert [(r.mode, r.call_id, r.agent_device, r.supervisor_device)
            for r in phones.supervision.requests] == [
        ("listen", "c1", "PJSIP/1001", "PJSIP/sup-1"),
        ("whisper", "c1", "PJSIP/1001", "PJSIP/sup-1"),
        ("barge", "c1", "PJSIP/1001", "PJSIP/sup-1")]
    assert ("sup1", "monitor.barge", "1001/c1", "ok") in await audit_rows(
        daemon.settings.dsn or "")
    status, _ = await client.call("POST", "/api/agents/1001/monitor",
                                  {"mode": "shout", "device": "PJSIP/sup-1"})
    assert status == 400


async def test_an_invalid_config_is_rejected_with_its_reason_and_the_old_one_stays(
        api: tuple[Daemon, Client, Phones]) -> None:
    daemon, client, _ = api
    client.token = await client.login("admin1", "Sekret117")
    flows_before = daemon.acd.flows
    centres = daemon.settings.config / "centres.yaml"
    centres.write_text(centres.read_text().replace("ring_timeout_s: 15", "ring_timout_s: 15",
                                                   1))
    status, body = await client.call("POST", "/api/config/validate")
    assert status == 422 and any("ring_timout_s" in p for p in body["problems"])
    status, body = await client.call("POST", "/api/config/reload")
    assert status == 422 and "centres.yaml:" in body["problems"][0]
    assert daemon.acd.flows is flows_before
    sup = await client.login("sup1", "Sekret117")
    assert (await client.call("POST", "/api/config/reload", token=sup))[0] == 403


async def test_a_reload_applies_new_flows_without_dropping_a_call(
        api: tuple[Daemon, Client, Phones]) -> None:
    daemon, client, phones = api
    client.token = await client.login("admin1", "Sekret117")
    board = daemon.switchboard
    board.post(ev.AgentLoggedIn("1001", "PJSIP/1001"))
    board.post(ev.CallArrived("talk", "+6281234567890", from_region("32.73")))
    board.post(ev.PromptFinished("talk", "welcome"))
    await until(lambda: any(isinstance(c, cmd.RingAgent) for c in phones.done))
    ring = next(c for c in phones.done if isinstance(c, cmd.RingAgent))
    board.post(ev.RingAnswered(ring.offer_id))
    await until(lambda: daemon.acd.agents["1001"].state is AgentState.ON_CALL)
    escalation = daemon.settings.config / "escalation.yaml"
    escalation.write_text(escalation.read_text().replace("after_s: 20", "after_s: 30", 1))
    status, body = await client.call("POST", "/api/config/reload")
    assert status == 200 and body["reloaded"] and body["calls_in_progress"] == 1
    assert daemon.acd.flows.escalation.kabkota.after_s == 30
    assert daemon.acd.calls["talk"].agent_id == "1001"  # still connected
    agents = daemon.settings.config / "agents.yaml"
    agents.write_text("\n".join(line for line in agents.read_text().splitlines()
                                if '"1001"' not in line))
    status, body = await client.call("POST", "/api/config/reload")
    assert status == 409 and "agent 1001 is logged in" in body["conflicts"][0]
    assert "1001" in daemon.acd.agents


async def test_acd117_user_add_stores_a_user_who_can_sign_in(migrated_dsn: str) -> None:
    acd117 = str(Path(sys.executable).parent / "acd117")
    done = subprocess.run([acd117, "user", "add", "op-jkt", "--role", "admin", "--dsn",
                           migrated_dsn], input="Sekret117\n", capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    weak = subprocess.run([acd117, "user", "add", "op-bdg", "--role", "admin", "--dsn",
                           migrated_dsn], input="sekret\n", capture_output=True, text=True,
                          timeout=60)
    assert weak.returncode == 1 and "at least 8 characters" in weak.stderr
    users = Users(PostgresDatabase(migrated_dsn))
    try:
        user = await users.authenticate("op-jkt", "Sekret117")
        assert user is not None and user.role == "admin"
    finally:
        await users.close()
        await users.database.close()


async def test_a_supervisor_pauses_an_agent_and_it_is_audited(
        api: tuple[Daemon, Client, Phones], migrated_dsn: str) -> None:
    daemon, client, _ = api
    daemon.switchboard.post(ev.AgentLoggedIn("1001", "PJSIP/1001"))
    agent = daemon.acd.agents["1001"]
    await until(lambda: agent.state is AgentState.AVAILABLE)
    client.token = await client.login("1001", "Sekret117")
    assert (await client.call("POST", "/api/agents/1001/pause", {"reason": "briefing"}))[0] \
        == 403
    client.token = await client.login("sup1", "Sekret117")
    assert (await client.call("POST", "/api/agents/1001/pause", {"reason": "nap"}))[0] == 422
    assert (await client.call("POST", "/api/agents/7777/pause", {"reason": "break"}))[0] == 404
    status, _ = await client.call("POST", "/api/agents/1001/pause", {"reason": "briefing"})
    assert status == 202
    await until(lambda: agent.state is AgentState.PAUSED and agent.pause_reason == "briefing")
    assert ("sup1", "agent.force_pause", "1001", "ok") in await audit_rows(migrated_dsn)
