"""The JSON API: sign-in, agents, supervisors, admins.

- anyone: `POST /api/login`, `POST /api/logout`, `GET /api/me`;
- agents: `POST /api/agent/login` (agent id, password, phone), `/api/agent/logout`,
  `/api/agent/pause`, `/api/agent/unpause`, `GET /api/agent` (their call's buttons:
  `acd.http.agent_calls`);
- supervisors and admins: `GET /api/state`, `GET /api/alerts`, `POST /api/agents/{id}/logout`,
  `POST /api/agents/{id}/pause`, `POST /api/agents/{id}/monitor`;
- admins: `POST /api/config/validate`, `POST /api/config/reload`, `POST /api/users`.

Agent actions become events for the switchboard, exactly as the phone's would.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from aiohttp import web

from acd.domain.core import ReloadRefused
from acd.domain.model import AgentState, Call
from acd.domain.phones import ENDPOINT
from acd.http import ops
from acd.http.auth import (
    COOKIE,
    audit,
    body,
    clean,
    daemon_of,
    field,
    json_error,
    remote_of,
    require,
    token_of,
    users_of,
)
from acd.http.security import is_https
from acd.service.hashing import Busy
from acd.service.supervision import MODES, MonitorRequest, SupervisionError
from acd.service.users import ROLES, PasswordPolicyError, Session, User, UserError, UserExistsError
from acd.vocabulary import events as ev

REASON = re.compile(r"^[a-z0-9_-]{1,32}$")
# A phone at this site: a PJSIP endpoint name only. A free-form dial string (a trunk with a
# number, a Local channel into another context) would let an account divert 117 calls or a
# supervisor's snoop to any number.
# Matched whole (acd.domain.phones.ENDPOINT): `$` would let a trailing newline through.
DEVICE = ENDPOINT


def _session_json(token: str, session: Session) -> dict[str, Any]:
    u = session.user
    return {"token": token, "username": u.username, "role": u.role, "agent_id": u.agent_id,
            "expires_at": session.expires_at}


def _with_cookie(request: web.Request, resp: web.Response, token: str,
                 ttl_s: float) -> web.Response:
    # Secure behind TLS, so that the cookie never travels in clear once it has been https.
    resp.set_cookie(COOKIE, token, max_age=int(ttl_s), httponly=True, samesite="Strict",
                    path="/", secure=is_https(request))
    return resp


# --- sign-in ---------------------------------------------------------------------------

async def _authenticate(request: web.Request, name: str, password: str, action: str,
                        wrong: str, agents_only: bool = False) -> User:
    """Lockout, password check and its audit, shared by both ways of signing in."""
    users = users_of(request)
    source = remote_of(request)
    # Counted before the (slow) check, so that guesses sent at once are held too.
    refused = users.guard.begin(name, source)
    if refused is not None:
        await audit(request, None, action, "locked", target=name, detail={"limit": refused})
        raise json_error(429, "too many failed sign-ins: try again in a few minutes")
    try:
        with users.hashes.admit():
            user = await users.authenticate(name, password)
    except Busy:
        users.guard.withdraw(name, source)  # not checked: not a guess
        raise json_error(429, "too many sign-ins at once: try again in a moment") from None
    except BaseException:
        users.guard.withdraw(name, source)  # the database failed (a 503), not the password
        raise
    if user is None or (agents_only and user.agent_id is None):
        await audit(request, None, action, "denied", target=name)
        raise json_error(401, wrong)
    users.guard.succeeded(name, source)
    return user


async def _signed_in(request: web.Request, user: User) -> web.Response:
    users = users_of(request)
    token, session = await users.open_session(user)
    return _with_cookie(request, web.json_response(_session_json(token, session)), token,
                        users.session_ttl_s)


async def login(request: web.Request) -> web.Response:
    data = await body(request)
    user = await _authenticate(request, field(data, "username"), field(data, "password"),
                               "login", "wrong username or password")
    await audit(request, user, "login", "ok")
    return await _signed_in(request, user)


async def logout(request: web.Request) -> web.Response:
    session = await require(request)
    token = token_of(request)
    if token:
        await users_of(request).close_session(token)
    await audit(request, session.user, "logout", "ok")
    resp = web.json_response({"signed_out": True})
    resp.del_cookie(COOKIE, path="/")
    return resp


async def me(request: web.Request) -> web.Response:
    session = await require(request)
    u = session.user
    return web.json_response({"username": u.username, "role": u.role, "agent_id": u.agent_id,
                              "expires_at": session.expires_at})


# --- agents ------------------------------------------------------------------------------

async def agent_login(request: web.Request) -> web.Response:
    """An agent signs in with their agent id and password at a phone (free seating)."""
    d = daemon_of(request)
    data = await body(request)
    device = field(data, "device")
    if not DEVICE.fullmatch(device):
        raise json_error(400, "'device' is a PJSIP endpoint such as PJSIP/desk-12")
    user = await _authenticate(request, field(data, "agent_id"), field(data, "password"),
                               "agent.login", "wrong agent id or password", agents_only=True)
    assert user.agent_id is not None
    if user.agent_id not in d.acd.agents:
        raise json_error(409, f"agent {user.agent_id} is not in the call flows")
    # Asked before posting so the agent hears why; the core asks again when it logs them in.
    why = d.acd.login_refusal(user.agent_id, device)
    if why is not None:
        await audit(request, user, "agent.login", "refused", target=device,
                    detail={"reason": why})
        raise json_error(409, why)
    d.switchboard.post(ev.AgentLoggedIn(user.agent_id, device))
    await audit(request, user, "agent.login", "ok", target=device)
    return await _signed_in(request, user)


async def signed_in_agent(request: web.Request) -> tuple[Session, str]:
    session = await require(request)
    agent_id = session.user.agent_id
    if agent_id is None:
        raise json_error(403, "this account is not an agent's")
    return session, agent_id


async def own_call(request: web.Request) -> tuple[Session, str, Call | None]:
    """(session, agent id, the call ringing at, connected to or in wrap-up with the
    signed-in agent, if any)."""
    session, agent_id = await signed_in_agent(request)
    d = daemon_of(request)
    agent = d.acd.agents.get(agent_id)
    call = d.acd.calls.get(agent.call_id) if agent and agent.call_id else None
    return session, agent_id, call


async def agent_logout(request: web.Request) -> web.Response:
    session, agent_id = await signed_in_agent(request)
    daemon_of(request).switchboard.post(ev.AgentLoggedOut(agent_id, "agent"))
    token = token_of(request)
    if token:
        await users_of(request).close_session(token)
    await audit(request, session.user, "agent.logout", "ok")
    return web.json_response({"agent_id": agent_id, "logged_out": True}, status=202)


async def _pause_reason(request: web.Request) -> str:
    """The body's `reason`: a code, and one of the call flows' when they list some."""
    reason = field(await body(request), "reason")
    if not REASON.match(reason):
        raise json_error(400, "'reason' is a code of 1-32 characters a-z, 0-9, '_' or '-'")
    flows = daemon_of(request).acd.flows
    if flows.pause_code(reason) != reason:
        raise json_error(422, "'reason' is not one of the call flows' pause reasons",
                         reasons=[p.code for p in flows.pauses])
    return reason


async def agent_pause(request: web.Request) -> web.Response:
    _session, agent_id = await signed_in_agent(request)
    reason = await _pause_reason(request)
    daemon_of(request).switchboard.post(ev.AgentPaused(agent_id, reason))
    return web.json_response({"agent_id": agent_id, "paused": reason}, status=202)


async def agent_unpause(request: web.Request) -> web.Response:
    _session, agent_id = await signed_in_agent(request)
    daemon_of(request).switchboard.post(ev.AgentUnpaused(agent_id))
    return web.json_response({"agent_id": agent_id, "paused": None}, status=202)


def agent_json(d: Any, agent_id: str) -> dict[str, Any] | None:
    """What the agent's console shows of their state (None: not in the call flows); the
    same for `GET /api/agent` and the console's event stream."""
    agent = d.acd.agents.get(agent_id)
    if agent is None:
        return None
    wrapping_up = agent.state is AgentState.AFTER_CALL_WORK
    return {
        "agent_id": agent_id, "state": agent.state.value, "device": agent.device,
        "pause_reason": agent.pause_reason, "call_id": agent.call_id, "pending": agent.pending,
        # Counting down in the console; under a required classification it may reach 0.
        "wrap_up_left_s": max(0.0, agent.wrap_up_until - d.live.clock())
        if wrapping_up else None,
        "classified": agent.call_id is not None and agent.classified_call == agent.call_id}


