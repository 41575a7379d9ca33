"""Faults: connections dropped mid-batch, a commit whose acknowledgement never arrives, the
server gone, unanswering or too slow for a while, and acd117 killed with a spool on disk.
In every case each record ends up in PostgreSQL exactly once: the tables equal those of the
same records written once, directly, into a fresh schema."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from structlog.testing import capture_logs

from acd.store.codec import StoreRecord
from acd.store.server import PgServer
from acd.store.spool import Spool
from tests.store.db import reference_snapshot, snapshot
from tests.store.helpers import drained, unreachable_dsn, wait_until, writer
from tests.store.proxy import PgProxy
from tests.store.streams import stream

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def proxy(pg_server: PgServer) -> AsyncIterator[PgProxy]:
    p = PgProxy(pg_server.host, pg_server.port)
    await p.start()
    try:
        yield p
    finally:
        await p.close()


def via(pg_server: PgServer, proxy: PgProxy, schema: str) -> str:
    return pg_server.dsn_via(proxy.host, proxy.port, schema)


async def assert_exactly_once(pg_server: PgServer, dsn: str, records: list[StoreRecord]) -> None:
    expected = await reference_snapshot(pg_server.dsn, pg_server.dsn_for_schema, records)
    got = await snapshot(dsn)
    for table in expected:
        assert got[table] == expected[table], table


async def submit_slowly(w: Any, records: list[StoreRecord], every: int = 200) -> None:
    for i, r in enumerate(records):
        w.submit(r)
        if i % every == every - 1:
            await asyncio.sleep(0.01)


# ----- through the proxy ---------------------------------------------------------------


async def test_connections_cut_mid_batch_lose_and_duplicate_nothing(
    pg_server: PgServer, pg_schema: str, migrated_dsn: str, proxy: PgProxy, tmp_path: Path
) -> None:
    records = list(stream(600, seed=11))
    async with writer(via(pg_server, proxy, pg_schema), tmp_path, batch_size=500) as w:
        feeding = asyncio.create_task(submit_slowly(w, records))
        for _ in range(4):
            await wait_until(lambda: w.stats.connected, what="a connection")
            proxy.cut_after(30_000)  # well inside one 500-record batch
            await wait_until(lambda: proxy._cut_budget is None, what="the cut")
        await feeding
        await drained(w)
        assert w.stats.last_error is not None
    assert proxy.cuts >= 4
    await assert_exactly_once(pg_server, migrated_dsn, records)


async def test_a_commit_whose_acknowledgement_is_lost_is_replayed_without_duplicates(
    pg_server: PgServer, pg_schema: str, migrated_dsn: str, proxy: PgProxy, tmp_path: Path
) -> None:
    records = list(stream(200, seed=12))
    proxy.cut_next_commit_reply()
    async with writer(via(pg_server, proxy, pg_schema), tmp_path, batch_size=300) as w:
        await submit_slowly(w, records)
        await drained(w)
    assert proxy.commits_cut == 1
    await assert_exactly_once(pg_server, migrated_dsn, records)


async def test_records_wait_in_the_spool_while_the_server_is_down_and_follow_when_back(
    pg_server: PgServer, pg_schema: str, migrated_dsn: str, proxy: PgProxy, tmp_path: Path
) -> None:
    records = list(stream(400, seed=13))
    half = len(records) // 2
    with capture_logs() as logs:
        async with writer(via(pg_server, proxy, pg_schema), tmp_path) as w:
            await submit_slowly(w, records[:100])
            await drained(w)
            await proxy.down()
            await submit_slowly(w, records[100:half])
            await wait_until(lambda: not w.stats.connected and w.spooled_total == half)
            await asyncio.sleep(1.0)  # down for a while: retries, backoff
            assert w.stats.spool_records > 0 and w.stats.backlog >= half - 100
            await proxy.up()
            await submit_slowly(w, records[half:])
            await drained(w)
    events = [e["event"] for e in logs]
    assert events.count("store: database unavailable; records stay in the spool") == 1
    assert "store: backlog written, spool empty" in events
    await assert_exactly_once(pg_server, migrated_dsn, records)


async def test_a_server_that_accepts_but_never_answers_is_treated_as_down(
    pg_server: PgServer, pg_schema: str, migrated_dsn: str, proxy: PgProxy, tmp_path: Path
) -> None:
    records = list(stream(150, seed=14))
    proxy.blackhole = True
    async with writer(
        via(pg_server, proxy, pg_schema), tmp_path, connect_timeout_s=0.3, write_timeout_s=1.0
    ) as w:
        await submit_slowly(w, records)
        await wait_until(lambda: "Timeout" in (w.stats.last_error or ""), what="a timeout")
        assert not w.stats.connected
        await proxy.up()
        await drained(w)
    await assert_exactly_once(pg_server, migrated_dsn, records)


async def test_a_database_too_slow_to_commit_is_given_up_on_and_retried(
    pg_server: PgServer, migrated_dsn: str, tmp_path: Path
) -> None:
    records = list(stream(150, seed=15))
    blocker = await asyncpg.connect(migrated_dsn)
    try:
        tx = blocker.transaction()
        await tx.start()
        await blocker.execute("LOCK TABLE call_hops IN ACCESS EXCLUSIVE MODE")
        async with writer(migrated_dsn, tmp_path, write_timeout_s=0.5) as w:
            await submit_slowly(w, records)
            await wait_until(lambda: "Timeout" in (w.stats.last_error or ""), what="a timeout")
            await tx.rollback()
            await drained(w)
    finally:
        await blocker.close()
    await assert_exactly_once(pg_server, migrated_dsn, records)


# ----- acd117 killed -------------------------------------------------------------------


class Child:
    """tests/store/writer_proc.py in a subprocess, with its progress lines parsed."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.last: dict[str, Any] = {}

    @classmethod
    async def start(cls, *args: object) -> Child:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.store.writer_proc",
            *map(str, args),
            cwd=REPO,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        return cls(proc)

    async def until(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30.0
    ) -> None:
        assert self.proc.stdout is not None
        async with asyncio.timeout(timeout):
            while True:
                line = await self.proc.stdout.readline()
                if not line:
                    raise AssertionError(f"writer process exited: {self.proc.returncode}")
                if line.startswith(b"PROGRESS "):
                    self.last = json.loads(line[9:])
                    if predicate(self.last):
                        return

    async def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()
        assert self.proc.returncode == -signal.SIGKILL


