"""Historical reports from what the store wrote: calls per period, agent activity, CSV."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from acd.service.breakdowns import classification_report, transfer_report
from acd.service.ports import TelephonyBase
from acd.service.reports import (
    CallRow,
    agent_activity,
    agent_report,
    by_tier,
    call_report,
    to_csv,
)
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from tests.store.db import write
from tests.support import Harness, build_flows

WIB = ZoneInfo("Asia/Jakarta")
START = datetime(2026, 1, 15, 9, 55, tzinfo=WIB)  # five minutes before a 15-minute mark


def day(h: Harness) -> list[rec.Record]:
    """A morning at Kota Bandung (09:55 WIB): one call answered in 5 s and talked a minute,
    one short abandon (3 s); 1001 takes a break across 10:00; at 10:01 a caller waits
    20 s, is escalated (to national: the province is unstaffed) and gives up after 30 s."""
    h.login("1001", "1002")
    h.send(ev.AgentPaused("1002", "break"))
    h.call("c1")
    h.wait(5)
    h.answer("c1")
    h.call("c2")
    h.send(ev.CallerHungUp("c2"), after=3)
    h.send(ev.AgentHungUp("c1"), after=57)
    h.wait(10)  # wrap-up
    h.send(ev.AgentPaused("1001", "break"))
    h.wait(300)
    h.call("c3")
    h.send(ev.CallerHungUp("c3"), after=30)
    h.wait(600)
    h.send(ev.AgentUnpaused("1001"))
    h.send(ev.AgentLoggedOut("1001"), after=60)
    return [o for o in h.log if isinstance(o, rec.CallStarted | rec.TierHop | rec.OfferEnded
                                           | rec.AgentStateChanged | rec.CallEnded
                                           | rec.WrapUpEnded)]


@pytest.fixture
async def stored(migrated_dsn: str) -> str:
    h = Harness(start=START.timestamp())
    await write(migrated_dsn, day(h))
    return migrated_dsn


async def test_calls_per_hour_count_short_abandons_apart(stored: str) -> None:
    conn = await asyncpg.connect(stored)
    try:
        rows = await call_report(conn, "hour", START - timedelta(hours=1),
                                 START + timedelta(hours=2), short_abandon_s=5)
        shorter = await call_report(conn, "hour", START - timedelta(hours=1),
                                    START + timedelta(hours=2), short_abandon_s=2)
    finally:
        await conn.close()
    assert sorted({r.period_start.strftime("%H:%M") for r in rows}) == ["09:00", "10:00"]
    tiers: dict[str, CallRow] = {}
    for r in by_tier(rows):
        tiers.setdefault(r.tier, CallRow(r.period_start, "*", r.tier)).add(r)
    assert set(tiers) == {"kabkota", "national"}
    kab, nat = tiers["kabkota"], tiers["national"]
    assert (kab.offered, kab.answered, kab.abandoned, kab.short_abandoned, kab.escalated) \
        == (3, 1, 1, 1, 1)
    assert (nat.offered, nat.answered, nat.abandoned, nat.short_abandoned) == (1, 0, 1, 0)
    t = kab
    t.add(nat)
    assert t.service_level == pytest.approx(1 / 2)  # 1 within 20 s of 1 answered + 1 abandon
    assert t.abandon_rate == pytest.approx(1 / 2)
    assert t.asa_s == pytest.approx(5) and t.aht_s == pytest.approx(60 + 10)
    assert t.period_start == datetime(2026, 1, 15, 9, 0, tzinfo=WIB)
    assert sum(r.short_abandoned for r in shorter) == 0


async def test_quarter_hours_split_the_calls_by_when_they_arrived(stored: str) -> None:
    conn = await asyncpg.connect(stored)
    try:
        rows = await call_report(conn, "15min", START - timedelta(hours=1),
                                 START + timedelta(hours=2))
        halves = await call_report(conn, "30min", START - timedelta(hours=1),
                                   START + timedelta(hours=2))
    finally:
        await conn.close()
    starts = sorted({(r.period_start.strftime("%H:%M"), r.offered) for r in rows})
    assert starts == [("09:45", 2), ("10:00", 1)]  # c3 arrived after 10:00
    assert sorted({(r.period_start.strftime("%H:%M"), r.offered) for r in halves}) == [
        ("09:30", 2), ("10:00", 1)]


async def test_agent_activity_is_cut_at_period_boundaries(stored: str) -> None:
    conn = await asyncpg.connect(stored)
    try:
        rows = await agent_report(conn, "15min", START - timedelta(hours=1),
                                  START + timedelta(hours=2),
                                  now=START + timedelta(hours=3))
    finally:
        await conn.close()
    a1001 = {r.period_start.strftime("%H:%M"): r for r in rows if r.agent_id == "1001"}
    assert set(a1001) == {"09:45", "10:00"}
    first, second = a1001["09:45"], a1001["10:00"]
    assert (first.ringing_s, first.talk_s, first.after_call_work_s) == (5, 60, 10)
    assert first.logged_in_s == 300  # 09:55 to 10:00
    assert first.pause_by_reason_s == {"break": 300 - 75}
    assert second.pause_by_reason_s == {"break": 300 + 30 + 600 - 225 + 75 - 75}
    assert second.available_s == 60  # unpaused, then logged out a minute later
    assert second.logged_in_s == second.paused_s + 60
    a1002 = [r for r in rows if r.agent_id == "1002"]  # paused from 09:55 to the end
    assert sum(r.paused_s for r in a1002) == 2 * 3600


def test_a_day_or_month_period_is_local_time() -> None:
    at = datetime(2027, 1, 31, 17, 30, tzinfo=UTC)  # 1 February 00:30 WIB
    states = [("1001", "bdg", at, "available", None)]
    rows = agent_activity(states, "month", at, at + timedelta(hours=1))
    assert rows[0].period_start == datetime(2027, 2, 1, tzinfo=WIB)
    days = agent_activity([("1001", "bdg", at - timedelta(hours=1), "paused", "sholat")],
                          "day", at - timedelta(hours=1), at + timedelta(hours=1))
    assert [(r.period_start.day, r.pause_by_reason_s["sholat"]) for r in days] == [
        (31, 1800.0), (1, 5400.0)]


async def test_acd117_report_prints_and_exports_csv(stored: str, tmp_path: Path) -> None:
    acd117 = str(Path(sys.executable).parent / "acd117")
    out = tmp_path / "calls.csv"
    done = subprocess.run([acd117, "report", "--unit", "hour", "--from", "2026-01-15",
                           "--to", "2026-01-16", "--dsn", stored, "--csv", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "bdg" in done.stdout and "SL20" in done.stdout
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert (rows[0]["period_start"], rows[0]["centre_id"], rows[0]["offered"],
            rows[0]["short_abandoned"]) == ("2026-01-15T09:00:00+07:00", "bdg", "2", "1")
    agents = subprocess.run([acd117, "report", "--kind", "agents", "--unit", "day", "--from",
                             "2026-01-15", "--to", "2026-01-16", "--dsn", stored],
                            capture_output=True, text=True, timeout=60)
    assert agents.returncode == 0 and "break" in agents.stdout


def test_csv_has_a_header_even_when_empty() -> None:
    assert to_csv([]).startswith("period_start,centre_id,tier,offered")


async def test_the_api_serves_reports_to_supervisors_only(stored: str, tmp_path: Path) -> None:
    import aiohttp

    from tests.ops.support import serving, settings

    class Quiet(TelephonyBase):
        async def execute(self, command: object) -> None:
            pass

    async with serving(settings(tmp_path, stored), simulate=False,
                       telephony=Quiet()) as daemon:  # type: ignore[arg-type]
        assert daemon.users is not None
        await daemon.users.add("sup9", "Sekret117", "supervisor")
        await daemon.users.add("1003", "Sekret117", "agent")
        async with aiohttp.ClientSession() as s:
            tokens = {}
            for name in ("sup9", "1003"):
                async with s.post(daemon.url + "/api/login",
                                  json={"username": name, "password": "Sekret117"}) as r:
                    tokens[name] = (await r.json())["token"]
            query = "?unit=15min&from=2026-01-15&to=2026-01-16"
            url = daemon.url + "/api/reports/calls" + query
            async with s.get(url) as r:
                assert r.status == 401
            async with s.get(url, headers={"Authorization": f"Bearer {tokens['1003']}"}) as r:
                assert r.status == 403
            sup = {"Authorization": f"Bearer {tokens['sup9']}"}
            async with s.get(url, headers=sup) as r:
                rows = (await r.json())["rows"]
            assert sum(row["offered"] for row in rows) == 4
            async with s.get(url + "&format=csv", headers=sup) as r:
                assert r.headers["Content-Type"].startswith("text/csv")
                assert (await r.text()).startswith("period_start,")
            async with s.get(daemon.url + "/api/reports/agents" + query, headers=sup) as r:
                agents = (await r.json())["rows"]
            assert {a["agent_id"] for a in agents} == {"1001", "1002"}
            async with s.get(daemon.url + "/api/reports/forecast" + query, headers=sup) as r:
                slots = (await r.json())["slots"]
            assert [(x["slot"], x["agents"]) for x in slots][:1] == [("09:45", 1)]
            async with s.get(daemon.url + "/api/reports/calls?unit=week", headers=sup) as r:
                assert r.status == 400


def _row(start: datetime, centre: str, tier: str) -> dict[str, object]:
    return {"period_start": start, "centre_id": centre, "tier": tier, "offered": 1,
            "escalated": 0, "answered": 1, "abandoned": 0, "short_abandoned": 0, "blocked": 0,
            "within": 1, "answer_wait": 1.0, "talk": 1.0, "hold": 0.0, "wrap": 0.0}


class FakeConnection:
    """Answers the call report's query with rows in PostgreSQL's (alphabetical) order."""

    def __init__(self, rows: list[dict[str, object]]) -> None:
        self.rows = rows

    async def fetch(self, _sql: str, *_args: object) -> list[dict[str, object]]:
        return self.rows


async def test_tiers_are_listed_in_the_order_a_call_climbs_them() -> None:
    nine, ten = START.replace(minute=0), START.replace(hour=10, minute=0)
    conn = FakeConnection([_row(nine, "32.73", "kabkota"), _row(nine, "00", "national"),
                           _row(nine, "32", "province"), _row(ten, "00", "national"),
                           _row(ten, "32.73", "kabkota")])
    rows = await call_report(conn, "hour", nine, ten + timedelta(hours=1))
    assert [(r.period_start.hour, r.tier) for r in rows] == [
        (9, "kabkota"), (9, "province"), (9, "national"), (10, "kabkota"), (10, "national")]
    assert [(r.period_start.hour, r.tier) for r in by_tier(reversed(rows))] == [
        (9, "kabkota"), (9, "province"), (9, "national"), (10, "kabkota"), (10, "national")]


async def test_transfers_are_reported_per_centre_destination_and_result(
        migrated_dsn: str) -> None:
    h = Harness(build_flows(transfers={"trunk": "trunk-out", "destinations": [
        {"code": "113", "label": "fire brigade", "number": "113"},
        {"code": "3200", "label": "province", "centre": "jabar"}]}),
        start=START.timestamp())
    h.login("1001", "1002", "2001")
    for call_id, code in (("t1", "113"), ("t2", "113"), ("t3", "3200"), ("t4", "555")):
        h.call(call_id)
        h.answer(call_id)
        out = h.send(ev.TransferRequested(call_id, h.acd.calls[call_id].agent_id or "", code))
        dial = [o for o in out if isinstance(o, cmd.DialOut)]
        if call_id == "t1":
            h.send(ev.OutsideAnswered(dial[0].leg_id), after=5)
        elif call_id == "t2":
            h.send(ev.OutsideFailed(dial[0].leg_id, "busy"), after=5)
        h.send(ev.CallerHungUp(call_id), after=10)
        h.wait(60)
    await write(migrated_dsn, [o for o in h.log if isinstance(o, rec.Record)])
    conn = await asyncpg.connect(migrated_dsn)
    try:
        rows = await transfer_report(conn, "day", START - timedelta(hours=1),
                                     START + timedelta(hours=2))
    finally:
        await conn.close()
    got = {(r.kind, r.target): r.as_json() for r in rows}
    assert {k: (v["transferred"], v["connected"], v["failed"], v["queued"], v["refused"])
            for k, v in got.items()} == {
        ("number", "113"): (2, 1, 1, 0, 0), ("centre", "jabar"): (1, 0, 0, 1, 0),
        ("number", "555"): (0, 0, 0, 0, 1)}
    assert {r.from_centre for r in rows} == {"bdg"}
    assert to_csv(rows).splitlines()[0] == (
        "period_start,from_centre,kind,target,transferred,queued,connected,failed,abandoned,"
        "refused,cancelled")


async def test_classifications_are_reported_per_class_and_emergency_type(
        migrated_dsn: str) -> None:
    h = Harness(build_flows(wrapup={"required": True, "classes": [
        {"code": "emergency", "label": "Laporan darurat", "report": True},
        {"code": "prank", "label": "Panggilan iseng", "review": True}],
        "emergency_types": [{"code": "flood", "label": "Banjir"}]}), start=START.timestamp())
    h.login("1001")
    given = [("k1", "emergency", "flood", 12), ("k2", "emergency", "flood", 3),
             ("k3", "prank", None, None), ("k4", "prank", None, None)]
    for call_id, code, kind, people in given:
        h.call(call_id)
        h.answer(call_id)
        h.send(ev.CallerHungUp(call_id), after=30)
        if call_id == "k4":  # first taken for a prank, then corrected: the report counts it once
            h.send(ev.CallClassified("1001", call_id, "prank", ready=False), after=2)
            code, kind, people = "emergency", "flood", 1
        h.send(ev.CallClassified("1001", call_id, code, emergency_type=kind,
                                 people_affected=people), after=5)
    await write(migrated_dsn, [o for o in h.log if isinstance(o, rec.Record)])
    conn = await asyncpg.connect(migrated_dsn)
    try:
        rows = await classification_report(conn, "day", START - timedelta(hours=1),
                                           START + timedelta(hours=2))
    finally:
        await conn.close()
    assert [(r.centre_id, r.code, r.emergency_type, r.calls, r.people_affected)
            for r in rows] == [("bdg", "emergency", "flood", 3, 16), ("bdg", "prank", "", 1, 0)]
    assert to_csv(rows).splitlines()[0] == (
        "period_start,centre_id,code,emergency_type,calls,people_affected")
