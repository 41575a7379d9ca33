"""Retention: delete stored data older than a cut-off.

CDR and recording metadata must be kept at least a year, so the command refuses a shorter
period unless forced; by default it keeps what the call flows' `recording.retention_days`
says. The 15-minute statistics are kept: they are small, and staffing forecasts need years
of history. A recording's file goes with its metadata row when it lies in the recordings
folder (ACD117_RECORDINGS_DIR, where acd117 reads and serves them); a path elsewhere is
never deleted. Deletes run in chunks, each its own transaction, so a large purge never holds
long locks against the writer.
"""

from __future__ import annotations

import time
from pathlib import Path
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
    "call_transfers": ["requested_at < $1"],
    "call_classifications": ["classified_at < $1"],
    "recordings": ["started_at < $1"],
    "agent_states": ["at < $1"],
    # Open sessions stay whatever their age: the agent is still logged in.
    "agent_sessions": ["login_at < $1 AND logout_at < $1"],
}


async def purge(
    conn: asyncpg.Connection, older_than_days: int, now: float | None = None,
    recordings_dir: Path | None = None,
) -> dict[str, int]:
    """Rows deleted per table, and `recording_files`: the files removed with their rows
    (only under `recordings_dir`; none without it)."""
    import datetime as dt

    at = time.time() if now is None else now
    cutoff = dt.datetime.fromtimestamp(at - older_than_days * 86400.0, dt.UTC)
    deleted: dict[str, int] = {}
    files = 0
    for table, conditions in _OLDER_THAN.items():
        total = 0
        for condition in conditions:
            sql = (
                f"DELETE FROM {table} WHERE ctid = ANY(ARRAY("
                f"SELECT ctid FROM {table} WHERE {condition} LIMIT {CHUNK_ROWS}))"
            )
            if table == "recordings":
                sql += " RETURNING path"
            while True:
                if table == "recordings":
                    paths = [r["path"] for r in await conn.fetch(sql, cutoff)]
                    count = len(paths)
                    files += _remove_files(paths, recordings_dir)
                else:
                    status = await conn.execute(sql, cutoff)
                    count = int(status.split()[-1])
                total += count
                if count < CHUNK_ROWS:
                    break
        deleted[table] = total
    deleted["recording_files"] = files
    log.info(
        "store: purge done", older_than_days=older_than_days, cutoff=cutoff.isoformat(), **deleted
    )
    return deleted


def _remove_files(paths: list[str], recordings_dir: Path | None) -> int:
    """Remove the files of deleted rows that lie in the recordings folder; the row is gone
    already, so a file that cannot be removed is logged, not retried."""
    if recordings_dir is None:
        return 0
    folder = recordings_dir.resolve()
    removed = 0
    for name in paths:
        path = (folder / name).resolve()  # an absolute path stays itself
        if not path.is_relative_to(folder):
            log.warning("store: purge leaves a recording outside the folder", path=name)
            continue
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
        except OSError as e:
            log.warning("store: purge cannot remove a recording", path=name, error=str(e))
    return removed


async def purge_dsn(dsn: str, older_than_days: int,
                    recordings_dir: Path | None = None) -> dict[str, int]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        return await purge(conn, older_than_days, recordings_dir=recordings_dir)
    finally:
        await conn.close()
