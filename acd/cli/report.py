"""`acd117 report`: the historical reports on the terminal and as CSV."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

from acd.domain.forecast import IntervalHistory, forecast
from acd.service import breakdowns, reports
from acd.service.reports import period_bounds
from acd.service.settings import Settings


def thresholds(args: argparse.Namespace) -> tuple[float, float]:
    """(service level, short abandon) in seconds: the options, else the daemon's settings
    (ACD117_SERVICE_LEVEL_S, ACD117_SHORT_ABANDON_S), as the wallboard counts them."""
    settings = Settings.from_env()
    service_level_s = getattr(args, "service_level_s", None)
    short_abandon_s = getattr(args, "short_abandon_s", None)
    return (settings.service_level_s if service_level_s is None else service_level_s,
            settings.short_abandon_s if short_abandon_s is None else short_abandon_s)


async def run_report(args: argparse.Namespace) -> int:
    import asyncpg

    service_level_s, short_abandon_s = thresholds(args)
    start, end = period_bounds(args.start, args.end, args.tz)
    conn = await asyncpg.connect(args.dsn)
    try:
        rows: Any
        if args.kind == "agents":
            rows = await reports.agent_report(conn, args.unit, start, end, tz=args.tz)
            print(reports.agent_table(rows))
        elif args.kind == "transfers":
            rows = await breakdowns.transfer_report(conn, args.unit, start, end, tz=args.tz)
            print(breakdowns.transfer_table(rows))
        elif args.kind == "classifications":
            rows = await breakdowns.classification_report(conn, args.unit, start, end,
                                                          tz=args.tz)
            print(breakdowns.classification_table(rows))
        elif args.kind == "forecast":
            history = await reports.history_for_forecast(conn, args.unit, start, end,
                                                         tz=args.tz)
            step = reports.STEP_S.get(args.unit)
            if step is None:
                raise ValueError("the forecast needs --unit 15min, 30min or hour")
            needs = forecast([IntervalHistory(*h) for h in history], step,
                             target_s=service_level_s)
            sl_head = f"SL{service_level_s:g}"
            print(f"{'slot':<6} {'calls':>7} {'AHT':>6} {'Erlangs':>8} {'agents':>7} "
                  f"{sl_head:>6} {'ASA':>6}")
            for n in needs:
                print(f"{n.slot:<6} {n.calls:>7.1f} {n.aht_s:>5.0f}s {n.traffic_erlangs:>8.2f} "
                      f"{n.agents:>7} {n.service_level:>6.0%} {n.asa_s:>5.1f}s")
            rows = []
        else:
            rows = await reports.call_report(conn, args.unit, start, end, tz=args.tz,
                                             short_abandon_s=short_abandon_s,
                                             service_level_s=service_level_s)
            if args.kind == "tiers":
                rows = reports.by_tier(rows)
            print(reports.call_table(rows, service_level_s))
    finally:
        await conn.close()
    if args.csv is not None and args.kind != "forecast":
        args.csv.write_text(reports.to_csv(rows), encoding="utf-8")
        print(f"{len(rows)} rows written to {args.csv}")
    return 0


__all__ = ["period_bounds", "run_report", "timedelta"]
