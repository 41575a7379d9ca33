"""Retention: delete stored data older than a cut-off.

CDR and recording metadata must be kept at least a year, so the command refuses a shorter
period unless forced. The 15-minute statistics are kept: they are small, and staffing
forecasts need years of history. Recording files themselves belong to the recording store;
this only removes their metadata. Deletes run in chunks, each its own transaction, so a
large purge never holds long locks against the writer.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    import asyncpg

log = structlog.get_logger()

MIN_RETENTION_DAYS = 365
CHUNK_ROWS = 10_000

# Table -> the condition that makes a row older than the cut-off ($1), using an index.
_OLDER_THAN: dict[str, list[str]] = {
    "calls": [
        "arrived_at < $1",
        "arrived_at IS NULL AND wrap_up_ended_at < $1",
    ],
    "call_hops": ["at < $1"],
    "call_offers": ["offered_at < $1"],
    "recordings": ["started_at < $1"],
    "agent_states": ["at < $1"],
    # Open sessions stay whatever their age: the agent is still logged in.
    "agent_sessions": ["login_at < $1 AND logout_at < $1"],
}


async def purge(
    conn: asyncpg.Connection, older_than_days: int, now: float | None = None
) -> dict[str, int]:
    import datetime as dt

    at = time.time() if now is None else now
    cutoff = dt.datetime.fromtimestamp(at - older_than_days * 86400.0, dt.UTC)
    deleted: dict[str, int] = {}
    for table, conditions in _OLDER_THAN.items():
        total = 0
        for condition in conditions:
            sql = (
                f"DELETE FROM {table} WHERE ctid = ANY(ARRAY("
                f"SELECT ctid FROM {table} WHERE {condition} LIMIT {CHUNK_ROWS}))"
            )
            while True:
                status = await conn.execute(sql, cutoff)
                count = int(status.split()[-1])
                total += count
                if count < CHUNK_ROWS:
                    break
        deleted[table] = total
    log.info(
        "store: purge done", older_than_days=older_than_days, cutoff=cutoff.isoformat(), **deleted
    )
    return deleted


async def purge_dsn(dsn: str, older_than_days: int) -> dict[str, int]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        return await purge(conn, older_than_days)
    finally:
        await conn.close()
