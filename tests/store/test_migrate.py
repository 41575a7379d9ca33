"""Schema migrations: applied in order, tracked, and re-running them changes nothing."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from acd.cli import main
from acd.store.migrate import MigrationError, default_sql_dir, load_migrations, migrate_dsn
from acd.store.rows import SCHEMA_VERSION


def test_migrations_are_found_in_the_checkout_and_numbered_in_order() -> None:
    migrations = load_migrations()
    assert default_sql_dir().name == "sql"
    versions = [m.version for m in migrations]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    # The writer refuses a database older than the newest migration it was written for.
    assert versions[-1] == SCHEMA_VERSION


async def test_migrate_creates_the_schema_and_records_each_version(pg_dsn: str) -> None:
    applied = await migrate_dsn(pg_dsn)
    assert [m.version for m in applied] == [m.version for m in load_migrations()]
    conn = await asyncpg.connect(pg_dsn)
    try:
        tables = {
            r["table_name"]
            for r in await conn.fetch(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema()"
            )
        }
        assert {
            "calls",
            "call_hops",
            "call_offers",
            "agent_states",
            "agent_sessions",
            "recordings",
            "call_intervals",
            "schema_migrations",
        } <= tables
        rows = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in rows] == [m.version for m in applied]
    finally:
        await conn.close()


async def test_rerunning_migrate_is_a_no_op(pg_dsn: str) -> None:
    await migrate_dsn(pg_dsn)
    assert await migrate_dsn(pg_dsn) == []


async def test_a_new_migration_file_is_applied_on_the_next_run(pg_dsn: str, tmp_path: Path) -> None:
    for m in load_migrations():
        (tmp_path / f"{m.version:03d}_{m.name}.sql").write_text(m.sql)
    await migrate_dsn(pg_dsn, tmp_path)
    (tmp_path / "900_extra.sql").write_text("CREATE TABLE extra (id integer);")
    applied = await migrate_dsn(pg_dsn, tmp_path)
    assert [(m.version, m.name) for m in applied] == [(900, "extra")]


async def test_a_migration_edited_after_it_was_applied_is_refused(
    pg_dsn: str, tmp_path: Path
) -> None:
    (tmp_path / "001_one.sql").write_text("CREATE TABLE one (id integer);")
    await migrate_dsn(pg_dsn, tmp_path)
    (tmp_path / "001_one.sql").write_text("CREATE TABLE one (id bigint);")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        await migrate_dsn(pg_dsn, tmp_path)


async def test_a_failing_migration_leaves_nothing_half_applied(pg_dsn: str, tmp_path: Path) -> None:
    (tmp_path / "001_ok.sql").write_text("CREATE TABLE ok (id integer);")
    (tmp_path / "002_broken.sql").write_text("CREATE TABLE half (id integer); SELEC 1;")
    with pytest.raises(asyncpg.PostgresSyntaxError):
        await migrate_dsn(pg_dsn, tmp_path)
    conn = await asyncpg.connect(pg_dsn)
    try:
        assert await conn.fetchval("SELECT to_regclass('half')") is None
        assert await conn.fetchval("SELECT max(version) FROM schema_migrations") == 1
    finally:
        await conn.close()


def test_acd117_migrate_command_uses_the_dsn_from_the_environment(
    pg_dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ACD117_DSN", pg_dsn)
    assert main(["migrate"]) == 0
    assert "applied 001_" in capsys.readouterr().out
    assert main(["migrate", "--dsn", pg_dsn]) == 0
    assert "up to date" in capsys.readouterr().out


def test_acd117_migrate_without_a_dsn_says_how_to_give_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ACD117_DSN", raising=False)
    assert main(["migrate"]) == 2
    assert "ACD117_DSN" in capsys.readouterr().err


async def test_arrivals_recorded_twice_before_009_are_kept_once_and_counted_once(
    pg_dsn: str, tmp_path: Path
) -> None:
    for m in load_migrations():
        if m.version < 9:
            (tmp_path / f"{m.version:03d}_{m.name}.sql").write_text(m.sql)
    await migrate_dsn(pg_dsn, tmp_path)
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute(
            "INSERT INTO call_hops VALUES"
            " ('c1', 'kabkota', 'bpbd-32.73', 'arrival', '2026-01-01 00:00:10Z'),"
            " ('c1', 'kabkota', 'bpbd-32.73', 'arrival', '2026-01-01 00:20:00Z'),"
            " ('c1', 'province', 'bpbd-32', 'timeout', '2026-01-01 00:20:30Z')")
        await migrate_dsn(pg_dsn)
        hops = await conn.fetch("SELECT tier, reason FROM call_hops ORDER BY at")
        offered = await conn.fetch(
            "SELECT tier, offered FROM call_intervals WHERE offered <> 0 ORDER BY tier")
    finally:
        await conn.close()
    assert [tuple(h) for h in hops] == [("kabkota", "arrival"), ("province", "timeout")]
    assert [tuple(o) for o in offered] == [("kabkota", 1), ("province", 1)]
