"""Retention: CDR and recording metadata are kept a year; older data can be purged."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from acd.cli import main
from acd.store.purge import purge
from acd.vocabulary.records import AgentStateChanged
from tests.store.db import counts, write
from tests.store.streams import stream

DAY = 86400.0


async def fill(dsn: str, now: float) -> None:
    """50 calls 400 days ago, 50 calls 10 days ago, and one agent still logged in."""
    await write(dsn, list(stream(50, seed=1, start=now - 400 * DAY, prefix="old")))
    await write(dsn, list(stream(50, seed=2, start=now - 10 * DAY, prefix="new")))
    await write(
        dsn, [AgentStateChanged("ag-night", "bnpb", "available", None, "PJSIP/n1", now - 500 * DAY)]
    )


async def test_purge_deletes_what_is_older_than_the_cut_off_and_keeps_the_rest(
    migrated_dsn: str,
) -> None:
    now = time.time()
    await fill(migrated_dsn, now)
    before = await counts(migrated_dsn)
    conn = await asyncpg.connect(migrated_dsn)
    try:
        deleted = await purge(conn, 365, now=now)
        remaining_calls = await conn.fetchval("SELECT min(arrived_at) FROM calls")
        open_sessions = await conn.fetchval(
            "SELECT count(*) FROM agent_sessions WHERE logout_at IS NULL"
        )
    finally:
        await conn.close()
    after = await counts(migrated_dsn)
    assert deleted["calls"] == 50 and after["calls"] == 50
    assert remaining_calls.timestamp() > now - 11 * DAY
    for table in ("call_hops", "call_offers", "recordings", "agent_states",
                  "call_classifications"):
        assert 0 < deleted[table] < before[table] and after[table] == before[table] - deleted[table]
    assert open_sessions == 1  # an agent still logged in keeps the session
    # The 15-minute statistics stay: they are the history forecasts are made from.
    assert after["call_intervals"] == before["call_intervals"]


def test_purge_refuses_less_than_a_year_without_force(
    migrated_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["purge", "--older-than-days", "30", "--dsn", migrated_dsn]) == 2
    assert "at least 365 days" in capsys.readouterr().err


async def test_purge_command_with_force_deletes_recent_data_too(migrated_dsn: str) -> None:
    now = time.time()
    await fill(migrated_dsn, now)
    # The command runs its own event loop: call it from a thread, not inside this one.
    status = await asyncio.to_thread(
        main, ["purge", "--older-than-days", "5", "--force", "--dsn", migrated_dsn]
    )
    assert status == 0
    got = await counts(migrated_dsn)
    assert got["calls"] == 0 and got["recordings"] == 0
