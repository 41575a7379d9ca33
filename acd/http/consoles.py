"""The consoles people work in all shift: `/agent` (call takers), `/supervisor` and
`/admin`. Plain HTML, one small vanilla JS module per page and a stylesheet, all served
from the package (no CDN); every visible string comes from the message catalogs under
`ui/i18n/` (Indonesian first, English with `?lang=en`). The pages only call the JSON
API, with the bearer token from sign-in, so they are public like the wallboard.

`GET /api/agent/call` gives a signed-in agent the call that rings or is connected at their
phone, for the screen pop (`GET /api/agent` only names it).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from aiohttp import web

from acd.domain.model import Call, CallState
from acd.http.api import own_call
from acd.http.auth import daemon_of, database_of, json_error
from acd.http.openapi import EXTRA_PATHS, INT, NUM, STR, _err, _json, _obj, _op

PAGES = ("agent", "supervisor", "admin")
LANGS = ("id", "en")
ASSETS = {"common.js": "text/javascript", "agent.js": "text/javascript",
          "supervisor.js": "text/javascript", "admin.js": "text/javascript",
          "style.css": "text/css", "i18n/id.json": "application/json",
          "i18n/en.json": "application/json"}


def _asset(name: str) -> str:
    return resources.files("acd.http").joinpath("ui", name).read_text(encoding="utf-8")


@cache
def catalog(lang: str) -> dict[str, str]:
    """The messages of one language; English fills what a catalog lacks."""
    messages: dict[str, str] = json.loads(_asset("i18n/en.json"))
    if lang != "en":
        messages = {**messages, **json.loads(_asset(f"i18n/{lang}.json"))}
    return messages


def lang_of(request: web.Request) -> str:
    lang = request.query.get("lang", "id")
    return lang if lang in LANGS else "id"


def _page(name: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def page(request: web.Request) -> web.Response:
        html = _asset(f"{name}.html").replace("__LANG__", lang_of(request))
        return web.Response(text=html, content_type="text/html", charset="utf-8",
                            headers={"Cache-Control": "no-store"})
    return page


async def asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    kind = ASSETS.get(name)
    if kind is None:  # a fixed list: nothing else of the package is reachable
        raise json_error(404, "no such file")
    return web.Response(text=_asset(name), content_type=kind, charset="utf-8",
                        headers={"Cache-Control": "no-cache"})


async def agent_call(request: web.Request) -> web.Response:
    """The agent's own call (ringing, connected or in wrap-up): what the screen pop shows."""
    _session, _agent_id, call = await own_call(request)
    return web.json_response({"call": call_json(daemon_of(request), call)})


def call_json(d: Any, call: Call | None) -> dict[str, Any] | None:
    """The screen pop's call: `GET /api/agent/call` and the console's event stream."""
    if call is None:
        return None
    now = d.live.clock()
    waited = (call.answered_at or now) - call.arrived_at
    names = {c.id: c.name for c in d.acd.flows.centres}
    return {
        "id": call.id, "caller": call.caller, "caller_class": call.caller_class,
        "line_type": call.line_type, "region_source": call.region_source,
        "region": call.region, "region_name": call.region_name, "service": call.service,
        # Where it has been: each centre it waited at, from its arrival on.
        "path": [{"tier": h.tier.value, "centre": h.centre_id,
                  "centre_name": names.get(h.centre_id, h.centre_id),
                  "after_s": round(h.at - call.arrived_at, 1), "reason": h.reason}
                 for h in call.hops],
        "state": call.state.value, "connected": call.state is CallState.CONNECTED,
        "tier": call.hops[-1].tier.value if call.hops else None,
        "centre": call.hops[-1].centre_id if call.hops else None,
        "waited_s": round(waited, 1), "escalations": max(len(call.hops) - 1, 0),
        "on_hold": call.hold_started is not None,
        "party": None if call.party is None else {
            "code": call.party.code, "mode": call.party.mode,
            "connected": call.party.connected}}


