"""The writer: records reach PostgreSQL off the call path, and when the database cannot
take them they wait in the spool, in order, until it can."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

import asyncpg
import pytest
from structlog.testing import capture_logs

from acd.store.codec import StoreRecord
from acd.store.migrate import migrate_dsn
from acd.store.server import PgServer
from acd.store.spool import Spool
from acd.vocabulary.records import CallEnded, TierHop
from acd.vocabulary.tiers import Tier
from tests.store.db import counts, expected_counts, snapshot, write
from tests.store.helpers import asterisk_daemon, drained, unreachable_dsn, wait_until, writer
from tests.store.streams import stream


async def test_submitted_records_are_written_to_postgres(migrated_dsn: str, tmp_path: Path) -> None:
    records = list(stream(200))
    async with writer(migrated_dsn, tmp_path) as w:
        for r in records:
            w.submit(r)
        await drained(w)
        stats = w.stats
    assert stats.committed_records == len(records) and stats.spool_records == 0
    assert stats.connected and stats.last_error is None
    got = await counts(migrated_dsn)
    for table, n in expected_counts(records).items():
        assert got[table] == n


async def test_submit_returns_at_once_even_with_the_database_unreachable(tmp_path: Path) -> None:
    records = list(stream(300))
    async with writer(unreachable_dsn(), tmp_path, queue_size=500) as w:
        started = time.perf_counter()
        for r in records:
            w.submit(r)
        elapsed = time.perf_counter() - started
        await wait_until(lambda: w.spooled_total == len(records), what="records spooled")
        stats = w.stats
        assert not stats.connected and stats.last_error is not None
        assert stats.spool_records == len(records) and stats.spool_bytes > 0
    # ~3,700 records; far below what a blocking call path would take with retries.
    assert elapsed < 1.0


async def test_a_full_queue_sends_records_to_the_spool_instead_of_dropping_them(
    migrated_dsn: str, tmp_path: Path
) -> None:
    records = list(stream(300))
    async with writer(migrated_dsn, tmp_path, queue_size=50) as w:
        for r in records:  # no await: the writer cannot run, the queue overflows
            w.submit(r)
        assert w.stats.overflowed_records > len(records) // 2
        assert w.stats.queue_depth <= 50
        await drained(w)
        assert w.stats.dropped_records == 0
    got = await counts(migrated_dsn)
    for table, n in expected_counts(records).items():
        assert got[table] == n


async def test_records_spooled_while_the_database_was_down_are_replayed_on_the_next_start(
    migrated_dsn: str, pg_server: PgServer, tmp_path: Path
) -> None:
    records = list(stream(150))
    async with writer(unreachable_dsn(), tmp_path) as w:
        for r in records:
            w.submit(r)
        await wait_until(lambda: w.spooled_total == len(records))
    with capture_logs() as logs:
        async with writer(migrated_dsn, tmp_path) as w2:
            await drained(w2)
    assert any(
        e["event"] == "store: replaying spooled records" and e["records"] == len(records)
        for e in logs
    )
    # Exactly once: the same rows as writing the stream directly into a fresh schema.
    got = await counts(migrated_dsn)
    for table, n in expected_counts(records).items():
        assert got[table] == n


def refused(call_id: str = "c-bad") -> CallEnded:
    """A record PostgreSQL refuses for good: its outcome breaks the calls table's CHECK."""
    return CallEnded(call_id, "lost", 1.0, None, 2.0, Tier.KABKOTA, "k", None,  # type: ignore[arg-type]
                     1.0, 0.0, 0.0, 0)


async def test_a_record_the_database_refuses_is_set_aside_and_the_rest_written(
    migrated_dsn: str, tmp_path: Path
) -> None:
    records = list(stream(40))
    async with writer(migrated_dsn, tmp_path) as w:
        for r in records[:200]:
            w.submit(r)
        w.submit(refused())
        for r in records[200:]:
            w.submit(r)
        await drained(w)
        assert w.stats.rejected_records == 1
    (entry,) = (tmp_path / "rejected.jsonl").read_text().splitlines()
    kept = json.loads(entry)
    assert "c-bad" in kept["line"] and "check constraint" in kept["error"]
    got = await counts(migrated_dsn)
    for table, n in expected_counts(records).items():
        assert got[table] == n


async def test_a_refused_record_is_counted_in_the_metrics_and_the_records_behind_it_written(
    migrated_dsn: str, tmp_path: Path
) -> None:
    daemon = asterisk_daemon(tmp_path, migrated_dsn)
    w = daemon.writer
    assert w is not None
    records = list(stream(10))
    async with w:
        for r in [*records[:20], refused(), *records[20:]]:
            w.submit(r)
        await drained(w)
    assert "acd117_records_rejected_total 1.0" in daemon.metrics.exposition().decode()
    assert "c-bad" in (tmp_path / "spool" / "rejected.jsonl").read_text()
    got = await counts(migrated_dsn)
    for table, n in expected_counts(records).items():
        assert got[table] == n


async def test_an_outage_while_a_refused_record_is_isolated_keeps_and_counts_it_once(
    migrated_dsn: str, tmp_path: Path
) -> None:
    records = [refused(), *stream(3)]
    w = writer(migrated_dsn, tmp_path)
    apply = w._apply
    cut: list[bool] = []

    async def connection_lost_once_after_a_rejection(batch: Sequence[StoreRecord]) -> None:
        if w.stats.rejected_records and not cut:
            cut.append(True)
            raise ConnectionResetError("connection lost mid-isolation")
        await apply(batch)

    w._apply = connection_lost_once_after_a_rejection  # type: ignore[method-assign]
    async with w:
        for r in records:  # one batch: submitted before the writer first runs
            w.submit(r)
        await drained(w)
        assert cut and w.stats.rejected_records == 1
    assert len((tmp_path / "rejected.jsonl").read_text().splitlines()) == 1
    got = await counts(migrated_dsn)
    for table, n in expected_counts(records[1:]).items():
        assert got[table] == n


