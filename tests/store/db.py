"""Helpers for tests that read what the store wrote."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from acd.store.codec import StoreRecord
from acd.store.rows import apply_batch
from acd.vocabulary.records import CallEnded, CallStarted, WrapUpEnded

TABLES = (
    "calls",
    "call_hops",
    "call_offers",
    "agent_states",
    "agent_sessions",
    "recordings",
    "call_intervals",
    "call_classifications",
)


async def write(dsn: str, records: Sequence[StoreRecord], batch: int = 500) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for i in range(0, len(records), batch):
            await apply_batch(conn, records[i : i + batch])
    finally:
        await conn.close()


async def snapshot(dsn: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every store table, in a stable order (float sums rounded: the order
    in which a replay adds them may differ in the last bits)."""
    conn = await asyncpg.connect(dsn)
    try:
        out: dict[str, list[tuple[Any, ...]]] = {}
        for table in TABLES:
            rows = await conn.fetch(f"SELECT * FROM {table}")
            out[table] = sorted(
                (
                    tuple(
                        round(v, 6) if isinstance(v, float) else v
                        for k, v in r.items()
                        # when and in which order a row was written, not facts
                        if k not in ("stored_at", "seq")
                    )
                    for r in rows
                ),
                key=repr,
            )
        return out
    finally:
        await conn.close()


async def counts(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        return {t: int(await conn.fetchval(f"SELECT count(*) FROM {t}")) for t in TABLES}
    finally:
        await conn.close()


def expected_counts(records: Sequence[StoreRecord]) -> dict[str, int]:
    """How many rows each table must hold for a stream in which every key is distinct."""
    names = [type(r).__name__ for r in records]
    calls = {r.call_id for r in records if isinstance(r, CallStarted | CallEnded | WrapUpEnded)}
    return {
        "calls": len(calls),
        "call_hops": names.count("TierHop"),
        "call_offers": names.count("OfferEnded"),
        "agent_states": names.count("AgentStateChanged"),
        "recordings": names.count("RecordingStored"),
        "call_classifications": names.count("Classification"),
    }


async def reference_snapshot(
    server_dsn: str, dsn_for_schema: Any, records: Sequence[StoreRecord]
) -> dict[str, list[tuple[Any, ...]]]:
    """What the tables hold when the records are written once, directly, into a fresh
    schema: the yardstick for "every record exactly once"."""
    import uuid

    from acd.store.migrate import migrate_dsn

    schema = f"acd117_t_ref_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_dsn)
    await admin.execute(f"CREATE SCHEMA {schema}")
    try:
        dsn = dsn_for_schema(schema)
        await migrate_dsn(dsn)
        await write(dsn, records)
        return await snapshot(dsn)
    finally:
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()
