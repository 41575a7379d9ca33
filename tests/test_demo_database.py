"""`acd117 report` beside a running `make demo` finds the demo's database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from acd.cli import main
from acd.cli.demo_db import DEMO_PGDATA, dsn_file, published, running_demo_dsn


def test_the_demo_publishes_its_dsn_only_while_it_runs(tmp_path: Path) -> None:
    pgdata = tmp_path / "demo-pg"
    assert running_demo_dsn(pgdata) is None
    with published("postgresql://postgres:@/postgres?host=/x", pgdata):
        assert running_demo_dsn(pgdata) == "postgresql://postgres:@/postgres?host=/x"
    assert running_demo_dsn(pgdata) is None and not dsn_file(pgdata).exists()


async def test_report_without_a_dsn_uses_the_running_demos_database(
    migrated_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ACD117_DSN", raising=False)
    with published(migrated_dsn, DEMO_PGDATA):
        # asyncio.run inside a running loop is refused: run the command in a thread.
        status = await asyncio.to_thread(main, ["report", "--kind", "tiers"])
    assert status == 0
    captured = capsys.readouterr()
    assert "using the running demo's database" in captured.err
    assert "tier" in captured.out


def test_report_without_any_database_says_how_to_give_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ACD117_DSN", raising=False)
    assert main(["report"]) == 2
    assert "no database given" in capsys.readouterr().err