async def agent_me(request: web.Request) -> web.Response:
    _session, agent_id = await signed_in_agent(request)
    me = agent_json(daemon_of(request), agent_id)
    if me is None:
        raise json_error(404, f"agent {agent_id} is not in the call flows")
    return web.json_response(me)


# --- supervisors -----------------------------------------------------------------------

async def state(request: web.Request) -> web.Response:
    await require(request, "supervisor", "admin")
    d = daemon_of(request)
    return web.json_response(ops.state_json(d, d.live.clock()))


def alerts_json(d: Any) -> dict[str, Any]:
    """The core's recent alerts, newest first (`GET /api/alerts` and the supervisors'
    event stream)."""
    recent = list(reversed(d.switchboard.alerts))
    return {"alerts": [
        {"kind": a.kind, "message": a.message, "at": a.at, "call_id": a.call_id,
         "centre_id": a.centre_id} for a in recent]}


async def alerts(request: web.Request) -> web.Response:
    """The core's recent alerts (a call long at national, a centre unstaffed...), newest
    first."""
    await require(request, "supervisor", "admin")
    return web.json_response(alerts_json(daemon_of(request)))


async def force_logout(request: web.Request) -> web.Response:
    session = await require(request, "supervisor", "admin")
    d = daemon_of(request)
    agent_id = request.match_info["agent_id"]
    if agent_id not in d.acd.agents:
        raise json_error(404, f"no agent {agent_id}")
    d.switchboard.post(ev.AgentLoggedOut(agent_id, "supervisor"))
    await audit(request, session.user, "agent.force_logout", "ok", target=agent_id)
    return web.json_response({"agent_id": agent_id, "logged_out": True}, status=202)


