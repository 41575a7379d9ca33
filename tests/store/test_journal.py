"""The journal nothing can lose: one process per spool, and a spool that cannot be written
holds records in memory (not durable, said loudly), retries, and counts any loss."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from acd.store.spool import Spool, SpoolLockedError
from tests.store.db import counts, expected_counts
from tests.store.helpers import drained, unreachable_dsn, wait_until, writer
from tests.store.streams import stream


async def test_a_second_writer_on_the_same_spool_is_refused_and_named(tmp_path: Path) -> None:
    first = writer(unreachable_dsn(), tmp_path)
    first.open()
    try:
        with pytest.raises(SpoolLockedError, match=f"in use by process {os.getpid()}"):
            writer(unreachable_dsn(), tmp_path).open()
    finally:
        await first.stop()  # never started: closes nothing it does not own
    assert first.stats.dropped_records == 0


def blocked_folder(tmp_path: Path) -> Path:
    """A spool folder that cannot be made: a plain file stands where its parent should."""
    (tmp_path / "not-a-folder").write_text("")
    return tmp_path / "not-a-folder" / "spool"


async def test_a_spool_that_cannot_be_made_holds_records_and_journals_them_once_it_can(
        migrated_dsn: str, tmp_path: Path) -> None:
    spool_dir = blocked_folder(tmp_path)
    records = list(stream(3_000))
    w = writer(migrated_dsn, spool_dir, queue_size=500, spool_retry_s=0.05)
    with capture_logs() as logs:
        w.open()
        await w.start()
        for r in records:
            w.submit(r)  # past the queue: held, not thrown away
        stats = w.stats
        assert not stats.durable and stats.dropped_records == 0
        assert stats.held_records + stats.queue_depth == len(records)
        assert stats.backlog == len(records)
        (tmp_path / "not-a-folder").unlink()  # the admin fixes the folder
        await wait_until(lambda: w.stats.durable, what="the spool writable again")
        await drained(w)
        await w.stop()
    assert w.stats.dropped_records == 0
    assert any(e["log_level"] == "error" and "held in memory" in e["event"] for e in logs)
    got = await counts(migrated_dsn)
    for table, n in expected_counts(records).items():
        assert got[table] == n


async def test_records_held_in_memory_at_stop_are_counted_as_lost(tmp_path: Path) -> None:
    w = writer(unreachable_dsn(), blocked_folder(tmp_path), queue_size=100,
               spool_retry_s=0.05)
    w.open()
    await w.start()
    records = list(stream(40))
    for r in records:
        w.submit(r)
    with capture_logs() as logs:
        await w.stop()
    assert w.stats.dropped_records == len(records)
    assert w.stats.held_records == 0
    assert any(e["event"] == "store: records lost" for e in logs)


async def test_past_the_memory_bound_the_oldest_are_lost_and_counted(tmp_path: Path) -> None:
    w = writer(unreachable_dsn(), blocked_folder(tmp_path), queue_size=10,
               max_held_records=100)
    records = list(stream(30))
    for r in records:
        w.submit(r)
    stats = w.stats
    assert stats.held_records + stats.queue_depth <= 110
    assert stats.dropped_records == len(records) - stats.held_records - stats.queue_depth
    assert stats.dropped_records > 0


async def test_a_disk_that_fails_mid_run_holds_records_instead_of_dropping_them(
        tmp_path: Path) -> None:
    w = writer(unreachable_dsn(), tmp_path, spool_retry_s=0.05)
    await w.start()
    spool = w._spool
    assert isinstance(spool, Spool)
    append = spool.append
    spool.append = lambda records: (_ for _ in ()).throw(OSError(28, "No space left"))  # type: ignore[method-assign]
    records = list(stream(20))
    for r in records:
        w.submit(r)
    await wait_until(lambda: not w.stats.durable, what="the spool failing")
    assert w.stats.dropped_records == 0 and w.stats.held_records > 0
    spool.append = append  # type: ignore[method-assign]
    await wait_until(lambda: w.spooled_total >= len(records) and w.stats.durable,
                     what="records journalled")
    await w.stop()
    assert w.stats.dropped_records == 0
