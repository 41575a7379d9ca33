"""The OpenAPI 3.1 document of acd117's HTTP API, served at /openapi.json.

Written by hand beside the routes; tests/ops/test_openapi.py checks that every route is
documented and every documented path exists.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from aiohttp import web

from acd.service.users import ROLES

Schema = dict[str, Any]


def _obj(required: list[str] | None = None, **props: Schema) -> Schema:
    out: Schema = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


STR: Schema = {"type": "string"}
NUM: Schema = {"type": "number"}
INT: Schema = {"type": "integer"}
BOOL: Schema = {"type": "boolean"}
CODE: Schema = {"type": "string", "pattern": "^[0-9]{2,15}$"}  # a transfer destination
ANY_OBJ: Schema = {"type": "object"}
# A name or password as the handlers take it: non-empty, no NUL (PostgreSQL cannot hold it).
TEXT: Schema = {"type": "string", "minLength": 1, "pattern": "^[^\\u0000]+$"}
# A phone: a PJSIP endpoint name, matched whole (acd.domain.phones.ENDPOINT).
PHONE: Schema = {"type": "string", "pattern": "^PJSIP/[A-Za-z0-9_.-]{1,64}$",
                 "example": "PJSIP/desk-12"}
ERROR: Schema = _obj(["error"], error=STR)
# Query text the handlers pass on to PostgreSQL: no NUL (empty means "not given").
QUERY_TEXT: Schema = {"type": "string", "pattern": "^[^\\u0000]*$"}
# A local date or date-time as the handlers read it (`datetime.fromisoformat`), optionally
# with a UTC offset: real days of each month (29 February in leap years only), years 2000
# to 2099 (acd.http.inputs.FIRST_YEAR..LAST_YEAR, and a whole last day still inside).
_DAY = ("(20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
        "|20[0-9]{2}-(0[13-9]|1[0-2])-(29|30)"
        "|20[0-9]{2}-(0[13578]|1[02])-31"
        "|20([02468][048]|[13579][26])-02-29)")
_CLOCK = ("(T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,6})?)?"
          "(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])?)?")
LOCAL_TIME: Schema = {"type": "string", "pattern": f"^{_DAY}{_CLOCK}$",
                      "examples": ["2026-08-17", "2026-08-17T08:30"]}
# An IANA time zone `zoneinfo` knows (a component: the list is long).
TIME_ZONE: Schema = {"type": "string", "enum": sorted(available_timezones())}
TIME_ZONE_REF: Schema = {"$ref": "#/components/schemas/TimeZone"}
ROLE: Schema = {"enum": list(ROLES)}
# acd.service.users.USERNAME and the password policy (password_problems): 8 characters or
# more with an upper-case letter, a lower-case letter and a digit.
USERNAME: Schema = {"type": "string", "pattern": "^[A-Za-z0-9_.-]{3,64}$"}
PASSWORD: Schema = {"type": "string", "minLength": 8,
                    "pattern": "^(?=.*[A-Z])(?=.*[a-z])(?=.*[0-9])[^\\u0000]{8,}$"}
SESSION: Schema = _obj(["token", "username", "role", "expires_at"], token=STR, username=STR,
                       role={"enum": ["agent", "supervisor", "admin"]},
                       agent_id={"type": ["string", "null"]}, expires_at=NUM)
FIGURES: Schema = _obj(
    waiting=INT, longest_wait_s=NUM, offered_today=INT, answered_today=INT,
    abandoned_today=INT, short_abandoned_today=INT,
    service_level_today={"type": ["number", "null"]},
    abandon_rate_today={"type": ["number", "null"]}, asa_today_s={"type": ["number", "null"]},
    escalations_1h=INT, agents=_obj(available=INT, ringing=INT, on_call=INT,
                                    after_call_work=INT, paused=INT, logged_in=INT))
SSE_EVENT: Schema = _obj(["data"], event={"const": "figures"},
                        data={"type": "string", "contentMediaType": "application/json"},
                        id=STR, retry=INT)
SNAPSHOT: Schema = _obj(at=NUM, service_level_s=NUM, total=FIGURES,
                        tiers={"type": "array", "items": FIGURES},
                        centres={"type": "array", "items": FIGURES})

_NULL_STR: Schema = {"type": ["string", "null"]}
_NULL_NUM: Schema = {"type": ["number", "null"]}
# GET /api/state's calls and agents one by one (acd.service.corestate).
LIVE_CALL: Schema = _obj(
    id=STR, caller=STR, caller_class=STR, region=STR, region_name=STR,
    service=STR, state=STR, arrived_at=NUM, waited_s=NUM, tier=_NULL_STR, centre=_NULL_STR,
    agent_id=_NULL_STR, escalations=INT,
    position={"type": ["integer", "null"], "minimum": 1, "description":
              "place in the queue it waits in now (the last it joined), 1 = served next: "
              "priority class first, then arrival; null when not queued (ringing an agent, "
              "connected)"})
LIVE_AGENT: Schema = _obj(
    id=STR, centre=STR, state=STR, device=_NULL_STR, since=_NULL_NUM, call_id=_NULL_STR,
    pause_reason=_NULL_STR,
    calls_answered={"type": "integer", "description": "answered since this log-in"},
    calls_today={"type": "integer", "description":
                 "answered today, local day of the agent's centre: each ring of a 117 call "
                 "the agent answered (a call handed on to them or a consultation included); "
                 "kept across log-ins and restarts"})


def _json(schema: Schema, description: str = "OK") -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _err(description: str) -> Schema:
    return _json({"$ref": "#/components/schemas/Error"}, description)


def _body(schema: Schema) -> Schema:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _op(summary: str, tag: str, responses: dict[str, Schema], *, auth: bool = False,
        body: Schema | None = None, params: list[Schema] | None = None) -> Schema:
    op: Schema = {"summary": summary, "tags": [tag], "responses": responses}
    if auth:
        op["security"] = [{"bearer": []}, {"cookie": []}]
        responses.setdefault("401", _err("not signed in"))
        responses.setdefault("403", _err("the role does not allow it"))
        responses.setdefault("503", _err("no user database configured"))
    if body is not None:
        op["requestBody"] = _body(body)
        responses.setdefault("400", _err("malformed body"))
    if params:
        op["parameters"] = params
    return op


def _query(name: str, description: str, schema: Schema | None = None,
           required: bool = False) -> Schema:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema or STR}


AGENT_ID = {"name": "agent_id", "in": "path", "required": True, "schema": STR}
ACCEPTED = _json(ANY_OBJ, "accepted: the event is on its way to the switchboard")


def document() -> Schema:
    paths: dict[str, dict[str, Schema]] = {
        "/health": {"get": _op("liveness: the event loop answers", "ops",
                               {"200": _json(_obj(status=STR, uptime_s=NUM))})},
        "/ready": {"get": _op("readiness: switchboard running, telephony connected", "ops",
                              {"200": _json(_obj(ready=BOOL, checks=ANY_OBJ)),
                               "503": _json(_obj(ready=BOOL, checks=ANY_OBJ), "not ready")})},
        "/metrics": {"get": _op("Prometheus metrics", "ops", {"200": {
            "description": "text exposition format",
            "content": {"text/plain": {"schema": STR}}}})},
        "/openapi.json": {"get": _op("this document", "ops", {"200": _json(ANY_OBJ)})},
        "/wallboard": {"get": _op("the live wallboard page", "wallboard", {"200": {
            "description": "HTML", "content": {"text/html": {"schema": STR}}}})},
        "/wallboard/events": {"get": _op(
            "server-sent events: `figures` with the snapshot every 2 s (at most 3 s)",
            "wallboard", {"200": {"description": "event stream", "content": {
                # One schema per event (OpenAPI 3.2's itemSchema for event streams): the
                # `figures` event whose data is the snapshot JSON.
                "text/event-stream": {"itemSchema": SSE_EVENT, "schema": SSE_EVENT}}}})},
        "/api/wallboard": {"get": _op("the wallboard's figures now, per tier and centre",
                                      "wallboard", {"200": _json(SNAPSHOT)})},
        "/api/login": {"post": _op(
            "sign in; the token goes in `Authorization: Bearer` (a cookie is set too)",
            "users", {"200": _json(SESSION), "401": _err("wrong username or password"),
                      "429": _err("too many failed sign-ins lately, or at once: wait"),
                      "503": _err("no user database configured")},
            body=_obj(["username", "password"], username=TEXT, password=TEXT))},
        "/api/logout": {"post": _op("sign out", "users", {"200": _json(ANY_OBJ)}, auth=True)},
        "/api/me": {"get": _op("who is signed in", "users", {"200": _json(ANY_OBJ)},
                               auth=True)},
        "/api/users": {"post": _op(
            "add a user (admin); passwords: 8+ characters with upper case, lower case and "
            "digits", "users",
            {"201": _json(ANY_OBJ, "created"), "409": _err("the user or agent exists"),
             "422": _err("weak password")},
            auth=True, body=_obj(["username", "password", "role"], username=USERNAME,
                                 password=PASSWORD, role=ROLE, agent_id=TEXT,
                                 display_name=QUERY_TEXT))},
        "/api/agent/login": {"post": _op(
            "an agent signs in at a phone (free seating): the agent logs in to the ACD",
            "agents", {"200": _json(SESSION), "401": _err("wrong agent id or password"),
                       "429": _err("too many failed sign-ins lately, or at once: wait"),
                       "409": _err("agent not in the call flows, or the phone refused: "
                                   "occupied, a trunk, or another centre's"),
                       "503": _err("no user database configured")},
            body=_obj(["agent_id", "password", "device"], agent_id=TEXT, password=TEXT,
                      device=PHONE))},
        "/api/agent/logout": {"post": _op("the agent logs out (after the current call)",
                                          "agents", {"202": ACCEPTED}, auth=True)},
        "/api/agent/pause": {"post": _op("pause with a reason code", "agents",
                                         {"202": ACCEPTED, "422": _err(
                                             "not one of the call flows' pause reasons")},
                                         auth=True,
                                         body=_obj(["reason"], reason={
                                             "type": "string",
                                             "pattern": "^[a-z0-9_-]{1,32}$"}))},
        "/api/agent/unpause": {"post": _op("back to available", "agents", {"202": ACCEPTED},
                                           auth=True)},
        "/api/agent": {"get": _op("the signed-in agent's state", "agents",
                                  {"200": _json(ANY_OBJ)}, auth=True)},
        "/api/agent/transfer": {"post": _op(
            "hand the signed-in agent's connected call on to a transfer destination (blind)",
            "agents", {"202": _json(_obj(call_id=STR, to=STR)),
                       "409": _err("no connected call, or the destination cannot take it")},
            auth=True, body=_obj(["to"], to=CODE))},
        "/api/agent/consult": {"post": _op(
            "bring a destination into the call: a number is dialled, a centre rings one of "
            "its free agents; a consultation (the caller on hold) or, with conference, a "
            "three-way call", "agents",
            {"202": _json(_obj(call_id=STR, to=STR)),
             "409": _err("no connected call, or the destination cannot join it")},
            auth=True, body=_obj(["to"], to=CODE, conference=BOOL))},
        "/api/agent/consult/complete": {"post": _op(
            "leave the caller with the number or the centre's agent consulted or "
            "conferenced (attended transfer)",
            "agents", {"202": _json(_obj(call_id=STR, complete=BOOL)),
                       "409": _err("no consultation, or the third party has not answered")},
            auth=True)},
        "/api/agent/consult/cancel": {"post": _op(
            "hang up the third party consulted or conferenced; the caller is back with the "
            "agent",
            "agents", {"202": _json(_obj(call_id=STR, complete=BOOL)),
                       "409": _err("no consultation on the call")}, auth=True)},
        "/api/agent/hold": {"post": _op(
            "put the caller on hold (music) or take them back", "agents",
            {"202": _json(_obj(call_id=STR, on=BOOL)), "409": _err("no connected call")},
            auth=True, body=_obj(["on"], on=BOOL))},
        "/api/agent/mute": {"post": _op(
            "mute the agent towards the caller, or unmute", "agents",
            {"202": _json(_obj(call_id=STR, on=BOOL)), "409": _err("no connected call")},
            auth=True, body=_obj(["on"], on=BOOL))},
        "/api/transfers": {"get": _op(
            "where a call may be handed on: the call flows' transfer destinations", "agents",
            {"200": _json(_obj(destinations={"type": "array", "items": _obj(
                code=STR, label=STR, kind={"type": "string", "enum": ["centre", "number"]},
                target=STR)}))}, auth=True)},
        "/api/state": {"get": _op(
            "live state: centres, tiers, queues, calls and agents (supervisor, admin)",
            "supervisors", {"200": _json(_obj(centres={"type": "array"},
                                              queues={"type": "array"},
                                              calls={"type": "array", "items": LIVE_CALL},
                                              agents={"type": "array", "items": LIVE_AGENT}
                                              ))}, auth=True)},
        "/api/alerts": {"get": _op(
            "the core's recent alerts, newest first (supervisor, admin)", "supervisors",
            {"200": _json(_obj(alerts={"type": "array", "items": _obj(
                kind=STR, message=STR, at=NUM, call_id={"type": ["string", "null"]},
                centre_id={"type": ["string", "null"]})}))}, auth=True)},
        "/api/agents/{agent_id}/logout": {"post": _op(
            "force an agent's log-out (supervisor, admin)", "supervisors",
            {"202": ACCEPTED, "404": _err("no such agent")}, auth=True, params=[AGENT_ID])},
        "/api/agents/{agent_id}/pause": {"post": _op(
            "pause an agent (supervisor, admin): at once when free, after the call otherwise",
            "supervisors", {"202": ACCEPTED, "404": _err("no such agent"),
                            "422": _err("not one of the call flows' pause reasons")},
            auth=True, params=[AGENT_ID], body=_obj(["reason"], reason={
                "type": "string", "pattern": "^[a-z0-9_-]{1,32}$"}))},
        "/api/agents/{agent_id}/monitor": {"post": _op(
            "listen to, whisper to or barge into the agent's call from a phone "
            "(supervisor, admin)", "supervisors",
            {"202": _json(_obj(monitor_id=STR, agent_id=STR, call_id=STR, mode=STR)),
             "404": _err("no such agent"),
             "409": _err("the agent is not on a call, or the phone is no supervisor's")},
            auth=True, params=[AGENT_ID],
            body=_obj(["mode", "device"], mode={"enum": ["listen", "whisper", "barge"]},
                      device=PHONE))},
        "/api/config/validate": {"post": _op(
            "validate the call-flow folder on disk (admin)", "admins",
            {"200": _json(_obj(valid=BOOL, applicable_now=BOOL,
                               conflicts={"type": "array", "items": STR})),
             "422": _json(_obj(valid=BOOL, problems={"type": "array", "items": STR}),
                          "invalid: file:line:column: setting: problem")}, auth=True)},
        "/api/config/reload": {"post": _op(
            "adopt the call flows on disk without dropping a call (admin); an invalid folder "
            "is rejected and the running flows stay", "admins",
            {"200": _json(_obj(reloaded=BOOL, calls_in_progress=INT)),
             "422": _json(_obj(reloaded=BOOL, problems={"type": "array", "items": STR}),
                          "invalid call flows"),
             "409": _json(_obj(reloaded=BOOL, conflicts={"type": "array", "items": STR}),
                          "removes something in use (a logged-in agent, a busy queue)")},
            auth=True)},
    }
    for path, ops in EXTRA_PATHS.items():  # merged: a module may add a method to a path
        paths[path] = {**paths.get(path, {}), **ops}
    return {
        "openapi": "3.1.0",
        "info": {"title": "acd117", "version": "1",
                 "description": "Operations API of the 117 automatic call distributor."},
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR, "TimeZone": TIME_ZONE},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "acd117_session"}},
        },
    }


# Added by the modules that own those routes (reports, recordings).
EXTRA_PATHS: dict[str, dict[str, Schema]] = {}


async def serve(request: web.Request) -> web.Response:
    return web.json_response(document())


def setup(app: web.Application) -> None:
    app.router.add_get("/openapi.json", serve)
