"""Interval statistics: the 15-minute figures, and their hourly, daily and monthly
roll-ups, match what was computed independently from the records themselves."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import asyncpg

from acd.store.codec import StoreRecord
from acd.vocabulary.records import CallEnded, OfferEnded, TierHop, WrapUpEnded
from tests.store.db import write
from tests.store.streams import stream

WIB = ZoneInfo("Asia/Jakarta")
FIELDS = (
    "offered",
    "escalated",
    "answered",
    "abandoned",
    "blocked",
    "answered_within_20s",
    "answer_wait_s",
    "talk_s",
    "wrap_up_s",
)
Key = tuple[dt.datetime, str, str]


def bucket(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(math.floor(epoch / 900) * 900, dt.UTC)


def expected_intervals(records: Sequence[StoreRecord]) -> dict[Key, dict[str, float]]:
    """The counting rules of sql/003, applied to the record stream in Python."""
    out: dict[Key, dict[str, float]] = defaultdict(lambda: dict.fromkeys(FIELDS, 0.0))
    hops: dict[str, list[TierHop]] = defaultdict(list)
    answered_tier: dict[str, str] = {}
    ends: dict[str, CallEnded] = {}
    wraps: dict[str, float] = {}
    for r in records:
        if isinstance(r, TierHop):
            out[(bucket(r.at), r.centre_id, str(r.tier))]["offered"] += 1
            if r.reason != "arrival" and hops[r.call_id]:
                prev = hops[r.call_id][-1]
                out[(bucket(prev.at), prev.centre_id, str(prev.tier))]["escalated"] += 1
            hops[r.call_id].append(r)
        elif isinstance(r, OfferEnded) and r.result == "answered":
            answered_tier[r.call_id] = str(r.tier)
        elif isinstance(r, CallEnded):
            ends[r.call_id] = r
        elif isinstance(r, WrapUpEnded):
            wraps[r.call_id] = r.wrap_up_s
    for call_id, e in ends.items():
        tier = answered_tier.get(call_id, str(e.tier)) if e.outcome == "answered" else str(e.tier)
        centre = e.centre_id or ""
        entered = [h.at for h in hops[call_id] if str(h.tier) == tier and h.centre_id == centre]
        row = out[(bucket(max(entered) if entered else e.arrived_at), centre, tier)]
        row[e.outcome] += 1
        if e.outcome == "answered":
            row["answered_within_20s"] += e.wait_s <= 20
            row["answer_wait_s"] += e.wait_s
            row["talk_s"] += e.talk_s
            row["wrap_up_s"] += wraps.get(call_id, 0.0)
    return dict(out)


def close(a: dict[Key, dict[str, float]], b: dict[Key, dict[str, float]]) -> bool:
    return a.keys() == b.keys() and all(
        math.isclose(a[k][f], b[k][f], rel_tol=1e-9, abs_tol=1e-6) for k in a for f in FIELDS
    )


async def stored_intervals(conn: asyncpg.Connection) -> dict[Key, dict[str, float]]:
    rows = await conn.fetch("SELECT * FROM call_intervals")
    return {
        (r["interval_start"], r["centre_id"], r["tier"]): {f: r[f] for f in FIELDS} for r in rows
    }


def roll_up(intervals: dict[Key, dict[str, float]], unit: str) -> dict[Key, dict[str, float]]:
    out: dict[Key, dict[str, float]] = defaultdict(lambda: dict.fromkeys(FIELDS, 0.0))
    for (start, centre, tier), figures in intervals.items():
        local = start.astimezone(WIB)
        if unit == "hour":
            local = local.replace(minute=0)
        elif unit == "day":
            local = local.replace(hour=0, minute=0)
        else:
            local = local.replace(day=1, hour=0, minute=0)
        for f in FIELDS:
            out[(local.astimezone(dt.UTC), centre, tier)][f] += figures[f]
    return dict(out)


# 3,000 calls at 2 calls/min, about 25 hours from 2025-12-31 21:00 WIB: many intervals,
# two local days and a month boundary.
def records() -> list[StoreRecord]:
    return list(stream(3000, seed=20, start=1_767_225_600.0 - 10 * 3600, rate_per_s=1 / 30))


async def test_fifteen_minute_figures_match_the_calls_written(migrated_dsn: str) -> None:
    stream_records = records()
    await write(migrated_dsn, stream_records, batch=700)
    expected = expected_intervals(stream_records)
    conn = await asyncpg.connect(migrated_dsn)
    try:
        stored = await stored_intervals(conn)
        assert sum(v["answered"] for v in stored.values()) > 2000
        assert close(stored, expected)
        # Replaying everything (a lost acknowledgement, a re-read spool) counts nothing twice.
        await write(migrated_dsn, stream_records, batch=333)
        assert close(await stored_intervals(conn), expected)
    finally:
        await conn.close()


async def test_hourly_daily_and_monthly_roll_ups_add_up_the_intervals(migrated_dsn: str) -> None:
    stream_records = records()
    await write(migrated_dsn, stream_records, batch=1000)
    expected_15 = expected_intervals(stream_records)
    conn = await asyncpg.connect(migrated_dsn)
    try:
        for unit, view in (
            ("hour", "call_stats_hourly"),
            ("day", "call_stats_daily"),
            ("month", "call_stats_monthly"),
        ):
            rows = await conn.fetch(f"SELECT * FROM {view}")
            got = {(r["period_start"], r["centre_id"], r["tier"]): r for r in rows}
            want = roll_up(expected_15, unit)
            assert got.keys() == want.keys(), unit
            for key, w in want.items():
                r = got[key]
                for f in (
                    "offered",
                    "escalated",
                    "answered",
                    "abandoned",
                    "blocked",
                    "answered_within_20s",
                ):
                    assert r[f] == w[f], (unit, key, f)
                handled = w["answered"] + w["abandoned"]
                if w["answered"]:
                    assert math.isclose(r["asa_s"], w["answer_wait_s"] / w["answered"])
                    aht = (w["talk_s"] + w["wrap_up_s"]) / w["answered"]
                    assert math.isclose(r["aht_s"], aht)
                if handled:
                    assert math.isclose(r["service_level"], w["answered_within_20s"] / handled)
                    assert math.isclose(r["abandon_rate"], w["abandoned"] / handled)
        months = {r["period_start"] for r in await conn.fetch("SELECT * FROM call_stats_monthly")}
        assert len(months) == 2  # December and January, in WIB
        # The function takes a range and another zone (WIT for Papua's centres).
        day = await conn.fetch(
            "SELECT sum(offered) AS offered FROM call_stats('day', $1, $2, 'Asia/Jayapura')",
            dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
        )
        in_range = sum(
            v["offered"]
            for (start, _c, _t), v in expected_15.items()
            if dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
            <= start
            < dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
        )
        assert day[0]["offered"] == in_range
    finally:
        await conn.close()
