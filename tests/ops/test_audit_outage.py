"""During a database outage an action is answered at once and audited once PostgreSQL is
back: the audit trail goes through the record writer's spool like the call records."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from acd.domain.model import AgentState
from acd.service.settings import EXAMPLE_CONFIG
from acd.store.server import PgServer
from acd.vocabulary import events as ev
from tests.ops.support import audit_log, serving, settings, until
from tests.ops.test_api import FAST, Client, Phones
from tests.store.proxy import PgProxy


@pytest.fixture
async def proxy(pg_server: PgServer) -> AsyncIterator[PgProxy]:
    p = PgProxy(pg_server.host, pg_server.port)
    await p.start()
    try:
        yield p
    finally:
        await p.close()


async def test_a_force_logout_and_a_reload_during_an_outage_are_answered_and_audited_later(
        tmp_path: Path, pg_server: PgServer, pg_schema: str, migrated_dsn: str,
        proxy: PgProxy) -> None:
    config = tmp_path / "flows"
    shutil.copytree(EXAMPLE_CONFIG, config)
    dsn = pg_server.dsn_via(proxy.host, proxy.port, pg_schema)
    async with serving(settings(tmp_path, dsn, config=config), simulate=False,
                       telephony=Phones()) as daemon, aiohttp.ClientSession() as s:
        assert daemon.users is not None
        daemon.users.hasher = FAST
        await daemon.users.add("sup1", "Sekret117", "supervisor")
        await daemon.users.add("admin1", "Sekret117", "admin")
        client = Client(s, daemon.url)
        sup = await client.login("sup1", "Sekret117")
        admin = await client.login("admin1", "Sekret117")
        daemon.switchboard.post(ev.AgentLoggedIn("1002", "PJSIP/1002"))
        await until(lambda: daemon.acd.agents["1002"].state is AgentState.AVAILABLE)
        await proxy.down()
        started = time.monotonic()
        status, _ = await client.call("POST", "/api/agents/1002/logout", token=sup)
        assert status == 202 and time.monotonic() - started < 2.0
        await until(lambda: daemon.acd.agents["1002"].state is AgentState.LOGGED_OUT)
        started = time.monotonic()
        status, body = await client.call("POST", "/api/config/reload", token=admin)
        assert status == 200 and body["reloaded"] and time.monotonic() - started < 5.0
        await proxy.up()
        writer = daemon.writer
        assert writer is not None
        await until(lambda: writer.stats.backlog == 0 and writer.stats.connected, timeout=30)
        rows = await audit_log(migrated_dsn)
    assert rows.count(("sup1", "agent.force_logout", "1002", "ok")) == 1
    assert rows.count(("admin1", "config.reload", str(config), "ok")) == 1


async def test_a_sign_in_during_an_outage_is_a_fast_503_with_retry_after(
        tmp_path: Path, pg_server: PgServer, pg_schema: str, migrated_dsn: str,
        proxy: PgProxy) -> None:
    dsn = pg_server.dsn_via(proxy.host, proxy.port, pg_schema)
    async with serving(settings(tmp_path, dsn), simulate=False, telephony=Phones()) as daemon, \
            aiohttp.ClientSession() as s:
        assert daemon.users is not None
        daemon.users.hasher = FAST
        await daemon.users.add("sup1", "Sekret117", "supervisor")
        await Client(s, daemon.url).login("sup1", "Sekret117")
        await proxy.down()
        started = time.monotonic()
        async with s.post(daemon.url + "/api/login",
                          json={"username": "sup1", "password": "Sekret117"}) as r:
            status, retry, body = r.status, r.headers.get("Retry-After"), await r.json()
        assert status == 503 and retry == "5" and "database is unavailable" in body["error"]
        assert time.monotonic() - started < 6.0


async def test_sign_ins_to_a_database_that_stopped_answering_are_503s_not_hangs(
        tmp_path: Path, pg_server: PgServer, pg_schema: str, migrated_dsn: str,
        proxy: PgProxy) -> None:
    dsn = pg_server.dsn_via(proxy.host, proxy.port, pg_schema)
    async with serving(settings(tmp_path, dsn), simulate=False, telephony=Phones()) as daemon, \
            aiohttp.ClientSession() as s:
        assert daemon.users is not None
        daemon.users.hasher = FAST
        await daemon.users.add("sup1", "Sekret117", "supervisor")
        await Client(s, daemon.url).login("sup1", "Sekret117")  # a pooled connection is open
        proxy.stall()

        async def sign_in(password: str) -> int:
            async with s.post(daemon.url + "/api/login",
                              json={"username": "sup1", "password": password}) as r:
                return r.status

        # Without a bound, the first waited on its connection for as long as TCP keeps it.
        # (Four: a fifth guess at once would be refused by the lockout, a 429.)
        try:
            async with asyncio.timeout(20):
                statuses = await asyncio.gather(*(sign_in(f"Wrong{i}pass") for i in range(4)))
        finally:
            await proxy.up()
        assert statuses == [503] * 4
        async with asyncio.timeout(20):
            while (status := await sign_in("Sekret117")) == 503:
                await asyncio.sleep(0.5)
        assert status == 200, "no guess was counted against the account while it was down"
