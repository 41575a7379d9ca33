"""A restart — planned (SIGTERM), or a crash (SIGKILL) — logs nobody out: agents come back
logged in at the same devices, paused with their reasons, before the calls still waiting
in Asterisk are re-adopted; and everyone signed in to the HTTP API stays signed in."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from structlog.testing import capture_logs

from acd.bootstrap import Daemon, bootstrap
from acd.domain.model import AgentState, CallState
from acd.service.ports import TelephonyBase
from acd.service.settings import EXAMPLE_CONFIG, Settings
from acd.store.logins import LOGINS_FILE
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from acd.vocabulary.tiers import Tier
from tests.fakes.asterisk import FakeAsterisk
from tests.ops.support import serving, settings, until
from tests.store.helpers import unreachable_dsn

REPO = Path(__file__).resolve().parents[2]
BANDUNG = [("X-Cell-Region", "32.73")]


class Quiet(TelephonyBase):
    """Telephony that connects nowhere and drops the commands."""

    async def execute(self, command: cmd.Command) -> None:
        pass


def restarted(s: Settings) -> Any:
    return serving(s, simulate=False, telephony=Quiet())


def logged_in(daemon: Daemon) -> dict[str, tuple[str | None, str, str | None]]:
    return {a.id: (a.device, a.state.value, a.pause_reason)
            for a in daemon.acd.agents.values() if a.state is not AgentState.LOGGED_OUT}


async def log_in_and_pause(daemon: Daemon) -> None:
    daemon.switchboard.post(ev.AgentLoggedIn("1001", "PJSIP/desk-7"))
    daemon.switchboard.post(ev.AgentLoggedIn("9001", "PJSIP/9001"))
    daemon.switchboard.post(ev.AgentPaused("9001", "briefing"))
    await until(lambda: daemon.acd.agents["9001"].state is AgentState.PAUSED)


BEFORE = {"1001": ("PJSIP/desk-7", "available", None), "9001": ("PJSIP/9001", "paused",
                                                                  "briefing")}


async def fetch(dsn: str, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


async def test_a_stopped_daemon_restarts_with_its_agents_logged_in_where_they_were(
        tmp_path: Path, migrated_dsn: str) -> None:
    s = settings(tmp_path, migrated_dsn)
    async with restarted(s) as first:
        await log_in_and_pause(first)
    with capture_logs() as logs:
        async with restarted(s) as second:
            assert logged_in(second) == BEFORE
            assert second.acd.agent_at("PJSIP/desk-7") == "1001"
    [restored] = [x for x in logs if x["event"] == "agent logins restored"]
    assert (restored["log_level"], restored["agents"], restored["paused"]) == ("info", 2, 1)
    assert restored["source"] == "database+spool"
    # No second login: each agent's session, opened at the first login, carries on.
    sessions = await fetch(migrated_dsn, "SELECT agent_id, logout_at, device FROM "
                                         "agent_sessions ORDER BY agent_id")
    assert [tuple(r) for r in sessions] == [("1001", None, "PJSIP/desk-7"),
                                            ("9001", None, "PJSIP/9001")]
    latest = await fetch(migrated_dsn, "SELECT DISTINCT ON (agent_id) agent_id, state, reason "
                                       "FROM agent_states ORDER BY agent_id, at DESC, seq DESC")
    assert [tuple(r) for r in latest] == [("1001", "available", "restored"),
                                          ("9001", "paused", "briefing")]


async def test_an_agent_removed_from_the_call_flows_meanwhile_is_skipped_with_a_warning(
        tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(EXAMPLE_CONFIG, flows)
    s = settings(tmp_path, config=flows)
    async with restarted(s) as first:
        await log_in_and_pause(first)
    agents = flows / "agents.yaml"
    agents.write_text("".join(line for line in agents.read_text().splitlines(True)
                              if 'id: "1001"' not in line))
    with capture_logs() as logs:
        async with restarted(s) as second:
            assert logged_in(second) == {"9001": BEFORE["9001"]}
    [warning] = [x for x in logs if x.get("alert") == "login_not_restored"]
    assert warning["log_level"] == "warning" and "agent 1001" in warning["event"]
    [restored] = [x for x in logs if x["event"] == "agent logins restored"]
    assert (restored["agents"], restored["skipped"]) == (1, 1)


async def test_after_kill_9_the_logins_still_only_in_the_spool_are_restored(
        tmp_path: Path, migrated_dsn: str) -> None:
    # The database is down while the first daemon runs: its records stay in the spool.
    down = settings(tmp_path, unreachable_dsn())
    events = [["login", "1001", "PJSIP/desk-7"], ["login", "9001", "PJSIP/9001"],
              ["pause", "9001", "briefing"]]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.ops.daemon_proc", down.model_dump_json(),
        json.dumps(events), "3", cwd=REPO, stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.stdout is not None
    async with asyncio.timeout(30):
        while (line := await proc.stdout.readline()) != b"READY\n":
            assert line, "the daemon process ended early"
    proc.send_signal(signal.SIGKILL)
    assert await proc.wait() == -signal.SIGKILL
    (s := settings(tmp_path, migrated_dsn)).spool_dir.joinpath(LOGINS_FILE).unlink(
        missing_ok=True)  # the spool alone must tell
    assert await fetch(migrated_dsn, "SELECT * FROM agent_states") == []

    with capture_logs() as logs:
        async with restarted(s) as second:
            assert logged_in(second) == BEFORE
            await until(lambda: second.writer is not None
                        and second.writer.stats.spool_records == 0)
    assert [x["source"] for x in logs if x["event"] == "agent logins restored"] == [
        "database+spool"]
    sessions = await fetch(migrated_dsn, "SELECT agent_id FROM agent_sessions "
                                         "WHERE logout_at IS NULL ORDER BY agent_id")
    assert [r["agent_id"] for r in sessions] == ["1001", "9001"]


async def test_without_a_database_the_logins_file_keeps_them(tmp_path: Path) -> None:
    s = settings(tmp_path)
    async with restarted(s) as first:
        await log_in_and_pause(first)
    async with restarted(s) as second:
        assert logged_in(second) == BEFORE
        second.switchboard.post(ev.AgentLoggedOut("1001"))
        await until(lambda: second.acd.agents["1001"].state is AgentState.LOGGED_OUT)
    async with restarted(s) as third:
        assert logged_in(third) == {"9001": BEFORE["9001"]}


async def test_with_the_database_down_at_start_the_logins_file_and_the_spool_tell(
        tmp_path: Path, migrated_dsn: str) -> None:
    s = settings(tmp_path, migrated_dsn)
    async with restarted(s) as first:
        await log_in_and_pause(first)
    with capture_logs() as logs:
        async with restarted(settings(tmp_path, unreachable_dsn())) as second:
            assert logged_in(second) == BEFORE
    assert [x["source"] for x in logs if x["event"] == "agent logins restored"] == [
        "file+spool"]


async def test_a_call_waiting_in_asterisk_goes_after_the_restart_to_an_agent_restored(
        tmp_path: Path, migrated_dsn: str) -> None:
    async with FakeAsterisk(time_scale=0.3) as peer:
        s = settings(tmp_path, migrated_dsn, ari_url=peer.ari_url, ari_user=peer.ari_user,
                     ari_password=peer.ari_password, ami_host="127.0.0.1",
                     ami_port=peer.ami_port, ami_user=peer.ami_user,
                     ami_secret=peer.ami_secret)
        peer.register("PJSIP/9001")
        first = bootstrap(s)
        async with first.serving():
            await until(lambda: first.health.get("ari") is not None
                        and first.health.get("ari").up)  # type: ignore[union-attr]
            first.switchboard.post(ev.AgentLoggedIn("9001", "PJSIP/9001"))
            first.switchboard.post(ev.AgentPaused("9001", "briefing"))
            call = await peer.incoming_call(headers=BANDUNG)
            assert call
            await until(lambda: peer.channels[call].variables.get("ACD117_TIER")
                        == "national", timeout=10)
        assert not peer.channels[call].gone, "the caller waits in Stasis meanwhile"

        second = bootstrap(s)
        async with second.serving():
            await until(lambda: call in second.acd.calls, timeout=10)
            adopted = second.acd.calls[call]
            assert (adopted.state, adopted.hops[-1].tier) == (CallState.QUEUED, Tier.NATIONAL)
            agent = second.acd.agents["9001"]
            assert (agent.state, agent.device, agent.pause_reason) == (
                AgentState.PAUSED, "PJSIP/9001", "briefing")
            second.switchboard.post(ev.AgentUnpaused("9001"))  # back from the briefing
            await until(lambda: second.acd.calls[call].state is CallState.CONNECTED,
                        timeout=10)
            assert second.acd.calls[call].agent_id == "9001"
        rung = [r.query["endpoint"] for r in peer.requests_to("POST", "/ari/channels")]
        assert rung == ["PJSIP/9001"], "rung once, after the pause, and never logged in again"


async def test_an_http_session_survives_a_restart_and_signing_out_ends_it_for_good(
        tmp_path: Path, migrated_dsn: str) -> None:
    s = settings(tmp_path, migrated_dsn)

    async def me(daemon: Daemon, token: str) -> int:
        async with aiohttp.ClientSession() as c, c.get(
                daemon.url + "/api/me", headers={"Authorization": f"Bearer {token}"}) as r:
            return r.status

    async with restarted(s) as first:
        assert first.users is not None
        await first.users.add("sup5", "Sekret117", "supervisor")
        async with aiohttp.ClientSession() as c, c.post(
                first.url + "/api/login", json={"username": "sup5",
                                               "password": "Sekret117"}) as r:
            assert r.status == 200
            token = (await r.json())["token"]
    stored = await fetch(migrated_dsn, "SELECT token_sha256, username FROM api_sessions")
    assert [tuple(r) for r in stored] == [(hashlib.sha256(token.encode()).hexdigest(), "sup5")]

    async with restarted(s) as second:
        assert await me(second, token) == 200
        async with aiohttp.ClientSession() as c, c.post(
                second.url + "/api/logout", headers={"Authorization": f"Bearer {token}"}) as r:
            assert r.status == 200
        assert await me(second, token) == 401
    assert await fetch(migrated_dsn, "SELECT * FROM api_sessions") == []
    async with restarted(s) as third:
        assert await me(third, token) == 401
