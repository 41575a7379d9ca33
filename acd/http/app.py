"""The aiohttp application: every route of acd117 is registered here."""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from acd.domain.core import Acd
from acd.http import (
    agent_calls,
    api,
    console_stream,
    consoles,
    nuisance,
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
from acd.http.metrics import Metrics
from acd.service.health import Health
from acd.service.live import LiveFigures
from acd.service.ports import Database, JournalStats
from acd.service.settings import Settings
from acd.service.supervision import Supervision
from acd.service.switchboard import Switchboard
from acd.service.users import Users
from config.models import CallFlows
from config.regions import RegionTable


class Journal(Protocol):
    @property
    def stats(self) -> JournalStats: ...


class Service(Protocol):
    """The running daemon as the HTTP handlers see it (acd.bootstrap.Daemon is one): the
    core to read and the switchboard to post to, the settings, the live figures, users, the
    database (for the reads: reports, recordings, history, reviews, the nuisance list) and
    the journal. The handlers reach nothing else of it."""

    settings: Settings
    flows: CallFlows
    regions: RegionTable
    acd: Acd
    switchboard: Switchboard
    health: Health
    live: LiveFigures
    metrics: Metrics
    users: Users | None
    database: Database | None
    supervision: Supervision | None
    started_at: float

    @property
    def writer(self) -> Journal | None: ...

    @property
    def running(self) -> bool: ...


DAEMON: web.AppKey[Service] = web.AppKey("daemon")


def build_app(daemon: Service) -> web.Application:
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
    console_stream.setup(app)
    wrapup.setup(app)
    nuisance.setup(app)
    return app
