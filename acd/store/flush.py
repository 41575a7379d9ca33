"""The store writer's flush task: batches from the spool into PostgreSQL, each in one
idempotent transaction, retried with backoff while the database is down; a batch
PostgreSQL refuses as data is split until the refused records stand alone and are set
aside (see acd.store.writer for the whole path)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import structlog

from acd.store.codec import StoreRecord
from acd.store.rows import SCHEMA_VERSION, apply_batch
from acd.store.spool import Spool

if TYPE_CHECKING:
    import asyncpg

    from acd.store.writer import WriterConfig

log = structlog.get_logger()


class _Poison(Exception):
    """PostgreSQL refuses these records as data; retrying will not help."""


def _is_poison(exc: BaseException) -> bool:
    import asyncpg

    if isinstance(exc, asyncpg.PostgresError):
        state = str(getattr(exc, "sqlstate", "") or "")
        # Data exception, integrity constraint violation, program limit exceeded (a value
        # too big for its index). Only classes a record's own content can cause: anything
        # else (a missing table, a server shutting down) is an outage, and isolating it
        # would set every record aside. A batch-wide limit is harmless here: the split
        # writes smaller batches and sets nothing aside.
        return state[:2] in ("22", "23", "54")
    # Argument encoding (asyncpg.DataError is a ValueError) of a malformed record.
    return isinstance(exc, ValueError | TypeError)


class SchemaNotReadyError(RuntimeError):
    pass


class Flush:
    """The half of `StoreWriter` that talks to PostgreSQL."""

    config: WriterConfig
    _spool: Spool | None
    _conn: asyncpg.Connection | None
    _spooled: asyncio.Event
    _stop_requested: asyncio.Event
    _ingest_done: bool
    _deadline: float | None
    _connected: bool
    _outage: bool
    _last_error: str | None
    _last_error_at: float | None
    _committed: int
    _rejected: int

    # ----- flush: spool -> PostgreSQL --------------------------------------------------

    async def _flush(self, spool: Spool) -> None:
        cfg = self.config
        while True:
            if self._past_deadline():
                break
            if spool.pending_records == 0:
                if self._ingest_done:
                    break
                self._spooled.clear()
                await self._spooled.wait()
                continue
            if spool.pending_records < cfg.batch_size and not self._stop_requested.is_set():
                # Let a small batch fill a little: fewer, larger transactions.
                await asyncio.sleep(cfg.batch_max_age_s)
            batch = spool.read(cfg.batch_size)
            if batch.records and not await self._write(batch.records):
                break  # stopping while the database is unavailable
            self._committed += batch.lines
            self._rejected += len(batch.undecodable)
            spool.commit(batch)
            if self._outage and spool.pending_records == 0:
                self._outage = False
                log.info("store: backlog written, spool empty")

    def _past_deadline(self) -> bool:
        return self._deadline is not None and asyncio.get_running_loop().time() >= self._deadline

    async def _write(self, records: Sequence[StoreRecord]) -> bool:
        """Commit the records, retrying until done; False when stopping first."""
        delay = self.config.retry_initial_s
        # Positions already set aside: an outage in the middle of isolating a refused record
        # retries the whole batch, and the refused one must not be kept or counted twice.
        refused: set[int] = set()
        while True:
            try:
                await self._write_isolating(records, range(len(records)), refused)
                return True
            except Exception as exc:
                await self._disconnect()
                self._note_error(exc)
                if self._connected or not self._outage:
                    backlog = self._spool.pending_records if self._spool else 0
                    log.warning(
                        "store: database unavailable; records stay in the spool",
                        error=self._last_error,
                        backlog=backlog,
                    )
                self._connected = False
                self._outage = True
                if self._stop_requested.is_set():
                    return False
                jittered = delay * random.uniform(0.8, 1.2)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop_requested.wait(), jittered)
                delay = min(delay * 2, self.config.retry_max_s)
                if self._stop_requested.is_set():
                    return False  # asked to stop during the backoff: no further attempt

    async def _write_isolating(
        self, records: Sequence[StoreRecord], positions: Sequence[int], refused: set[int]
    ) -> None:
        """Write `records` at `positions` (in order, less those in `refused`); if PostgreSQL
        refuses their data, split them until the refused ones stand alone, set those aside
        (noted in `refused`) and write the rest."""
        todo = [i for i in positions if i not in refused]
        if not todo:
            return
        try:
            await self._apply([records[i] for i in todo])
        except _Poison as exc:
            if len(todo) == 1:
                assert self._spool is not None
                self._spool.reject(records[todo[0]], str(exc.__cause__ or exc))
                refused.add(todo[0])
                self._rejected += 1
                return
            mid = len(todo) // 2
            await self._write_isolating(records, todo[:mid], refused)
            await self._write_isolating(records, todo[mid:], refused)

    async def _apply(self, records: Sequence[StoreRecord]) -> None:
        conn = await self._connection()
        try:
            async with asyncio.timeout(self.config.write_timeout_s):
                await apply_batch(conn, records)
        except Exception as exc:
            if _is_poison(exc):
                raise _Poison(str(exc)) from exc
            raise

    async def _connection(self) -> asyncpg.Connection:
        import asyncpg

        if self._conn is not None and not self._conn.is_closed():
            return self._conn
        conn = await asyncpg.connect(
            self.config.dsn,
            timeout=self.config.connect_timeout_s,
            server_settings={"application_name": "acd117-store"},
        )
        try:
            async with asyncio.timeout(self.config.connect_timeout_s):
                version = 0
                if await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL"):
                    version = await conn.fetchval(
                        "SELECT coalesce(max(version), 0) FROM schema_migrations"
                    )
            if int(version) < SCHEMA_VERSION:
                raise SchemaNotReadyError(
                    f"database schema is at version {version}, acd117 needs {SCHEMA_VERSION}: "
                    "run `acd117 migrate`"
                )
        except BaseException:
            conn.terminate()
            raise
        self._conn = conn
        if not self._connected:
            backlog = self._spool.pending_records if self._spool else 0
            log.info("store: database connected", backlog=backlog)
        self._connected = True
        return conn

    async def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            # terminate, not close: a connection that just failed may never answer a close.
            conn.terminate()

    def _note_error(self, exc: BaseException) -> None:
        self._last_error = f"{type(exc).__name__}: {exc}"
        self._last_error_at = time.time()
