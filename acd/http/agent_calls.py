"""The call taker's buttons on a connected call: transfer (blind), consult and conference
(a number or another centre's agent joins, the caller on hold or not), complete or
cancel, hold and mute. Each asks the core first, so a refusal is a 409 with the reason,
and becomes an event for the switchboard, as the phone's own buttons do; transfers and
consultations are audited.

- `GET /api/transfers`: where a call may be handed on (the call flows' `transfers`);
- `POST /api/agent/transfer {to}`, `POST /api/agent/consult {to, conference}`,
  `POST /api/agent/consult/complete`, `POST /api/agent/consult/cancel`,
  `POST /api/agent/hold {on}`, `POST /api/agent/mute {on}`.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from acd.domain.model import CallState
from acd.http.api import own_call
from acd.http.auth import audit, body, daemon_of, field, json_error, require
from acd.vocabulary import events as ev

TRANSFER_CODE = re.compile(r"^\d{2,15}$")


async def transfers(request: web.Request) -> web.Response:
    await require(request)
    flows = daemon_of(request).acd.flows
    return web.json_response({"destinations": [
        {"code": d.code, "label": d.label, "kind": "centre" if d.centre else "number",
         "target": d.centre or d.number} for d in flows.transfers.destinations]})


async def _call(request: web.Request) -> tuple[Any, str, str]:
    """(session, agent id, call id) of the signed-in agent's connected call."""
    session, agent_id, call = await own_call(request)
    if call is None or call.state is not CallState.CONNECTED or call.agent_id != agent_id:
        raise json_error(409, f"agent {agent_id} has no connected call")
    return session, agent_id, call.id


def _code(data: dict[str, Any]) -> str:
    code = field(data, "to")
    if not TRANSFER_CODE.match(code):
        raise json_error(400, "'to' is a transfer destination's code (2-15 digits)")
    return code


def _flag(data: dict[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise json_error(400, f"'{name}' is true or false")
    return value


async def agent_transfer(request: web.Request) -> web.Response:
    """Hand the call on (blind): 202 once it is under way."""
    session, agent_id, call_id = await _call(request)
    code = _code(await body(request))
    d = daemon_of(request)
    why = d.acd.transfer_refusal(call_id, agent_id, code, d.live.clock())
    return await _ask(request, session, "call.transfer", why, code,
                      ev.TransferRequested(call_id, agent_id, code), call_id)


async def agent_consult(request: web.Request) -> web.Response:
    """Bring a number, or an agent of another centre, into the call: a consultation (the
    caller on hold) or a conference."""
    session, agent_id, call_id = await _call(request)
    data = await body(request)
    code, conference = _code(data), _flag(data, "conference")
    d = daemon_of(request)
    why = d.acd.party_refusal(call_id, agent_id, code, d.live.clock())
    return await _ask(request, session, "call.conference" if conference else "call.consult",
                      why, code, ev.ConsultRequested(call_id, agent_id, code, conference),
                      call_id)


async def _ask(request: web.Request, session: Any, action: str, why: str | None, code: str,
               event: ev.Event, call_id: str) -> web.Response:
    if why is not None:
        await audit(request, session.user, action, "refused", target=code,
                    detail={"reason": why, "call_id": call_id})
        raise json_error(409, why)
    daemon_of(request).switchboard.post(event)
    await audit(request, session.user, action, "ok", target=code, detail={"call_id": call_id})
    return web.json_response({"call_id": call_id, "to": code}, status=202)


async def consult_end(request: web.Request) -> web.Response:
    session, agent_id, call_id = await _call(request)
    call = daemon_of(request).acd.calls[call_id]
    if call.party is None:
        raise json_error(409, "no consultation or conference on this call")
    complete = request.path.endswith("/complete")
    if complete and not call.party.connected:
        raise json_error(409, "the number (or the agent there) has not answered yet")
    daemon_of(request).switchboard.post(ev.ConsultEnded(call_id, agent_id, complete))
    await audit(request, session.user, "call.consult_" + ("complete" if complete else "cancel"),
                "ok", target=call.party.code, detail={"call_id": call_id})
    return web.json_response({"call_id": call_id, "complete": complete}, status=202)


async def agent_hold(request: web.Request) -> web.Response:
    _session, agent_id, call_id = await _call(request)
    on = _flag(await body(request), "on")
    daemon_of(request).switchboard.post(ev.HoldRequested(call_id, agent_id, on))
    return web.json_response({"call_id": call_id, "on": on}, status=202)


async def agent_mute(request: web.Request) -> web.Response:
    _session, agent_id, call_id = await _call(request)
    on = _flag(await body(request), "on")
    daemon_of(request).switchboard.post(ev.MuteRequested(call_id, agent_id, on))
    return web.json_response({"call_id": call_id, "on": on}, status=202)


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/transfers", transfers)
    r.add_post("/api/agent/transfer", agent_transfer)
    r.add_post("/api/agent/consult", agent_consult)
    r.add_post("/api/agent/consult/complete", consult_end)
    r.add_post("/api/agent/consult/cancel", consult_end)
    r.add_post("/api/agent/hold", agent_hold)
    r.add_post("/api/agent/mute", agent_mute)