async def force_pause(request: web.Request) -> web.Response:
    """A supervisor pauses an agent (a briefing, a desk left unattended): at once when
    free, after the current call otherwise, as the agent's own pause."""
    session = await require(request, "supervisor", "admin")
    d = daemon_of(request)
    agent_id = request.match_info["agent_id"]
    if agent_id not in d.acd.agents:
        raise json_error(404, f"no agent {agent_id}")
    reason = await _pause_reason(request)
    d.switchboard.post(ev.AgentPaused(agent_id, reason))
    await audit(request, session.user, "agent.force_pause", "ok", target=agent_id,
                detail={"reason": reason})
    return web.json_response({"agent_id": agent_id, "paused": reason}, status=202)


async def monitor(request: web.Request) -> web.Response:
    """Listen to, whisper to or barge into an agent's call from the supervisor's phone."""
    session = await require(request, "supervisor", "admin")
    d = daemon_of(request)
    agent_id = request.match_info["agent_id"]
    data = await body(request)
    mode, device = field(data, "mode"), field(data, "device")
    if mode not in MODES:
        raise json_error(400, f"'mode' is one of {', '.join(MODES)}")
    if not DEVICE.fullmatch(device):
        raise json_error(400, "'device' is a PJSIP endpoint such as PJSIP/sup-1")
    agent = d.acd.agents.get(agent_id)
    if agent is None:
        raise json_error(404, f"no agent {agent_id}")
    if (why := d.acd.monitor_refusal(device)) is not None:
        raise json_error(409, why)
    if d.supervision is None:
        raise json_error(503, "live monitoring is not available: Asterisk adapters not "
                              "configured")
    if agent.state is not AgentState.ON_CALL or agent.call_id is None or agent.device is None:
        raise json_error(409, f"agent {agent_id} is not on a call", state=agent.state.value)
    req = MonitorRequest(agent_id, agent.call_id, agent.device, device, mode)
    target = f"{agent_id}/{agent.call_id}"
    try:
        monitor_id = await d.supervision.snoop(req)
    except SupervisionError as e:
        await audit(request, session.user, f"monitor.{mode}", "failed", target=target,
                    detail={"error": str(e)})
        raise json_error(409, str(e)) from None
    await audit(request, session.user, f"monitor.{mode}", "ok", target=target,
                detail={"device": device, "monitor_id": monitor_id})
    return web.json_response({"monitor_id": monitor_id, "agent_id": agent_id,
                              "call_id": agent.call_id, "mode": mode}, status=202)


