"""The aiohttp application: every route of acd117 is registered here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from acd.http import (
    agent_calls,
    api,
    consoles,
    openapi,
    ops,
    outage,
    recordings,
    reports,
    security,
    users_api,
    wallboard,
    wrapup,
)

if TYPE_CHECKING:
    from acd.bootstrap import Daemon

DAEMON: web.AppKey[Daemon] = web.AppKey("daemon")


def build_app(daemon: Daemon) -> web.Application:
    app = web.Application()
    app[DAEMON] = daemon
    security.setup(app)
    outage.setup(app)
    ops.setup(app)
    wallboard.setup(app)
    api.setup(app)
    agent_calls.setup(app)
    openapi.setup(app)
    reports.setup(app)
    recordings.setup(app)
    users_api.setup(app)
    consoles.setup(app)
    wrapup.setup(app)
    return app
