"""A database that is down is a 503, said as such, not a 500.

Handlers that must read PostgreSQL (a sign-in looks the user up, reports, user admin) fail
with a connection error or a timeout while it is unreachable. That is the service being
unavailable for a while, not a bug: the client is told so, with when to try again, and
the action was not carried out (what is carried out without the database, a force-logout
or a reload, is audited through the record writer's spool and answers normally).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

log = structlog.get_logger()

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RETRY_AFTER_S = 5


def _unavailable(exc: BaseException) -> bool:
    import asyncpg

    # Refused or reset connections, a connect or query timeout, a server shutting down or
    # not accepting connections (SQLSTATE class 08 and 57P0x), a pool closed under us.
    if isinstance(exc, OSError | TimeoutError | asyncpg.InterfaceError):
        return True
    state = str(getattr(exc, "sqlstate", "") or "")
    return state.startswith("08") or state.startswith("57P0")


@web.middleware
async def database_unavailable(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception as exc:
        if not _unavailable(exc):
            raise
        log.warning("http: the database is unavailable", path=request.path,
                    error=f"{type(exc).__name__}: {exc}")
        raise web.HTTPServiceUnavailable(
            text=json.dumps({"error": "the database is unavailable; try again shortly"}),
            content_type="application/json",
            headers={"Retry-After": str(RETRY_AFTER_S)}) from None


def setup(app: web.Application) -> None:
    app.middlewares.append(database_unavailable)