# --- admins ------------------------------------------------------------------------------

async def _load(request: web.Request) -> Any:
    from config.loader import ConfigError, load_flows

    d = daemon_of(request)
    try:
        return await asyncio.to_thread(load_flows, d.settings.config, d.regions)
    except ConfigError as e:
        return [str(p) for p in e.problems]


async def config_validate(request: web.Request) -> web.Response:
    await require(request, "admin")
    d = daemon_of(request)
    flows = await _load(request)
    if isinstance(flows, list):
        return web.json_response({"valid": False, "problems": flows}, status=422)
    conflicts = d.acd.reload_conflicts(flows)
    return web.json_response({"valid": True, "problems": [], "applicable_now": not conflicts,
                              "conflicts": conflicts, "centres": len(flows.centres),
                              "agents": len(flows.agents)})


async def config_reload(request: web.Request) -> web.Response:
    """Load the call flows from disk and adopt them without dropping a call; an invalid
    folder is rejected with its problems and the running flows stay in force."""
    session = await require(request, "admin")
    d = daemon_of(request)
    target = str(d.settings.config)
    flows = await _load(request)
    if isinstance(flows, list):
        d.metrics.reloads.labels("invalid").inc()
        await audit(request, session.user, "config.reload", "refused", target=target,
                    detail={"problems": flows[:50]})
        return web.json_response({"reloaded": False, "problems": flows}, status=422)
    try:
        d.switchboard.apply_now(lambda acd, now: acd.reconfigure(flows, now))
    except ReloadRefused as e:
        d.metrics.reloads.labels("refused").inc()
        await audit(request, session.user, "config.reload", "refused", target=target,
                    detail={"conflicts": e.problems})
        return web.json_response({"reloaded": False, "conflicts": e.problems}, status=409)
    d.flows = flows
    d.metrics.reloads.labels("applied").inc()
    await audit(request, session.user, "config.reload", "ok", target=target)
    return web.json_response({"reloaded": True, "centres": len(flows.centres),
                              "agents": len(flows.agents), "calls_in_progress":
                              len(d.acd.calls)})


async def add_user(request: web.Request) -> web.Response:
    session = await require(request, "admin")
    data = await body(request)
    username, password, role = (field(data, "username"), field(data, "password"),
                                field(data, "role"))
    if role not in ROLES:
        raise json_error(400, f"'role' is one of {', '.join(ROLES)}")
    agent_id, display_name = data.get("agent_id"), data.get("display_name")
    if display_name is not None and not isinstance(display_name, str):
        raise json_error(400, "'display_name' is a string")
    if display_name is not None and not clean(display_name):
        raise json_error(400, "'display_name' holds a character that is not allowed")
    try:
        user = await users_of(request).add(username, password, role,
                                           agent_id=agent_id if isinstance(agent_id, str)
                                           else None,
                                           display_name=display_name)
    except UserExistsError as e:
        raise json_error(409, str(e)) from None
    except (PasswordPolicyError, UserError) as e:
        raise json_error(422, str(e)) from None
    await audit(request, session.user, "user.add", "ok", target=username,
                detail={"role": role})
    return web.json_response({"username": user.username, "role": user.role,
                              "agent_id": user.agent_id}, status=201)


def setup(app: web.Application) -> None:
    r = app.router
    r.add_post("/api/login", login)
    r.add_post("/api/logout", logout)
    r.add_get("/api/me", me)
    r.add_post("/api/agent/login", agent_login)
    r.add_post("/api/agent/logout", agent_logout)
    r.add_post("/api/agent/pause", agent_pause)
    r.add_post("/api/agent/unpause", agent_unpause)
    r.add_get("/api/agent", agent_me)
    r.add_get("/api/state", state)
    r.add_get("/api/alerts", alerts)
    r.add_post("/api/agents/{agent_id}/logout", force_logout)
    r.add_post("/api/agents/{agent_id}/pause", force_pause)
    r.add_post("/api/agents/{agent_id}/monitor", monitor)
    r.add_post("/api/config/validate", config_validate)
    r.add_post("/api/config/reload", config_reload)
    r.add_post("/api/users", add_user)