async def replay(dsn: str, spool_dir: Path) -> None:
    async with writer(dsn, spool_dir) as w:
        await drained(w)


async def test_killed_with_a_spool_on_disk_every_record_is_written_once_on_restart(
    pg_server: PgServer, migrated_dsn: str, tmp_path: Path
) -> None:
    records = list(stream(300, seed=21))
    child = await Child.start(unreachable_dsn(), tmp_path, 300, 21)
    try:
        await child.until(lambda p: p["spooled"] == len(records))
    finally:
        await child.kill()
    await replay(migrated_dsn, tmp_path)
    await assert_exactly_once(pg_server, migrated_dsn, records)


async def test_killed_mid_replay_the_restart_finishes_without_duplicates(
    pg_server: PgServer, migrated_dsn: str, tmp_path: Path
) -> None:
    records = list(stream(1500, seed=22))
    spool = Spool(tmp_path)
    spool.append(records)
    spool.close()
    child = await Child.start(migrated_dsn, tmp_path, 0, 0, 200)
    try:
        await child.until(lambda p: p["committed"] >= 4000)
    finally:
        await child.kill()
    assert child.last["pending"] > 0, "the replay finished before the kill"
    await replay(migrated_dsn, tmp_path)
    await assert_exactly_once(pg_server, migrated_dsn, records)


async def test_killed_mid_submission_everything_acknowledged_is_written_once(
    pg_server: PgServer, migrated_dsn: str, tmp_path: Path
) -> None:
    records = list(stream(300, seed=23))
    child = await Child.start(unreachable_dsn(), tmp_path, 300, 23, 1000, 0.002)
    try:
        await child.until(lambda p: p["spooled"] >= 1500)
    finally:
        await child.kill()
    acknowledged = child.last["spooled"]
    on_disk = Spool(tmp_path)
    kept = on_disk.pending_records
    on_disk.close()
    assert acknowledged <= kept < len(records)
    await replay(migrated_dsn, tmp_path)
    # The spool is the stream's prefix, in order: exactly that prefix is in the database.
    await assert_exactly_once(pg_server, migrated_dsn, records[:kept])
