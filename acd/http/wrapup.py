"""Wrap-up: the call taker classifies the call (the call flows' `wrapup:` codes) and says
they are ready; supervisors review the calls classified for review (pranks).

- `GET /api/wrapup`: the classes and emergency types, with their labels, and `required`;
- `POST /api/agent/classify {code, emergency_type, place, people_affected, notes, ready}`:
  the call the agent is on or wrapping up; `ready` (default true) ends the wrap-up;
- `POST /api/agent/ready`: end the wrap-up (409 while the flows require a classification);
- `GET /api/reviews?days=7`: the calls classified for review (supervisors), newest first,
  by number: the nuisance list (callers.yaml) is a person's decision, never automatic;
- `GET /api/pauses`: the reasons an agent may pause for (`pauses:`), with their labels and
  phone digits (none listed: any reason code).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from aiohttp import web

from acd.domain.model import AgentState
from acd.http.api import signed_in_agent
from acd.http.auth import body, daemon_of, database_of, field, json_error, require
from acd.http.inputs import body_text, query_text, whole_number
from acd.http.openapi import (
    ACCEPTED,
    BOOL,
    EXTRA_PATHS,
    INT,
    NUM,
    STR,
    TEXT,
    _err,
    _json,
    _obj,
    _op,
    _query,
)
from acd.vocabulary import events as ev

NOTES_MAX = 2000
PLACE_MAX = 200
NULL_STR = {"type": ["string", "null"]}


async def wrapup(request: web.Request) -> web.Response:
    await require(request)
    w = daemon_of(request).acd.flows.wrapup
    return web.json_response({
        "required": w.required,
        "classes": [c.model_dump() for c in w.classes],
        "emergency_types": [t.model_dump() for t in w.emergency_types]})


async def pauses(request: web.Request) -> web.Response:
    await require(request)
    flows = daemon_of(request).acd.flows
    return web.json_response({"reasons": [p.model_dump() for p in flows.pauses]})


async def classify(request: web.Request) -> web.Response:
    _session, agent_id = await signed_in_agent(request)
    agent = daemon_of(request).acd.agents.get(agent_id)
    # The call itself has left the core's memory once it ended: the agent still names it.
    if agent is None or agent.call_id is None or agent.state not in (
            AgentState.ON_CALL, AgentState.AFTER_CALL_WORK):
        raise json_error(409, f"agent {agent_id} has no call to classify")
    call_id = agent.call_id
    data = await body(request)
    w = daemon_of(request).acd.flows.wrapup
    chosen = w.call_class(field(data, "code"))
    if chosen is None:
        raise json_error(422, "'code' is not one of the call flows' wrap-up classes",
                         codes=[c.code for c in w.classes])
    kind = data.get("emergency_type")
    people = data.get("people_affected")
    if not chosen.report and (kind is not None or people is not None):
        raise json_error(422, f"'{chosen.code}' is not an emergency report: no "
                              "'emergency_type' or 'people_affected'")
    if kind is not None and (not isinstance(kind, str) or w.emergency_type(kind) is None):
        raise json_error(422, "'emergency_type' is not one of the call flows' types",
                         types=[t.code for t in w.emergency_types])
    people = whole_number(data, "people_affected", None, 0, 1_000_000)
    ready = data.get("ready", True)
    if not isinstance(ready, bool):
        raise json_error(400, "'ready' is true or false")
    daemon_of(request).switchboard.post(ev.CallClassified(
        agent_id, call_id, chosen.code, emergency_type=kind,
        place=body_text(data, "place", PLACE_MAX), people_affected=people,
        notes=body_text(data, "notes", NOTES_MAX), ready=ready))
    return web.json_response({"call_id": call_id, "code": chosen.code, "ready": ready},
                             status=202)


async def ready(request: web.Request) -> web.Response:
    _session, agent_id = await signed_in_agent(request)
    acd = daemon_of(request).acd
    agent = acd.agents.get(agent_id)
    if agent is None or agent.state is not AgentState.AFTER_CALL_WORK:
        raise json_error(409, f"agent {agent_id} is not in wrap-up")
    why = acd.wrap_up_refusal(agent_id)
    if why is not None:
        raise json_error(409, why)
    daemon_of(request).switchboard.post(ev.WrapUpDone(agent_id))
    return web.json_response({"agent_id": agent_id, "ready": True}, status=202)


REVIEW_SQL = """
SELECT k.call_id, k.code, k.notes, k.agent_id, k.classified_at, c.caller_e164, c.caller,
       c.centre_id, c.arrived_at, c.talk_s
  FROM call_classes k LEFT JOIN calls c USING (call_id)
 WHERE k.code = ANY($1::text[]) AND k.classified_at >= $2
 ORDER BY k.classified_at DESC LIMIT 500
