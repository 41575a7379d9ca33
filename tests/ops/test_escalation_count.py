"""One definition of an escalation: /metrics, the wallboard and the reports agree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from acd.service.reports import call_report
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from tests.ops.test_live import MORNING, Fed, metric
from tests.store.db import write


def a_morning() -> Fed:
    f = Fed()
    f.h.login("1001", "2001")
    f.h.send(ev.AgentPaused("1001", "break"))  # staffed, nobody free: calls wait, then climb
    f.h.send(ev.AgentPaused("2001", "break"))
    f.h.call("up")  # Kota Bandung: escalates to the province, then national, on its timers
    f.h.call("nocentre", region="32.04")  # Kabupaten Bandung has no centre: starts at the province
    f.h.wait(90)
    f.pump()
    return f


def test_a_first_hop_to_the_province_for_lack_of_a_centre_is_no_escalation() -> None:
    f = a_morning()
    hops = [(r.call_id, r.reason) for r in f.h.log if isinstance(r, rec.TierHop)]
    assert ("nocentre", "no_centre") in hops
    assert ("up", "timeout") in hops
    escalations = len(hops) - 2  # every hop but each call's first
    tiers = {t["tier"]: t for t in f.live.snapshot()["tiers"]}
    assert sum(t["escalations_1h"] for t in tiers.values()) == escalations
    text = f.metrics.exposition().decode()
    counted = sum(metric(text, "acd117_calls_escalated_total", centre=c, tier=t)
                  for c, t in (("jabar", "province"), ("bnpb", "national")))
    assert counted == escalations


async def test_metrics_the_wallboard_and_the_reports_count_the_same_escalations(
        migrated_dsn: str) -> None:
    f = a_morning()
    stored = [r for r in f.h.log if isinstance(r, rec.CallStarted | rec.TierHop | rec.OfferEnded
                                               | rec.CallEnded | rec.AgentStateChanged)]
    await write(migrated_dsn, stored)
    conn = await asyncpg.connect(migrated_dsn)
    try:
        start = datetime.fromtimestamp(MORNING, UTC) - timedelta(hours=1)
        rows = await call_report(conn, "hour", start, start + timedelta(hours=3))
    finally:
        await conn.close()
    reported = sum(r.escalated for r in rows)
    text = f.metrics.exposition().decode()
    exported = sum(metric(text, "acd117_calls_escalated_total", centre=c, tier=t)
                   for c, t in (("jabar", "province"), ("bnpb", "national")))
    wallboard = sum(t["escalations_1h"] for t in f.live.snapshot()["tiers"])
    assert reported > 0
    assert exported == wallboard == reported
