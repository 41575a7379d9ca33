"""One service level threshold (ACD117_SERVICE_LEVEL_S): the wallboard, the metrics, the
reports (API, `acd117 report`, SQL) and the simulator count the same calls as answered in
time, whatever it is set to."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from acd.cli import main
from acd.http.metrics import Metrics
from acd.service.health import Health
from acd.service.live import LiveFigures
from acd.service.reports import CallRow, call_report
from acd.service.settings import Settings
from tests.ops.test_live import metric
from tests.ops.test_reports import START, day
from tests.store.db import write
from tests.support import Harness

ACD117 = str(Path(sys.executable).parent / "acd117")
# The morning of tests/ops/test_reports.py: one call answered after 5 s, a 3 s short
# abandon, a caller who gave up after 30 s. Answered in time: 1 of 2 at 20 s, 0 at 4 s.
SETTINGS = {"20": 0.5, "4": 0.0}


async def _figures(dsn: str, settings: Settings
                   ) -> tuple[float | None, float | None, dict[str, float], dict[str, float]]:
    """The wallboard's and the report's service level of the morning, and per centre the
    metrics' (last hour: the whole morning) and the report's, with these settings."""
    h = Harness(start=START.timestamp())
    records = day(h)
    await write(dsn, records)
    live = LiveFigures(h.acd, service_level_s=settings.service_level_s,
                       short_abandon_s=settings.short_abandon_s, clock=lambda: h.now)
    metrics = Metrics(live, Health(), clock=lambda: h.now)
    for r in records:
        live.observe(r)
        metrics.observe(r)
    exposition = metrics.exposition().decode()
    conn = await asyncpg.connect(dsn)
    try:
        rows = await call_report(conn, "day", START - timedelta(hours=1),
                                 START + timedelta(hours=2),
                                 short_abandon_s=settings.short_abandon_s,
                                 service_level_s=settings.service_level_s)
    finally:
        await conn.close()
    total = CallRow(START, "*", "*")
    per_centre: dict[str, CallRow] = {}
    for row in rows:
        total.add(row)
        per_centre.setdefault(row.centre_id, CallRow(START, row.centre_id, "*")).add(row)
    reported = {c: r.service_level for c, r in per_centre.items() if r.service_level is not None}
    exposed = {c: metric(exposition, "acd117_service_level_ratio", centre=c) for c in reported}
    return (live.snapshot()["total"]["service_level_today"], total.service_level,
            exposed, {c: float(v) for c, v in reported.items()})


@pytest.mark.parametrize("threshold", sorted(SETTINGS))
async def test_the_wallboard_the_metrics_and_the_report_agree_whatever_the_threshold(
        migrated_dsn: str, threshold: str) -> None:
    settings = Settings.from_env({"ACD117_SERVICE_LEVEL_S": threshold})
    wallboard, report, exposed, reported = await _figures(migrated_dsn, settings)
    assert wallboard == pytest.approx(SETTINGS[threshold])
    assert report == pytest.approx(SETTINGS[threshold])
    assert len(reported) == 2 and exposed == pytest.approx(reported)


async def test_sql_call_stats_takes_the_thresholds(migrated_dsn: str) -> None:
    await write(migrated_dsn, day(Harness(start=START.timestamp())))
    conn = await asyncpg.connect(migrated_dsn)
    try:
        sql = ("SELECT sum(answered_within) AS n, sum(short_abandoned) AS short "
               "FROM call_stats('day', $1, $2, 'Asia/Jakarta', $3, $4)")
        args = (START - timedelta(hours=1), START + timedelta(hours=2))
        assert tuple(await conn.fetchrow(sql, *args, 20.0, 5.0)) == (1, 1)
        assert tuple(await conn.fetchrow(sql, *args, 4.0, 2.0)) == (0, 0)
        by_centre = {r["centre_id"]: (r["service_level"], r["abandon_rate"]) for r in
                     await conn.fetch("SELECT * FROM call_stats('day', $1, $2, "
                                      "'Asia/Jakarta', 20, 5)", *args)}
        rows = await call_report(conn, "day", *args, short_abandon_s=5, service_level_s=20)
    finally:
        await conn.close()
    assert by_centre == {r.centre_id: (r.service_level, r.abandon_rate) for r in rows}


def test_acd117_report_reads_the_daemon_setting(migrated_dsn: str, tmp_path: Path) -> None:
    import asyncio

    asyncio.run(write(migrated_dsn, day(Harness(start=START.timestamp()))))
    out = {}
    for threshold in sorted(SETTINGS):
        csv_file = tmp_path / f"calls-{threshold}.csv"
        env = {**os.environ, "ACD117_SERVICE_LEVEL_S": threshold}
        done = subprocess.run([ACD117, "report", "--unit", "day", "--from", "2026-01-15",
                               "--to", "2026-01-16", "--dsn", migrated_dsn,
                               "--csv", str(csv_file)],
                              env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert f"SL{threshold}" in done.stdout
        rows = list(csv.DictReader(io.StringIO(csv_file.read_text())))
        out[threshold] = sum(int(r["answered_within_20s"]) for r in rows)
    assert out == {"20": 1, "4": 0}


def test_the_simulator_reads_the_daemon_setting(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    levels = {}
    for threshold in ("20", "1"):
        monkeypatch.setenv("ACD117_SERVICE_LEVEL_S", threshold)
        assert main(["simulate", "--hours", "2", "--seed", "1", "--json"]) == 0
        levels[threshold] = json.loads(capsys.readouterr().out)["service_level_20s"]
    assert levels["1"] < levels["20"]
    monkeypatch.setenv("ACD117_SERVICE_LEVEL_S", "1")
    assert main(["simulate", "--hours", "1", "--seed", "1"]) == 0
    assert "answered within 1 s" in capsys.readouterr().out