HISTORY_SQL = """
SELECT c.call_id, c.arrived_at, c.outcome, c.centre_id, c.agent_id, c.talk_s,
       k.code AS classification, k.notes
  FROM calls c LEFT JOIN call_classes k USING (call_id)
 WHERE c.caller_e164 = $1 AND c.call_id <> $2 AND c.arrived_at >= $3
 ORDER BY c.arrived_at DESC LIMIT 20
"""
HISTORY_S = 24 * 3600


async def agent_call_history(request: web.Request) -> web.Response:
    """The previous calls from this number in the last 24 hours: the screen pop's history
    (a caller who rang before, what became of it, and how the call taker classified it)."""
    _session, _agent_id, call = await own_call(request)
    d = daemon_of(request)
    if call is None or call.caller_e164 is None:
        return web.json_response({"calls": []})
    since = datetime.fromtimestamp(d.live.clock() - HISTORY_S, UTC)
    pool = await database_of(request).pool()
    rows = await pool.fetch(HISTORY_SQL, call.caller_e164, call.id, since, timeout=5.0)
    return web.json_response({"calls": [
        {"call_id": r["call_id"], "arrived_at": r["arrived_at"].timestamp(),
         "outcome": r["outcome"], "centre_id": r["centre_id"], "agent_id": r["agent_id"],
         "talk_s": r["talk_s"], "classification": r["classification"],
         "notes": r["notes"]} for r in rows]})


_HTML: dict[str, Any] = {"200": {"description": "the page", "content": {"text/html": {}}}}
_PARTY = _obj(code=STR, mode=STR, connected={"type": "boolean"})
_HOP = _obj(tier=STR, centre=STR, centre_name=STR, after_s=NUM, reason=STR)
_CALL = _obj(id=STR, caller=STR, caller_class=STR, line_type=STR, region_source=STR,
             path={"type": "array", "items": _HOP}, region=STR, region_name=STR, service=STR,
             state=STR, tier={"type": ["string", "null"]}, waited_s=NUM, escalations=INT,
             on_hold={"type": "boolean"}, party={"oneOf": [_PARTY, {"type": "null"}]})
EXTRA_PATHS.update({
    **{f"/{name}": {"get": _op(f"the {name} console (Indonesian; ?lang=en for English)",
                               "consoles", _HTML)} for name in PAGES},
    "/consoles/{name}": {"get": _op(
        "a console's script, stylesheet or message catalog", "consoles",
        {"200": {"description": "the file"}, "404": _err("no such file")},
        params=[{"name": "name", "in": "path", "required": True, "schema": STR}])},
    "/api/agent/call/history": {"get": _op(
        "the previous calls from the caller's number in the last 24 hours (screen pop)",
        "agents", {"200": _json(_obj(calls={"type": "array", "items": _obj(
            call_id=STR, arrived_at=NUM, outcome={"type": ["string", "null"]},
            centre_id={"type": ["string", "null"]}, agent_id={"type": ["string", "null"]},
            talk_s={"type": ["number", "null"]}, classification={"type": ["string", "null"]},
            notes={"type": ["string", "null"]})})),
                   "403": _err("not an agent's account")}, auth=True)},
    "/api/agent/call": {"get": _op(
        "the call ringing at or connected to the signed-in agent (screen pop)", "agents",
        {"200": _json(_obj(call={"oneOf": [_CALL, {"type": "null"}]})),
         "403": _err("not an agent's account")}, auth=True)},
})


def setup(app: web.Application) -> None:
    for name in PAGES:
        app.router.add_get(f"/{name}", _page(name))
    # Any name, a newline too (a plain `.+` leaves it to aiohttp's text 404): only the files
    # of ASSETS are served, the rest is a JSON 404.
    app.router.add_get("/consoles/{name:(?s:.+)}", asset)
    app.router.add_get("/api/agent/call", agent_call)
    app.router.add_get("/api/agent/call/history", agent_call_history)
