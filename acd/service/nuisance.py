"""The nuisance list supervisors keep (sql/013): read at start, written by the API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

LISTED_SQL = """
SELECT number, reason, until, added_by, added_at FROM nuisance_numbers
 WHERE until > $1 ORDER BY added_at DESC
"""


async def in_force(pool: Any, now: float) -> list[dict[str, Any]]:
    rows = await pool.fetch(LISTED_SQL, datetime.fromtimestamp(now, UTC), timeout=5.0)
    return [{"number": r["number"], "reason": r["reason"], "until": r["until"].timestamp(),
             "added_by": r["added_by"], "added_at": r["added_at"].timestamp()} for r in rows]


async def put(pool: Any, number: str, reason: str, until: float, by: str) -> None:
    """List the number (again: a new reason and end replace the old)."""
    await pool.execute(
        "INSERT INTO nuisance_numbers (number, reason, until, added_by) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (number) DO UPDATE SET reason = EXCLUDED.reason,"
        " until = EXCLUDED.until, added_by = EXCLUDED.added_by, added_at = now()",
        number, reason, datetime.fromtimestamp(until, UTC), by, timeout=5.0)


async def end(pool: Any, number: str, now: float) -> bool:
    """Take the number off now (the row stays, ended); False if it was not listed."""
    status = await pool.execute(
        "UPDATE nuisance_numbers SET until = $2 WHERE number = $1 AND until > $2",
        number, datetime.fromtimestamp(now, UTC), timeout=5.0)
    return bool(status.endswith(" 1"))
