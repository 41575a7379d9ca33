"""The consoles live over server-sent events, with the API's own sign-in rules:

- `GET /api/agent/events` (an agent's account): `agent` events with the agent's state and
  their own call (`GET /api/agent` and `GET /api/agent/call` in one), sent as soon as either
  changes and at least every `REFRESH_S`; nothing of any other agent or call.
- `GET /api/state/events` (supervisors, admins): `state` events with the room
  (`GET /api/state`) and `alerts` events (`GET /api/alerts`) when a new alert is raised.

The token goes in the `Authorization` header (the consoles read the stream with `fetch`,
not `EventSource`, which cannot send one), or the session cookie. The session is checked
again at every look: a sign-out, a disabled user or an ended session gets a `signed_out`
event and the stream ends. Counters (the wait so far, the wrap-up time left) are counted
down by the page between two events, so a quiet call costs nothing.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from acd.http import ops, sse
from acd.http.api import agent_json, alerts_json, own_call
from acd.http.auth import daemon_of, require, token_of, users_of
from acd.http.consoles import call_json
from acd.http.openapi import EXTRA_PATHS, INT, STR, _obj, _op

ROOM: web.AppKey[dict[str, Any]] = web.AppKey("console_stream_room")
LOOK_S = 0.25  # how often a stream looks for a change: what "live" means here
REFRESH_S = 5.0  # sent at least this often: counters resynchronised, proxies kept awake
# The room is one snapshot for every supervisor watching, made again after an event at
# most every ROOM_MIN_S and at least every ROOM_MAX_S (escalations and waits move on
# timers, not events). At national scale a snapshot costs some 25 ms.
ROOM_MIN_S, ROOM_MAX_S = 0.5, 2.0


def _still_signed_in(request: web.Request, token: str | None) -> bool:
    return token is not None and users_of(request).session(token) is not None


async def _stream(request: web.Request, look: Callable[[], list[bytes]]) -> web.StreamResponse:
    """Every LOOK_S: the events `look` gives are written; ends when the session does."""
    token = token_of(request)
    resp = await sse.open_stream(request, 2000)
    try:
        while not sse.closing(request):
            if not _still_signed_in(request, token):
                await resp.write(sse.event("signed_out", {}))
                break
            for chunk in look():
                await resp.write(chunk)
            await sse.pause(request, LOOK_S)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    return resp


def _without_counters(me: dict[str, Any] | None, call: dict[str, Any] | None) -> str:
    """The agent's view without what only time changes: a change in it is news."""
    quiet = {**(me or {}), "wrap_up_left_s": None,
             "call": None if call is None else {**call, "waited_s": None}}
    return json.dumps(quiet, sort_keys=True)


async def agent_events(request: web.Request) -> web.StreamResponse:
    _session, agent_id, _call = await own_call(request)  # 401/403 before the stream starts
    d = daemon_of(request)
    last: dict[str, Any] = {"key": "", "at": 0.0}

    def look() -> list[bytes]:
        me = agent_json(d, agent_id)
        agent = d.acd.agents.get(agent_id)
        call = d.acd.calls.get(agent.call_id) if agent and agent.call_id else None
        pop = call_json(d, call)
        key, now = _without_counters(me, pop), time.monotonic()
        if key == last["key"] and now - last["at"] < REFRESH_S:
            return []
        last.update(key=key, at=now)
        return [sse.event("agent", {"agent": me, "call": pop})]

    return await _stream(request, look)


def _room(app: web.Application, d: Any) -> dict[str, Any]:
    """The supervisors' shared snapshot, made again when due (see ROOM_MIN_S)."""
    room = app[ROOM]
    now = time.monotonic()
    age = now - room["at"]
    moved = d.switchboard.events_handled != room["events"]
    if not room["data"] or age >= ROOM_MAX_S or (moved and age >= ROOM_MIN_S):
        room["events"] = d.switchboard.events_handled
        room["data"] = sse.event("state", ops.state_json(d, d.live.clock()))
        room["version"] += 1
        room["at"] = now
    return room


async def room_events(request: web.Request) -> web.StreamResponse:
    await require(request, "supervisor", "admin")
    d = daemon_of(request)
    sent: dict[str, Any] = {"version": -1, "alert": None, "alerts": -1}

    def look() -> list[bytes]:
        out = []
        room = _room(request.app, d)
        if room["version"] != sent["version"]:
            sent["version"] = room["version"]
            out.append(room["data"])
        alerts = d.switchboard.alerts
        newest = alerts[-1] if alerts else None
        # The list is bounded (the oldest dropped): its newest entry tells a new one.
        if newest is not sent["alert"] or sent["alerts"] < 0:
            sent.update(alert=newest, alerts=len(alerts))
            out.append(sse.event("alerts", alerts_json(d)))
        return out

    return await _stream(request, look)


def _events_doc(summary: str, events: list[str]) -> dict[str, Any]:
    item = _obj(["data"], event={"enum": events},
                data={"type": "string", "contentMediaType": "application/json"},
                retry=INT, id=STR)
    return {"get": _op(summary, "consoles", {"200": {
        "description": "event stream", "content": {
            "text/event-stream": {"itemSchema": item, "schema": item}}}}, auth=True)}


EXTRA_PATHS.update({
    "/api/agent/events": _events_doc(
        "server-sent events for the agent's console: `agent` with the signed-in agent's "
        "state and call ({agent, call} as GET /api/agent and GET /api/agent/call) when "
        "either changes and at least every 5 s; `signed_out` when the session ends",
        ["agent", "signed_out"]),
    "/api/state/events": _events_doc(
        "server-sent events for the supervisor's console (supervisor, admin): `state` "
        "(as GET /api/state) within 0.5 s of a change and at least every 2 s, `alerts` "
        "(as GET /api/alerts) when one is raised; `signed_out` when the session ends",
        ["state", "alerts", "signed_out"]),
})


def setup(app: web.Application) -> None:
    sse.setup(app)
    app[ROOM] = {"at": 0.0, "events": -1, "data": b"", "version": 0}
    app.router.add_get("/api/agent/events", agent_events)
    app.router.add_get("/api/state/events", room_events)
