"""Audit lines through the spool: journalled like records, and written once however often
the spool is replayed."""

from __future__ import annotations

import asyncpg

from acd.store.codec import decode, encode
from acd.vocabulary.audit import audit_entry
from tests.store.db import write


def test_an_audit_line_survives_the_journal_bit_for_bit() -> None:
    entry = audit_entry("sup1", "supervisor", "agent.force_logout", "ok", target="1002",
                        remote="10.0.0.7", detail={"why": "left the desk"})
    assert decode(encode(entry)) == entry


async def test_a_replayed_audit_line_is_written_once_with_its_own_time(migrated_dsn: str) -> None:
    entry = audit_entry("admin1", "admin", "config.reload", "ok", target="/etc/acd117/flows",
                        detail={"problems": []}, at=1_800_000_000.0)
    await write(migrated_dsn, [entry, entry])
    await write(migrated_dsn, [entry])
    conn = await asyncpg.connect(migrated_dsn)
    try:
        rows = await conn.fetch("SELECT username, action, extract(epoch FROM at) AS at, detail "
                                "FROM audit_log")
    finally:
        await conn.close()
    assert [(r["username"], r["action"], float(r["at"])) for r in rows] == [
        ("admin1", "config.reload", 1_800_000_000.0)]
    assert rows[0]["detail"] == '{"problems": []}'
