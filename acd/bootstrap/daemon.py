"""The running daemon: what `bootstrap()` wired, started, restored and stopped.

Every task runs under a `Supervisor`: the switchboard, the telephony's own loop (if it has
one), the event-loop lag watch and the store writer (a supervisor of its own, stopped last
so the records of the final moments are written). Stopping: the HTTP server closes, the
event producers stop, commands in flight finish, then the writer drains its backlog (what
it cannot write in time stays in the spool for the next start).

Restarting keeps people in: `start()` first reads back the HTTP sessions (acd.service.users) and
who was logged in where (acd.store.logins), gives the logins to the core as
`AgentLoginRestored` events, and only then serves HTTP and connects the telephony, so that
the calls re-adopted from Asterisk find their agents. The simulated demo does not restore:
its simulated agents log themselves in at every start.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import web

from acd.bootstrap.errors import StartupError
from acd.bootstrap.http import serve_http
from acd.domain.core import Acd, Output
from acd.domain.model import AgentState
from acd.http.metrics import Metrics
from acd.service import nuisance
from acd.service.agentday import answered_since_midnight
from acd.service.health import Health, connections_watch
from acd.service.live import LiveFigures
from acd.service.ports import Database, Telephony
from acd.service.settings import Settings
from acd.service.supervisor import Supervisor
from acd.service.switchboard import Switchboard
from acd.store.logins import LoginKeeper
from acd.vocabulary import events as ev
from config.models import CallFlows
from config.regions import RegionTable

if TYPE_CHECKING:
    from acd.service.supervision import Supervision
    from acd.service.users import Users
    from acd.store.writer import StoreWriter

log = structlog.get_logger("acd117.daemon")


NUISANCE_RETRY_S = 5.0  # reading the nuisance list again while the database is away


@dataclass(eq=False)
class Daemon:
    settings: Settings
    flows: CallFlows
    regions: RegionTable
    acd: Acd
    switchboard: Switchboard
    telephony: Telephony
    health: Health
    live: LiveFigures
    metrics: Metrics
    writer: StoreWriter | None
    users: Users | None
    database: Database | None  # owns the pool the users and the HTTP reads share
    supervision: Supervision | None
    logins: LoginKeeper | None = None  # None: the logins are not kept (the demo)
    started_at: float = field(default_factory=time.time)
    app: web.Application | None = None
    _runner: web.AppRunner | None = None
    _tasks: Supervisor = field(default_factory=Supervisor)
    _store: Supervisor = field(default_factory=Supervisor)
    _phones: Supervisor = field(default_factory=Supervisor)  # the telephony, stopped late
    _task: asyncio.Task[None] | None = None
    _phones_task: asyncio.Task[None] | None = None
    _store_task: asyncio.Task[None] | None = None
    _stopping: bool = False
    _store_done: asyncio.Event = field(default_factory=asyncio.Event)
    _address: tuple[str, int] | None = None
    _nuisance_restored: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    # --- lifecycle ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._address or (self.settings.http_host, self.settings.http_port)
        return f"http://{host}:{port}"

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        await self._restore()
        if self.writer is not None:
            from acd.store.spool import SpoolLockedError

            try:
                self.writer.open()  # the spool's lock, before anything is served
            except SpoolLockedError as e:
                raise StartupError(f"{e}: one acd117 per spool folder "
                                   "(ACD117_SPOOL_DIR)") from None
        served = await serve_http(self, self.settings.http_host, self.settings.http_port)
        self.app, self._runner, self._address = served.app, served.runner, served.address
        if self.users is not None:
            self._tasks.add("users", self.users.run)
            if not self._nuisance_restored:
                self._tasks.add("nuisance-list", self._nuisance_list_once_restored)
        if self.logins is not None:
            self._tasks.add("logins", self.logins.run)
        self._tasks.add("switchboard", self.switchboard.run)
        self._tasks.add("loop-lag", self.metrics.watch_loop_lag)
        self._tasks.add("telephony-health", connections_watch(self.telephony, self.health))
        self._phones.add("telephony", self.telephony.run)
        self._phones_task = asyncio.create_task(self._phones.run(), name="acd117-phones")
        if self.writer is not None:
            writer = self.writer

            async def store() -> None:
                await writer.run()
                if self._stopping:
                    self._store_done.set()
                    await asyncio.Future()  # stopped on purpose: wait to be cancelled

            self._store.add("store", store)
            self._store_task = asyncio.create_task(self._store.run(), name="acd117-store")
        self._task = asyncio.create_task(self._tasks.run(), name="acd117-tasks")
        log.info("acd117 started", url=self.url, centres=len(self.flows.centres),
                 agents=len(self.flows.agents), store=self.writer is not None)

    async def stop(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        if self._runner is not None:
            await self._runner.cleanup()
        # The switchboard stops first; what was posted meanwhile still reaches the core, and
        # the commands in flight finish while Asterisk can still be talked to. Then the
        # telephony stops (calls stay in Stasis for the next start), its last events are
        # applied, and only then is the writer told to finish: no record of the final
        # moments is left behind.
        await _cancelled(self._task)
        self.switchboard.flush()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5.0):
                await self.switchboard.drain()
        await _cancelled(self._phones_task)
        self.switchboard.flush()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                await self.switchboard.drain()
        if self.writer is not None and self._store_task is not None:
            if not self._store_task.done():
                await self.writer.stop()  # asks run() to drain; it returns when done
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.writer.config.drain_timeout_s + 2.0):
                        await self._store_done.wait()
            self._store_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._store_task
        if self.logins is not None:
            self.logins.flush()  # the final logins, after the last events were applied
        if self.users is not None:
            await self.users.close()
        if self.database is not None:
            await self.database.close()
        log.info("acd117 stopped")

    async def _restore(self) -> None:
        """Sessions, the nuisance list and logins from before the restart, before anything
        is served or connected. A read failing starts the daemon all the same (logged)."""
        # Two reads of their own, side by side: a slow database delays the start once.
        self._nuisance_restored, _ = await asyncio.gather(self._restore_nuisance_list(),
                                                          self._restore_answered_today())
        sessions = self.users.load_sessions() if self.users is not None else _nothing()
        if self.logins is None:
            await sessions
            return
        found, _ = await asyncio.gather(self.logins.load(), sessions)

        def restore(acd: Acd, now: float) -> list[Output]:
            out: list[Output] = []
            for x in found.logins:
                out += acd.handle(ev.AgentLoginRestored(x.agent_id, x.device, x.pause_reason),
                                  now)
            return out

        self.switchboard.apply_now(restore)  # an agent gone from the flows: a warning each
        back = [a for x in found.logins if (a := self.acd.agents.get(x.agent_id)) is not None
                and a.state is not AgentState.LOGGED_OUT]
        log.info("agent logins restored", agents=len(back),
                 paused=sum(a.state is AgentState.PAUSED for a in back),
                 skipped=len(found.logins) - len(back), source=found.source)

    async def _restore_nuisance_list(self) -> bool:
        if self.database is None:
            return True
        try:
            listed = await nuisance.in_force(await self.database.pool(), self.live.clock())
        except Exception as exc:  # any database trouble: start without it, say so
            log.warning("nuisance list not restored yet", error=str(exc))
            return False
        for row in listed:
            self.switchboard.post(ev.NuisanceListed(row["number"], row["until"]))
        log.info("nuisance list restored", numbers=len(listed))
        return True

    async def _restore_answered_today(self) -> None:
        """The calls each agent answered today before the restart, read once: the consoles'
        "calls today" go on from there with the records (acd.service.agentday)."""
        if self.database is None:
            return
        try:
            hours = await answered_since_midnight(await self.database.pool(), self.live.clock())
        except Exception as exc:  # any database trouble: counted from now on, said so
            log.warning("calls answered today not restored", error=str(exc))
            return
        self.live.answered_today.restore(hours)
        log.info("calls answered today restored", calls=sum(n for _a, _h, n in hours))

    async def _nuisance_list_once_restored(self) -> None:
        """A job while the start could not read the nuisance list: read it when it can."""
        while not await self._restore_nuisance_list():
            await asyncio.sleep(NUISANCE_RETRY_S)
        await asyncio.Future()  # restored: nothing more to do until stopped

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[Daemon]:
        await self.start()
        try:
            yield self
        finally:
            await self.stop()


async def _nothing() -> None:
    pass


async def _cancelled(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