"""


async def reviews(request: web.Request) -> web.Response:
    await require(request, "supervisor", "admin")
    d = daemon_of(request)
    text = query_text(request, "days")
    try:
        days = 7.0 if text is None else float(text)
    except ValueError:
        days = -1.0
    if not 0 < days <= 366:  # NaN too
        raise json_error(400, "'days' is a number of days, more than 0 and at most 366")
    codes = [c.code for c in d.acd.flows.wrapup.classes if c.review]
    since = datetime.fromtimestamp(d.live.clock() - days * 86400, UTC)
    pool = await database_of(request).pool()
    rows = await pool.fetch(REVIEW_SQL, codes, since, timeout=5.0)
    calls = [{"call_id": r["call_id"], "code": r["code"], "notes": r["notes"],
              "agent_id": r["agent_id"], "classified_at": r["classified_at"].timestamp(),
              "caller": r["caller_e164"] or r["caller"], "centre_id": r["centre_id"],
              "talk_s": r["talk_s"]} for r in rows]
    by_number = Counter(c["caller"] for c in calls if c["caller"])
    return web.json_response({"codes": codes, "calls": calls, "numbers": [
        {"caller": n, "calls": k} for n, k in by_number.most_common()]})


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/wrapup", wrapup)
    r.add_post("/api/agent/classify", classify)
    r.add_post("/api/agent/ready", ready)
    r.add_get("/api/reviews", reviews)
    r.add_get("/api/pauses", pauses)


_LABELLED = _obj(code=STR, label=STR, label_en=NULL_STR)
EXTRA_PATHS.update({
    "/api/wrapup": {"get": _op(
        "how calls are classified at wrap-up: the call flows' classes and emergency types",
        "agents", {"200": _json({"type": "object", "properties": {
            "required": BOOL, "classes": {"type": "array", "items": _obj(
                code=STR, label=STR, label_en=NULL_STR, report=BOOL, review=BOOL)},
            "emergency_types": {"type": "array", "items": _LABELLED}}})}, auth=True)},
    "/api/agent/classify": {"post": _op(
        "classify the call the signed-in agent is on or wrapping up; ready ends the wrap-up",
        "agents", {"202": ACCEPTED, "409": _err("no call to classify"),
                   "422": _err("not a class or type of the call flows")},
        auth=True, body=_obj(["code"], code=TEXT, emergency_type=STR,
                             people_affected={"type": "integer", "minimum": 0,
                                              "maximum": 1_000_000},
                             place={"type": "string", "maxLength": PLACE_MAX},
                             notes={"type": "string", "maxLength": NOTES_MAX}, ready=BOOL))},
    "/api/pauses": {"get": _op(
        "the reasons an agent may pause for (none listed: any reason code)", "agents",
        {"200": _json(_obj(reasons={"type": "array", "items": _obj(
            code=STR, label=STR, label_en=NULL_STR, digit=NULL_STR)}))}, auth=True)},
    "/api/agent/ready": {"post": _op(
        "end the signed-in agent's wrap-up", "agents",
        {"202": ACCEPTED, "409": _err("not in wrap-up, or the call is not classified yet")},
        auth=True)},
    "/api/reviews": {"get": _op(
        "calls classified for review (pranks) and how often each number made one",
        "supervisors", {"400": _err("'days' is not a number from 0 to 366"), "200": _json(_obj(
            codes={"type": "array", "items": STR},
            calls={"type": "array", "items": _obj(
                call_id=STR, code=STR, notes=NULL_STR, agent_id=STR, classified_at=NUM,
                caller=NULL_STR, centre_id=NULL_STR, talk_s={"type": ["number", "null"]})},
            numbers={"type": "array", "items": _obj(caller=STR, calls=INT)}))},
        auth=True, params=[_query("days", "how far back, in days (default 7)", {
            "type": "number", "exclusiveMinimum": 0, "maximum": 366})])},
})
