"""`/api/reports/...`: the historical reports and the staffing forecast (supervisors and
admins), as JSON or, with `format=csv`, as a CSV download."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aiohttp import web

from acd.domain.forecast import IntervalHistory, forecast
from acd.http.auth import daemon_of, database_of, json_error, require
from acd.http.inputs import in_range, number, query_text, time_zone
from acd.http.openapi import (
    EXTRA_PATHS,
    LOCAL_TIME,
    QUERY_TEXT,
    TIME_ZONE_REF,
    _err,
    _json,
    _op,
    _query,
)
from acd.service import breakdowns, reports
from acd.service.reports import period_bounds
from acd.vocabulary.localtime import WIB


def _params(request: web.Request) -> tuple[Any, ...]:
    q = request.query
    unit = q.get("unit", "hour")
    if unit not in reports.UNITS:
        raise json_error(400, f"'unit' is one of {', '.join(reports.UNITS)}")
    tz = time_zone(request, WIB)
    try:
        start, end = period_bounds(query_text(request, "from"), query_text(request, "to"), tz)
    except (ValueError, KeyError, OverflowError) as e:
        raise json_error(400, f"bad period: {e}") from None
    in_range(start, end)
    return unit, start, end, tz


def _respond(request: web.Request, name: str, rows: list[Any]) -> web.StreamResponse:
    if request.query.get("format") == "csv":
        return web.Response(text=reports.to_csv(rows), content_type="text/csv",
                            headers={"Content-Disposition":
                                     f'attachment; filename="acd117-{name}.csv"'})
    return web.json_response({"rows": [r.as_json() for r in rows]})


async def calls(request: web.Request) -> web.StreamResponse:
    await require(request, "supervisor", "admin")
    unit, start, end, tz = _params(request)
    settings = daemon_of(request).settings
    short = number(request, "short_abandon_s", settings.short_abandon_s)
    pool = await database_of(request).pool()
    async with pool.acquire() as conn:
        rows = await reports.call_report(conn, unit, start, end, tz=tz, short_abandon_s=short,
                                         service_level_s=settings.service_level_s)
    if request.path.endswith("/tiers"):
        return _respond(request, "tiers", reports.by_tier(rows))
    return _respond(request, "calls", rows)


def _report(name: str, report: Any) -> Any:
    """A report that is a query over one period: `report(conn, unit, start, end, tz=)`."""
    async def handler(request: web.Request) -> web.StreamResponse:
        await require(request, "supervisor", "admin")
        unit, start, end, tz = _params(request)
        pool = await database_of(request).pool()
        async with pool.acquire() as conn:
            rows = await report(conn, unit, start, end, tz=tz)
        return _respond(request, name, rows)
    return handler


agents = _report("agents", reports.agent_report)
transfers = _report("transfers", breakdowns.transfer_report)
classifications = _report("classifications", breakdowns.classification_report)


async def staffing(request: web.Request) -> web.StreamResponse:
    await require(request, "supervisor", "admin")
    unit, start, end, tz = _params(request)
    step = reports.STEP_S.get(unit)
    if step is None:
        raise json_error(400, "the forecast needs unit 15min, 30min or hour")
    centre = query_text(request, "centre") or None
    pool = await database_of(request).pool()
    async with pool.acquire() as conn:
        history = await reports.history_for_forecast(conn, unit, start, end, tz=tz,
                                                     centre_id=centre)
    target_s = daemon_of(request).settings.service_level_s
    needs = forecast([IntervalHistory(*h) for h in history], step, target_s=target_s)
    return web.json_response({"unit": unit, "target": {"level": 0.8, "within_s": target_s},
                              "centre": centre,
                              "slots": [asdict(n) for n in needs]})


_BOUNDS = [
    _query("from", "local date or date-time (default: today 00:00)", LOCAL_TIME),
    _query("to", "local date or date-time, excluded (default: now); later than `from`, or "
                 "400", LOCAL_TIME),
    _query("tz", "time zone of the periods (default Asia/Jakarta)", TIME_ZONE_REF),
]
_PERIOD = [_query("unit", "15min, 30min, hour, day or month", {"enum": list(reports.UNITS)}),
           *_BOUNDS]
_BAD = _err("bad parameters: `to` not later than `from`")
_CSV = _query("format", "json (default) or csv", {"enum": ["json", "csv"]})
_ROWS = _json({"type": "object", "properties": {"rows": {"type": "array"}}})
_ROWS["content"]["text/csv"] = {"schema": {"type": "string"}}  # with format=csv
EXTRA_PATHS.update({
    "/api/reports/calls": {"get": _op(
        "calls per period, centre and tier: offered, answered, abandoned (short ones apart), "
        "service level, ASA, AHT, escalations", "reports",
        {"200": _ROWS, "400": _BAD}, auth=True,
        params=[*_PERIOD, _CSV, _query("short_abandon_s", "short abandon threshold (s)",
                                       {"type": "number", "minimum": 0})])},
    "/api/reports/tiers": {"get": _op(
        "the same per period and tier (escalations by tier)", "reports",
        {"200": _ROWS, "400": _BAD}, auth=True, params=[*_PERIOD, _CSV])},
    "/api/reports/agents": {"get": _op(
        "agent activity per period: logged in, available, talk, hold, after-call work, "
        "pause by reason (seconds)", "reports",
        {"200": _ROWS, "400": _BAD}, auth=True, params=[*_PERIOD, _CSV])},
    "/api/reports/transfers": {"get": _op(
        "calls handed on per period, centre and destination, by result (queued, connected, "
        "failed, abandoned, refused)", "reports",
        {"200": _ROWS, "400": _BAD}, auth=True, params=[*_PERIOD, _CSV])},
    "/api/reports/classifications": {"get": _op(
        "calls per period, centre, wrap-up class and emergency type, with the people "
        "affected the reports name", "reports",
        {"200": _ROWS, "400": _BAD}, auth=True, params=[*_PERIOD, _CSV])},
    "/api/reports/forecast": {"get": _op(
        "agents needed per time of day for 80 % in 20 s (Erlang C) from the history in "
        "the period", "reports", {"200": _json({"type": "object"}),
                                  "400": _BAD},
        auth=True, params=[
            _query("unit", "15min, 30min or hour", {"enum": list(reports.STEP_S)}), *_BOUNDS,
            _query("centre", "one centre (default: all)", QUERY_TEXT)])},
})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/reports/calls", calls)
    app.router.add_get("/api/reports/tiers", calls)
    app.router.add_get("/api/reports/agents", agents)
    app.router.add_get("/api/reports/transfers", transfers)
    app.router.add_get("/api/reports/classifications", classifications)
    app.router.add_get("/api/reports/forecast", staffing)
