"""The nuisance list supervisors keep: effective from the number's next call, audited,
kept in PostgreSQL across a restart, beside the call flows' own list."""

from __future__ import annotations

import shutil
from pathlib import Path

import aiohttp
import asyncpg

from acd.bootstrap import Daemon
from acd.service.settings import EXAMPLE_CONFIG
from acd.store.server import PgServer
from acd.vocabulary import events as ev
from tests.ops.support import audit_log, serving, settings, until
from tests.ops.test_api import FAST, Client, Phones
from tests.store.proxy import PgProxy
from tests.support import from_region

PRANKSTER = "+6281399998888"


async def class_of_next_call(daemon: Daemon, call_id: str) -> str:
    daemon.switchboard.post(ev.CallArrived(call_id, "081399998888", from_region("32.73")))
    await until(lambda: call_id in daemon.acd.calls)
    return daemon.acd.calls[call_id].caller_class


async def test_a_supervisor_lists_a_number_and_takes_it_off_and_a_restart_keeps_it(
        tmp_path: Path, migrated_dsn: str) -> None:
    config = tmp_path / "flows"
    shutil.copytree(EXAMPLE_CONFIG, config)
    s = settings(tmp_path, migrated_dsn, config=config)
    async with serving(s, simulate=False, telephony=Phones()) as daemon:
        assert daemon.users is not None
        daemon.users.hasher = FAST
        await daemon.users.add("sup1", "Sekret117", "supervisor")
        await daemon.users.add("1001", "Sekret117", "agent")
        async with aiohttp.ClientSession() as http:
            client = Client(http, daemon.url)
            client.token = await client.login("1001", "Sekret117")
            assert (await client.call("GET", "/api/nuisance"))[0] == 403
            client.token = await client.login("sup1", "Sekret117")
            assert await class_of_next_call(daemon, "n1") != "nuisance"
            status, body = await client.call("POST", "/api/nuisance", {
                "number": "0813-9999-8888", "reason": "iseng berulang", "days": 7})
            assert (status, body["number"]) == (201, PRANKSTER)
            assert await class_of_next_call(daemon, "n2") == "nuisance"
            status, body = await client.call("GET", "/api/nuisance")
            assert [(r["number"], r["reason"], r["added_by"]) for r in body["listed"]] == [
                (PRANKSTER, "iseng berulang", "sup1")]
            assert "+6285700000117" in [r["number"] for r in body["call_flows"]]
            assert (await client.call("POST", "/api/nuisance", {
                "number": "anonymous", "reason": "x"}))[0] == 400
            assert (await client.call("POST", "/api/nuisance", {
                "number": PRANKSTER, "reason": "x", "days": 0}))[0] == 400
            assert (await client.call("POST", "/api/nuisance/+6285700000117/remove"))[0] == 409
            assert (await client.call("POST", "/api/nuisance/+6281100000000/remove"))[0] == 404

    async with serving(s, simulate=False, telephony=Phones()) as again:
        assert await class_of_next_call(again, "n3") == "nuisance", "restored at the start"
        assert again.users is not None
        again.users.hasher = FAST
        async with aiohttp.ClientSession() as http:
            client = Client(http, again.url)
            client.token = await client.login("sup1", "Sekret117")
            status, _ = await client.call("POST", f"/api/nuisance/{PRANKSTER}/remove")
            assert status == 200
            assert await class_of_next_call(again, "n4") != "nuisance"
            assert (await client.call("GET", "/api/nuisance"))[1]["listed"] == []
    actions = [(a, o, t) for _u, a, t, o in await audit_log(migrated_dsn)
               if a.startswith("nuisance.")]
    assert actions == [("nuisance.add", "ok", PRANKSTER), ("nuisance.remove", "ok", PRANKSTER)]


async def test_a_list_the_start_could_not_read_is_read_once_the_database_is_back(
        tmp_path: Path, pg_server: PgServer, pg_schema: str, migrated_dsn: str) -> None:
    conn = await asyncpg.connect(migrated_dsn)
    await conn.execute("INSERT INTO nuisance_numbers (number, reason, until, added_by)"
                       " VALUES ($1, 'iseng', now() + interval '7 days', 'sup1')", PRANKSTER)
    await conn.close()
    proxy = PgProxy(pg_server.host, pg_server.port)
    await proxy.start()
    try:
        await proxy.down()
        s = settings(tmp_path, pg_server.dsn_via(proxy.host, proxy.port, pg_schema))
        async with serving(s, simulate=False, telephony=Phones()) as daemon:
            assert daemon.acd.nuisance_listed == {}
            await proxy.up()
            await until(lambda: PRANKSTER in daemon.acd.nuisance_listed, timeout=20)
    finally:
        await proxy.close()
