"""Admins manage users: list them, disable and re-enable them, change a role or password,
end their sessions. Each change that takes a user's rights away ends their sessions at once
(acd.service.users), and every action here is audited.

- `GET /api/users`;
- `PATCH /api/users/{username}` with `role` and/or `password`;
- `POST /api/users/{username}/disable`, `/enable`, `/logout` (end every session).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from acd.http.auth import audit, body, json_error, require, users_of
from acd.http.openapi import BOOL, EXTRA_PATHS, INT, PASSWORD, ROLE, STR, _err, _json, _obj, _op
from acd.service.users import ROLES, PasswordPolicyError, UserError


async def list_users(request: web.Request) -> web.Response:
    await require(request, "admin")
    return web.json_response({"users": await users_of(request).list_users()})


async def update_user(request: web.Request) -> web.Response:
    session = await require(request, "admin")
    username = request.match_info["username"]
    data = await body(request)
    role, password = data.get("role"), data.get("password")
    if role is not None and role not in ROLES:
        raise json_error(400, f"'role' is one of {', '.join(ROLES)}")
    if password is not None and not isinstance(password, str):
        raise json_error(400, "'password' is a string")
    if role is None and password is None:
        raise json_error(400, "give 'role' and/or 'password'")
    try:
        found = await users_of(request).update(username, role=role, password=password)
    except (PasswordPolicyError, UserError) as e:
        raise json_error(422, str(e)) from None
    if not found:
        raise json_error(404, f"no user {username}")
    changed = [k for k in ("role", "password") if data.get(k) is not None]
    await audit(request, session.user, "user.update", "ok", target=username,
                detail={"changed": changed, **({"role": role} if role else {})})
    return web.json_response({"username": username, "updated": changed,
                              "sessions_ended": True})


async def _set_disabled(request: web.Request, disabled: bool) -> web.Response:
    session = await require(request, "admin")
    username = request.match_info["username"]
    if disabled and username == session.user.username:
        raise json_error(409, "an admin cannot disable their own account")
    if not await users_of(request).set_disabled(username, disabled):
        raise json_error(404, f"no user {username}")
    await audit(request, session.user, "user.disable" if disabled else "user.enable", "ok",
                target=username)
    return web.json_response({"username": username, "disabled": disabled})


async def disable(request: web.Request) -> web.Response:
    return await _set_disabled(request, True)


async def enable(request: web.Request) -> web.Response:
    return await _set_disabled(request, False)


async def end_sessions(request: web.Request) -> web.Response:
    session = await require(request, "admin")
    username = request.match_info["username"]
    users = users_of(request)
    if not any(u["username"] == username for u in await users.list_users()):
        raise json_error(404, f"no user {username}")
    ended = await users.end_sessions(username)
    await audit(request, session.user, "user.end_sessions", "ok", target=username,
                detail={"sessions": ended})
    return web.json_response({"username": username, "sessions_ended": ended})


_USER = {"name": "username", "in": "path", "required": True, "schema": STR}
_USER_ROW: dict[str, Any] = _obj(username=STR, role=STR, agent_id={"type": ["string", "null"]},
                                 display_name={"type": ["string", "null"]}, disabled=BOOL,
                                 sessions=INT)
EXTRA_PATHS.update({
    "/api/users": {"get": _op(
        "every user, with how many sessions each has open (admin)", "users",
        {"200": _json(_obj(users={"type": "array", "items": _USER_ROW}))}, auth=True)},
    "/api/users/{username}": {"patch": _op(
        "change a user's role and/or password (admin); ends their sessions", "users",
        {"200": _json(_obj(username=STR, updated={"type": "array", "items": STR})),
         "404": _err("no such user"), "422": _err("weak password")}, auth=True,
        params=[_USER], body={**_obj(role=ROLE, password=PASSWORD),
                              "anyOf": [{"required": ["role"]}, {"required": ["password"]}]})},
    "/api/users/{username}/disable": {"post": _op(
        "disable a user (admin); their sessions end at once", "users",
        {"200": _json(_obj(username=STR, disabled=BOOL)), "404": _err("no such user"),
         "409": _err("one's own account")}, auth=True, params=[_USER])},
    "/api/users/{username}/enable": {"post": _op(
        "re-enable a disabled user (admin); they sign in again", "users",
        {"200": _json(_obj(username=STR, disabled=BOOL)), "404": _err("no such user")},
        auth=True, params=[_USER])},
    "/api/users/{username}/logout": {"post": _op(
        "end every session of a user (admin)", "users",
        {"200": _json(_obj(username=STR, sessions_ended=INT)), "404": _err("no such user")},
        auth=True, params=[_USER])},
})


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/users", list_users)
    r.add_patch("/api/users/{username}", update_user)
    r.add_post("/api/users/{username}/disable", disable)
    r.add_post("/api/users/{username}/enable", enable)
    r.add_post("/api/users/{username}/logout", end_sessions)