async def test_a_value_too_big_for_its_index_is_set_aside_instead_of_blocking_the_writer(
    migrated_dsn: str, tmp_path: Path
) -> None:
    # PostgreSQL refuses it for good (54000, program limit exceeded), like bad data.
    huge = TierHop(os.urandom(10_000).hex(), Tier.KABKOTA, "bpbd-32.73", "arrival", 1.0)
    records = list(stream(5))
    async with writer(migrated_dsn, tmp_path) as w:
        for r in [huge, *records]:
            w.submit(r)
        await drained(w, timeout=10.0)
        assert w.stats.rejected_records == 1
    assert "index row" in (tmp_path / "rejected.jsonl").read_text()
    got = await counts(migrated_dsn)
    for table, n in expected_counts(records).items():
        assert got[table] == n


async def test_stop_with_the_database_down_returns_promptly_and_keeps_the_backlog(
    tmp_path: Path,
) -> None:
    w = writer(unreachable_dsn(), tmp_path, retry_initial_s=5.0)
    await w.start()
    for r in stream(20):
        w.submit(r)
    await wait_until(lambda: w.stats.spool_records > 0 and w.stats.last_error is not None)
    started = time.perf_counter()
    await w.stop(drain_timeout_s=5.0)
    assert time.perf_counter() - started < 1.0
    with pytest.raises(RuntimeError):
        w.submit(next(iter(stream(1))))


async def test_an_unmigrated_database_is_reported_and_written_once_migrated(
    pg_dsn: str, tmp_path: Path
) -> None:
    records = list(stream(20))
    with capture_logs() as logs:
        async with writer(pg_dsn, tmp_path) as w:
            for r in records:
                w.submit(r)
            await wait_until(lambda: "acd117 migrate" in (w.stats.last_error or ""))
            assert not w.stats.connected
            await migrate_dsn(pg_dsn)
            await drained(w)
    events = [e["event"] for e in logs]
    assert "store: database unavailable; records stay in the spool" in events
    assert "store: database connected" in events
    assert "store: backlog written, spool empty" in events
    got = await counts(pg_dsn)
    assert got["calls"] == expected_counts(records)["calls"]


async def test_the_run_coroutine_serves_a_supervisor_that_owns_the_task(
    migrated_dsn: str, tmp_path: Path
) -> None:
    records = list(stream(30))
    w = writer(migrated_dsn, tmp_path)
    async with asyncio.TaskGroup() as tg:
        tg.create_task(w.run())
        for r in records:
            w.submit(r)
        await drained(w)
        await w.stop()
    assert w.stats.committed_records == len(records)


async def test_writing_through_the_writer_equals_writing_directly(
    migrated_dsn: str, pg_server: PgServer, tmp_path: Path
) -> None:
    records = list(stream(120, seed=9))
    async with writer(migrated_dsn, tmp_path, batch_size=64) as w:
        for i, r in enumerate(records):
            w.submit(r)
            if i % 100 == 0:
                await asyncio.sleep(0)
        await drained(w)
    conn = await asyncpg.connect(pg_server.dsn)
    schema = f"acd117_t_ref_{int(time.time() * 1e6)}"
    await conn.execute(f"CREATE SCHEMA {schema}")
    try:
        ref = pg_server.dsn_for_schema(schema)
        await migrate_dsn(ref)
        await write(ref, records)
        assert await snapshot(migrated_dsn) == await snapshot(ref)
    finally:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await conn.close()


async def test_a_record_that_cannot_be_journalled_is_set_aside_and_the_rest_written(
    migrated_dsn: str, tmp_path: Path
) -> None:
    records = list(stream(20))
    broken = TierHop("c-nan", Tier.KABKOTA, "bpbd-32.73", "arrival", float("nan"))
    async with writer(migrated_dsn, tmp_path) as w:
        for r in records[:50]:
            w.submit(r)
        w.submit(broken)
        for r in records[50:]:
            w.submit(r)
        await drained(w)
        assert w.stats.rejected_records == 1
    assert "c-nan" in (tmp_path / "rejected.jsonl").read_text()
    got = await counts(migrated_dsn)
    for table, n in expected_counts(records).items():
        assert got[table] == n


async def test_a_cancelled_writer_leaves_what_was_queued_in_the_spool(tmp_path: Path) -> None:
    records = list(stream(30))
    w = writer(unreachable_dsn(), tmp_path)
    task = asyncio.create_task(w.run())
    await asyncio.sleep(0.05)
    for r in records:
        w.submit(r)  # queued; the writer is cancelled before it runs again
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    spool = Spool(tmp_path)
    assert spool.pending_records == len(records)
    spool.close()


async def test_after_an_unexpected_failure_the_writer_runs_again_and_loses_nothing(
        migrated_dsn: str, tmp_path: Path) -> None:
    records = list(stream(50))
    w = writer(migrated_dsn, tmp_path)
    flush = w._flush
    failed = []

    async def fails_once(spool: Spool) -> None:
        if not failed:
            failed.append(True)
            raise OSError("disk hiccup")
        await flush(spool)

    w._flush = fails_once  # type: ignore[method-assign]
    with pytest.raises(ExceptionGroup):
        await w.run()  # as the supervisor would see it fail
    for r in records:
        w.submit(r)  # still taken: only a requested stop closes the writer
    task = asyncio.create_task(w.run())  # the supervisor's restart
    try:
        await drained(w)
    finally:
        await w.stop()
        await task
    assert (await counts(migrated_dsn))["call_hops"] == expected_counts(records)["call_hops"]
