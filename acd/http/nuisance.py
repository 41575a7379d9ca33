"""The nuisance list, kept by supervisors at run time: a listed number is never refused, it
hears the nuisance warning and is served last, from its next call on. Every change is
audited and written to PostgreSQL (sql/013) before it takes effect; the call flows' own
list (`callers.nuisance`) is shown beside it and changed only there.

- `GET /api/nuisance`: the numbers listed, here and in the call flows;
- `POST /api/nuisance {number, reason, days}`: list a number (again: new reason and end);
- `POST /api/nuisance/{number}/remove`: take it off now.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from acd.domain.callers import parse_caller
from acd.http.auth import audit, body, clean, daemon_of, database_of, json_error, require
from acd.http.inputs import body_text, whole_number
from acd.http.openapi import EXTRA_PATHS, NUM, STR, _err, _json, _obj, _op
from acd.service import nuisance
from acd.vocabulary import events as ev
from acd.vocabulary.localtime import end_of_local_day

REASON_MAX = 200
DAYS_MAX = 365
# What the document promises is taken: an Indonesian number, 8 to 11 digits after the 0 or
# +62 (the handler also takes spaces and dashes, as people write numbers).
NUMBER: dict[str, Any] = {"type": "string", "pattern": "^(\\+62|0)[1-9][0-9]{7,10}$",
                          "example": "081399998888"}


def _number(raw: object) -> str:
    e164 = parse_caller(raw).e164 if isinstance(raw, str) and clean(raw) else None
    if e164 is None:
        raise json_error(400, "'number' is a phone number (0812..., +62812...)")
    return e164


async def listed(request: web.Request) -> web.Response:
    await require(request, "supervisor", "admin")
    d = daemon_of(request)
    rows = await nuisance.in_force(await database_of(request).pool(), d.live.clock())
    flows = [{"number": n.number, "reason": n.reason, "until": end_of_local_day(n.until)}
             for n in d.acd.flows.callers.nuisance]
    return web.json_response({"listed": rows, "call_flows": flows})


async def add(request: web.Request) -> web.Response:
    session = await require(request, "supervisor", "admin")
    data = await body(request)
    number = _number(data.get("number"))
    reason = body_text(data, "reason", REASON_MAX, required=True)
    days = whole_number(data, "days", 30, 1, DAYS_MAX)
    assert reason is not None and days is not None
    d = daemon_of(request)
    until = d.live.clock() + days * 86400
    await nuisance.put(await database_of(request).pool(), number, reason, until,
                       session.user.username)
    d.switchboard.post(ev.NuisanceListed(number, until))
    await audit(request, session.user, "nuisance.add", "ok", target=number,
                detail={"reason": reason, "days": days})
    return web.json_response({"number": number, "until": until}, status=201)


async def remove(request: web.Request) -> web.Response:
    session = await require(request, "supervisor", "admin")
    number = _number(request.match_info["number"])
    d = daemon_of(request)
    if not await nuisance.end(await database_of(request).pool(), number, d.live.clock()):
        if any(n.number == number for n in d.acd.flows.callers.nuisance):
            raise json_error(409, "listed in the call flows (callers.yaml): remove it there")
        raise json_error(404, f"{number} is not on the nuisance list")
    d.switchboard.post(ev.NuisanceListed(number, None))
    await audit(request, session.user, "nuisance.remove", "ok", target=number)
    return web.json_response({"number": number, "until": None})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/nuisance", listed)
    app.router.add_post("/api/nuisance", add)
    app.router.add_post("/api/nuisance/{number}/remove", remove)


_LISTING: dict[str, Any] = _obj(number=STR, reason=STR, until=NUM)
EXTRA_PATHS.update({
    "/api/nuisance": {
        "get": _op("the nuisance list: numbers listed by supervisors and in the call flows",
                   "supervisors", {"200": _json(_obj(
                       listed={"type": "array", "items": _obj(
                           number=STR, reason=STR, until=NUM, added_by=STR, added_at=NUM)},
                       call_flows={"type": "array", "items": _LISTING}))}, auth=True),
        "post": _op("list a number (served last, after the nuisance warning) for some days",
                    "supervisors", {"201": _json(_obj(number=STR, until=NUM))}, auth=True,
                    body=_obj(["number", "reason"], number=NUMBER,
                              reason={"type": "string", "minLength": 1,
                                      "maxLength": REASON_MAX, "pattern": "^[^\\u0000]*\\S"},
                              days={"type": "integer", "minimum": 1, "maximum": DAYS_MAX}))},
    "/api/nuisance/{number}/remove": {"post": _op(
        "take a number off the nuisance list now", "supervisors",
        {"200": _json(_obj(number=STR, until={"type": "null"})),
         "400": _err("not a phone number"), "404": _err("not listed"),
         "409": _err("listed in the call flows")}, auth=True,
        params=[{"name": "number", "in": "path", "required": True, "schema": NUMBER}])},
})
