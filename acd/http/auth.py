"""Who is calling the API: a bearer token (`Authorization: Bearer ...`) or the session
cookie, both from `POST /api/login`. 401 without a valid session, 403 with the wrong role,
503 when the daemon has no user database."""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import TYPE_CHECKING, Any

from aiohttp import web

from acd.service.ports import Database
from acd.service.users import Role, Session, User, Users

if TYPE_CHECKING:
    from acd.http.app import Service

COOKIE = "acd117_session"


def daemon_of(request: web.Request) -> Service:
    from acd.http.app import DAEMON  # app.py imports every handler module, this one too

    return request.app[DAEMON]


def client_address(request: web.Request,
                   trusted: Sequence[IPv4Network | IPv6Network]) -> str:
    """Who sent the request: the peer, or behind trusted reverse proxies the address the
    nearest untrusted hop was seen from. X-Forwarded-For lists the hops left to right and
    any client may write its left part, so it is read from the right, and only as far as
    the proxies are ours."""
    peer = request.remote or "unknown"
    hops = [h.strip() for h in ",".join(request.headers.getall("X-Forwarded-For", ())
                                        ).split(",") if h.strip()]
    address = peer
    while _trusted(address, trusted) and hops:
        address = hops.pop()
    return address


def _trusted(address: str, trusted: Sequence[IPv4Network | IPv6Network]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False  # "unknown", a name, garbage in the header: stop there
    return any(ip in net for net in trusted)


def remote_of(request: web.Request) -> str:
    """The client's address, as the sign-in limits and the audit see it."""
    return client_address(request, daemon_of(request).settings.trusted_proxies)


def json_error(status: int, message: str, **extra: Any) -> web.HTTPException:
    import json

    cls = {400: web.HTTPBadRequest, 401: web.HTTPUnauthorized, 403: web.HTTPForbidden,
           404: web.HTTPNotFound, 409: web.HTTPConflict, 422: web.HTTPUnprocessableEntity,
           429: web.HTTPTooManyRequests, 503: web.HTTPServiceUnavailable}[status]
    headers = {"WWW-Authenticate": 'Bearer realm="acd117"'} if status == 401 else None
    return cls(text=json.dumps({"error": message, **extra}), content_type="application/json",
               headers=headers)


def users_of(request: web.Request) -> Users:
    users: Users | None = daemon_of(request).users
    if users is None:
        raise json_error(503, "no user database: set ACD117_DSN")
    return users


def database_of(request: web.Request) -> Database:
    """The database the HTTP reads use (reports, recordings, history, reviews, nuisance
    list): the daemon's, which owns the pool; 503 without one, as for the users."""
    database: Database | None = daemon_of(request).database
    if database is None:
        raise json_error(503, "no user database: set ACD117_DSN")
    return database


def token_of(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(COOKIE) or None


def current(request: web.Request) -> Session | None:
    token = token_of(request)
    if token is None:
        return None
    return users_of(request).session(token)


async def require(request: web.Request, *roles: Role) -> Session:
    """The caller's session, if their role is one of `roles` (any role when none given)."""
    users = users_of(request)
    token = token_of(request)
    session = users.session(token) if token else None
    if session is None:
        raise json_error(401, "sign in first (POST /api/login)")
    if roles and session.user.role not in roles:
        await audit(request, session.user, f"{request.method} {request.path}", "denied")
        raise json_error(403, f"this needs the role {' or '.join(roles)}")
    return session


async def audit(request: web.Request, user: User | None, action: str, outcome: str, *,
                target: str | None = None, detail: dict[str, Any] | None = None) -> None:
    await users_of(request).audit(user, action, outcome, target=target,
                                  remote=remote_of(request), detail=detail)


async def body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
        raise json_error(400, "the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise json_error(400, "the body must be a JSON object")
    return data


def field(data: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value:
        raise json_error(400, f"'{name}' is required (a non-empty string)")
    # NUL and lone surrogates: PostgreSQL cannot store them (a 500 from asyncpg otherwise).
    if not clean(value):
        raise json_error(400, f"'{name}' holds a character that is not allowed")
    return value


def clean(text: str) -> bool:
    """Text PostgreSQL can store: no NUL, no lone surrogate (not valid UTF-8)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
