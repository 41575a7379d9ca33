"""What the records become in PostgreSQL: one row per fact, and replaying them (in other
batches, duplicated, in any order, a call adopted after a restart) never duplicates."""

from __future__ import annotations

import itertools

import asyncpg
import pytest

from acd.vocabulary.records import (
    TierHop,
)
from acd.vocabulary.tiers import Tier
from tests.store.db import counts, expected_counts, snapshot, write
from tests.store.streams import T0, a_call, stream, ts


async def test_a_realistic_stream_lands_one_row_per_fact(migrated_dsn: str) -> None:
    records = list(stream(400))
    await write(migrated_dsn, records)
    got = await counts(migrated_dsn)
    for table, n in expected_counts(records).items():
        assert got[table] == n, table


async def test_a_call_row_carries_its_ids_caller_ingress_times_outcome_and_durations(
    migrated_dsn: str,
) -> None:
    await write(migrated_dsn, a_call())
    conn = await asyncpg.connect(migrated_dsn)
    try:
        row = await conn.fetchrow("SELECT * FROM calls WHERE call_id = 'c1'")
    finally:
        await conn.close()
    assert row is not None
    assert row["caller_e164"] == "+62812345678" and row["caller_class"] == "standard"
    assert (row["region_code"], row["trunk"], row["did"]) == ("32.73", "telkomsel-1", "117")
    assert row["arrived_at"] == ts(T0 + 100) and row["answered_at"] == ts(T0 + 108)
    assert row["ended_at"] == ts(T0 + 228)
    assert (row["outcome"], row["answer_tier"], row["centre_id"], row["agent_id"]) == (
        "answered",
        "kabkota",
        "bpbd-32.73",
        "ag1",
    )
    assert (row["wait_s"], row["talk_s"], row["hold_s"], row["wrap_up_s"]) == (8, 120, 10, 30)


async def test_replaying_the_whole_stream_in_other_batches_changes_nothing(
    migrated_dsn: str,
) -> None:
    records = list(stream(300, seed=5))
    await write(migrated_dsn, records, batch=97)
    before = await snapshot(migrated_dsn)
    await write(migrated_dsn, records, batch=1000)
    await write(migrated_dsn, records[100:700], batch=31)
    assert await snapshot(migrated_dsn) == before


async def test_duplicates_inside_one_batch_are_absorbed(migrated_dsn: str) -> None:
    records = a_call()
    await write(migrated_dsn, records + records + list(reversed(records)), batch=100)
    rows = await snapshot(migrated_dsn)
    assert len(rows["calls"]) == 1
    assert len(rows["call_hops"]) == 1 and len(rows["call_offers"]) == 1
    (interval,) = rows["call_intervals"]
    assert interval[3:6] == (1, 0, 1)  # offered, escalated, answered


async def test_a_call_adopted_after_a_restart_arrives_once(migrated_dsn: str) -> None:
    # Killed during the welcome, before its facts were on the channel: the next acd117
    # queues the call again and records its arrival a second time, later.
    records = a_call()
    again = TierHop("c1", Tier.KABKOTA, "bpbd-32.73", "arrival", T0 + 140.0)
    await write(migrated_dsn, [*records[:2], again, *records[2:]])
    rows = await snapshot(migrated_dsn)
    assert [(h[3], h[4]) for h in rows["call_hops"]] == [("arrival", ts(T0 + 100.0))]
    (interval,) = rows["call_intervals"]
    assert interval[3:6] == (1, 0, 1)  # offered once, answered


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
async def test_the_call_row_and_its_statistics_do_not_depend_on_record_order(
    order: tuple[int, ...], migrated_dsn: str
) -> None:
    # CallStarted, CallEnded and WrapUpEnded each own their columns: after a crash the
    # CallStarted may be missing or come later, a wrap-up may be replayed before its end.
    started, hop, offer, ended, wrapped = a_call()
    parts = [started, ended, wrapped]
    await write(migrated_dsn, [hop, offer])
    for i in order:
        await write(migrated_dsn, [parts[i]])
    got = await snapshot(migrated_dsn)

    conn = await asyncpg.connect(migrated_dsn)
    try:
        row = await conn.fetchrow("SELECT caller, outcome, wrap_up_s, talk_s FROM calls")
        stats = await conn.fetchrow("SELECT answered, talk_s, wrap_up_s FROM call_intervals")
    finally:
        await conn.close()
    assert tuple(row) == ("0812345678", "answered", 30.0, 120.0)
    assert tuple(stats) == (1, 120.0, 30.0)
    assert len(got["calls"]) == 1


async def test_a_call_end_without_its_start_is_stored_and_completed_later(
    migrated_dsn: str,
) -> None:
    started, hop, offer, ended, wrapped = a_call()
    await write(migrated_dsn, [ended])
    conn = await asyncpg.connect(migrated_dsn)
    try:
        row = await conn.fetchrow("SELECT caller, outcome, arrived_at FROM calls")
        assert (row["caller"], row["outcome"], row["arrived_at"]) == (
            None,
            "answered",
            ts(T0 + 100),
        )
        await write(migrated_dsn, [started, hop, offer, ended, wrapped])
        row = await conn.fetchrow("SELECT caller, outcome, wrap_up_s FROM calls")
        assert tuple(row) == ("0812345678", "answered", 30.0)
        assert await conn.fetchval("SELECT sum(answered) FROM call_intervals") == 1
    finally:
        await conn.close()
