"""The `Database` port (acd.service.ports) on PostgreSQL: the daemon's one asyncpg pool for
what the service layer and the HTTP reads ask of the database beside the record journal
(users, sessions, audit, reports, recordings, call history, reviews, the nuisance list),
and the connection that LISTENs for other processes' notices."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import structlog

log = structlog.get_logger("acd117.database")

CLOSE_S = 2.0  # closing the connections at shutdown, then they are cut


class PostgresDatabase:
    def __init__(self, dsn: str, *, application_name: str = "acd117-api",
                 max_size: int = 4) -> None:
        self.dsn = dsn
        self.application_name = application_name
        self.max_size = max_size
        self._pool: Any = None
        self._lock = asyncio.Lock()
        self._listener: Any = None

    async def pool(self) -> Any:
        """The pool, made at the first use (a database that is down does not stop the
        start; each use finds out)."""
        import asyncpg

        async with self._lock:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self.dsn, min_size=0, max_size=self.max_size, timeout=5.0,
                    server_settings={"application_name": self.application_name})
            return self._pool

    async def listen(self, channel: str, on_notice: Callable[[], None]) -> bool:
        """Keep a connection LISTENing on `channel`, calling `on_notice` at each NOTIFY;
        True while it does (again at each call: a lost connection is made anew)."""
        if self._listener is not None and not self._listener.is_closed():
            return True
        import asyncpg

        try:
            conn = await asyncpg.connect(self.dsn, timeout=5.0)
            await conn.add_listener(channel, lambda *_: on_notice())
        except Exception as e:
            log.warning("not listening", channel=channel, error=f"{type(e).__name__}: {e}")
            return False
        self._listener = conn
        return True

    def is_duplicate(self, exc: BaseException) -> bool:
        import asyncpg

        return isinstance(exc, asyncpg.UniqueViolationError)

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            try:  # a graceful close waits on every connection, answered or not
                await asyncio.wait_for(pool.close(), CLOSE_S)
            except TimeoutError:
                pool.terminate()
        listener, self._listener = self._listener, None
        if listener is not None and not listener.is_closed():
            await listener.close(timeout=CLOSE_S)
