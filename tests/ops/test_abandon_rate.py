"""One abandon rate (acd.service.figures.abandon_rate): the wallboard, the metrics, the
reports and the simulator leave the same short abandons out, whatever
ACD117_SHORT_ABANDON_S says."""

from __future__ import annotations

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

# The morning of tests/ops/test_reports.py: one call answered, a 3 s abandon at Bandung,
# a caller who gave up after 30 s at the national centre.
TOTAL = {"5": 1 / 2, "2": 2 / 3}  # the 3 s abandon is short at 5 s, not at 2 s
BANDUNG = {"5": 0.0, "2": 1 / 2}


@pytest.mark.parametrize("short", sorted(TOTAL))
async def test_the_wallboard_the_metrics_and_the_report_agree_on_the_abandon_rate(
        migrated_dsn: str, short: str) -> None:
    from datetime import timedelta

    settings = Settings.from_env({"ACD117_SHORT_ABANDON_S": short})
    h = Harness(start=START.timestamp())
    records = day(h)
    await write(migrated_dsn, records)
    live = LiveFigures(h.acd, service_level_s=settings.service_level_s,
                       short_abandon_s=settings.short_abandon_s, clock=lambda: h.now)
    metrics = Metrics(live, Health(), clock=lambda: h.now)
    for r in records:
        live.observe(r)
        metrics.observe(r)
    conn = await asyncpg.connect(migrated_dsn)
    try:
        rows = await call_report(conn, "day", START - timedelta(hours=1),
                                 START + timedelta(hours=2),
                                 short_abandon_s=settings.short_abandon_s,
                                 service_level_s=settings.service_level_s)
    finally:
        await conn.close()
    total = CallRow(START, "*", "*")
    bdg = CallRow(START, "bdg", "*")
    for row in rows:
        total.add(row)
        if row.centre_id == "bdg":
            bdg.add(row)
    assert live.snapshot()["total"]["abandon_rate_today"] == pytest.approx(TOTAL[short],
                                                                           abs=1e-4)
    assert total.abandon_rate == pytest.approx(TOTAL[short])
    exposition = metrics.exposition().decode()
    assert bdg.abandon_rate == pytest.approx(BANDUNG[short])
    assert metric(exposition, "acd117_abandon_rate_ratio", centre="bdg") == \
        pytest.approx(BANDUNG[short])


def test_the_simulator_leaves_the_configured_short_abandons_out(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    rates = {}
    for short in ("0", "100000"):  # none short; every abandon short
        monkeypatch.setenv("ACD117_SHORT_ABANDON_S", short)
        assert main(["simulate", "--hours", "2", "--seed", "1"]) == 0
        out = capsys.readouterr().out
        rates[short] = out.split("abandon rate ")[1].split("%")[0]
    assert rates["100000"] == "0.0" and float(rates["0"]) > 0
