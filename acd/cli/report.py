"""`acd117 report`: the historical reports on the terminal and as CSV."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

from acd.domain.forecast import IntervalHistory, forecast
from acd.service import reports
from acd.service.reports import period_bounds


async def run_report(args: argparse.Namespace) -> int:
    import asyncpg

    start, end = period_bounds(args.start, args.end, args.tz)
    conn = await asyncpg.connect(args.dsn)
    try:
        rows: Any
        if args.kind == "agents":
            rows = await reports.agent_report(conn, args.unit, start, end, tz=args.tz)
            print(reports.agent_table(rows))
        elif args.kind == "forecast":
            history = await reports.history_for_forecast(conn, args.unit, start, end,
                                                         tz=args.tz)
            step = reports.STEP_S.get(args.unit)
            if step is None:
                raise ValueError("the forecast needs --unit 15min, 30min or hour")
            needs = forecast([IntervalHistory(*h) for h in history], step)
            print(f"{'slot':<6} {'calls':>7} {'AHT':>6} {'Erlangs':>8} {'agents':>7} "
                  f"{'SL20':>6} {'ASA':>6}")
            for n in needs:
                print(f"{n.slot:<6} {n.calls:>7.1f} {n.aht_s:>5.0f}s {n.traffic_erlangs:>8.2f} "
                      f"{n.agents:>7} {n.service_level:>6.0%} {n.asa_s:>5.1f}s")
            rows = []
        else:
            rows = await reports.call_report(conn, args.unit, start, end, tz=args.tz,
                                             short_abandon_s=args.short_abandon_s)
            if args.kind == "tiers":
                rows = reports.by_tier(rows)
            print(reports.call_table(rows))
    finally:
        await conn.close()
    if args.csv is not None and args.kind != "forecast":
        args.csv.write_text(reports.to_csv(rows), encoding="utf-8")
        print(f"{len(rows)} rows written to {args.csv}")
    return 0


__all__ = ["period_bounds", "run_report", "timedelta"]
