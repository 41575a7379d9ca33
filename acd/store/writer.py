"""The store writer: records from the call path into PostgreSQL, losing none.

    core --submit()--> bounded queue --ingest--> spool (fsync'd journal) --flush--> PostgreSQL

`submit` is synchronous and never waits: it puts the record on a bounded asyncio.Queue, or,
when the queue is full, writes the queue's contents and the record straight to the spool,
so nothing is dropped and order is kept. The ingest task moves whatever is queued into the
spool and fsyncs it, one fsync per batch. The flush task reads batches from the spool,
writes each in one idempotent transaction (acd.store.rows) and only then moves the spool's
cursor past it.

Because every record goes through the spool, a database that is down or slow changes
nothing upstream: the spool grows on disk, memory stays at one queue plus one batch, and
the flush task retries with backoff and replays the backlog in order when PostgreSQL is
back. A spool left by a killed process is replayed on the next start. A commit whose
acknowledgement is lost is replayed too, and absorbed by the natural keys.

A record PostgreSQL refuses as data (a CHECK, a bad value: a permanent error, not an
outage) is never retried forever nor dropped: its batch is split until it stands alone, it
is appended to the spool's `rejected.jsonl` (one JSON line with the error), logged and
counted (`rejected_records`, `acd117_records_rejected_total`), and the records around it
are written. `set_aside` keeps there, the same way, what was meant for the database but
cannot become a valid row at all.

The flush task, everything that talks to PostgreSQL, is in acd.store.flush.

Lifecycle: `await writer.run()` inside the daemon's supervisor (it returns after `stop()`),
or `await writer.start()` ... `await writer.stop()`, which owns the task itself.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from acd.store.codec import RECORD_TYPES, StoreRecord
from acd.store.flush import Flush
from acd.store.spool import DEFAULT_SEGMENT_BYTES, Spool, SpoolLockedError, keep_rejected

if TYPE_CHECKING:
    import asyncpg

log = structlog.get_logger()

_RECORD_TYPES = frozenset(RECORD_TYPES)


@dataclass(frozen=True, slots=True)
class WriterConfig:
    dsn: str
    spool_dir: Path
    queue_size: int = 10_000
    batch_size: int = 1_000
    # How long the flush task lets a small batch fill before writing it.
    batch_max_age_s: float = 0.05
    # A batch that takes longer counts as the database being unavailable.
    write_timeout_s: float = 10.0
    connect_timeout_s: float = 5.0
    retry_initial_s: float = 0.2
    retry_max_s: float = 10.0
    segment_bytes: int = DEFAULT_SEGMENT_BYTES
    # On stop, how long a reachable database may take to absorb the backlog; what is left
    # stays in the spool for the next start.
    drain_timeout_s: float = 5.0
    # While the spool cannot be written (its folder cannot be made, the disk is full),
    # records are held in memory, in order, and retried every `spool_retry_s`; past this
    # many the oldest are lost, and counted.
    max_held_records: int = 1_000_000
    spool_retry_s: float = 1.0


@dataclass(frozen=True, slots=True)
class WriterStats:
    """Health and backlog, for logs and (later) Prometheus."""

    queue_depth: int
    queue_capacity: int
    spool_records: int  # journalled, not yet committed to PostgreSQL
    spool_bytes: int
    connected: bool
    last_error: str | None
    last_error_at: float | None
    committed_records: int  # records (lines) committed by this process
    # Kept in the spool's rejected.jsonl instead of the database: refused by PostgreSQL for
    # good, not journalable, or set aside (`StoreWriter.set_aside`).
    rejected_records: int
    overflowed_records: int  # written to the spool by submit() because the queue was full
    dropped_records: int  # lost: the spool itself could not be written (disk full)
    # False while records are only in memory: the spool cannot be opened or written.
    durable: bool = True
    held_records: int = 0  # waiting in memory for the spool to be writable again

    @property
    def backlog(self) -> int:
        return self.queue_depth + self.spool_records + self.held_records


class StoreWriter(Flush):
    def __init__(self, config: WriterConfig) -> None:
        self.config = config
        self._queue: asyncio.Queue[StoreRecord] = asyncio.Queue(maxsize=config.queue_size)
        self._spool: Spool | None = None
        self._conn: asyncpg.Connection | None = None
        self._work = asyncio.Event()  # something was queued or spooled, or stop was asked
        self._spooled = asyncio.Event()  # the ingest task put records in the spool
        self._stop_requested = asyncio.Event()
        self._ingest_done = False
        self._closed = False
        self._deadline: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._connected = False
        self._outage = False  # a failure happened since the last time the spool was empty
        self._last_error: str | None = None
        self._last_error_at: float | None = None
        self._committed = 0
        self._rejected = 0
        self._overflowed = 0
        self._dropped = 0
        self._held: collections.deque[StoreRecord] = collections.deque()
        self._spool_error: str | None = None  # why the journal is not durable, if it is not

    # ----- the call path ---------------------------------------------------------------

    def submit(self, record: StoreRecord) -> None:
        """Hand a record over; never waits, never drops (short of a full disk)."""
        if type(record) not in _RECORD_TYPES:
            raise TypeError(f"not a store record: {type(record).__name__}")
        if self._closed:
            raise RuntimeError("store writer is stopped")
        try:
            self._queue.put_nowait(record)
        except asyncio.QueueFull:
            self._overflow(record)
        self._work.set()

    def _overflow(self, record: StoreRecord) -> None:
        # The queue is full (the disk is slower than the call path, or the writer is not
        # running yet): move the queue and the record to the spool here, in order. The
        # ingest task fsyncs them with its next batch.
        batch = self._drain_queue()
        batch.append(record)
        self._overflowed += len(batch)
        self._append(batch)

    def _drain_queue(self) -> list[StoreRecord]:
        out: list[StoreRecord] = []
        while True:
            try:
                out.append(self._queue.get_nowait())
            except asyncio.QueueEmpty:
                return out

    def _append(self, records: list[StoreRecord]) -> None:
        if self._held:  # older than these: they go first
            records = [*self._held, *records]
            self._held.clear()
        if not records:
            return
        try:
            spool = self._open_spool()
        except (OSError, SpoolLockedError) as exc:
            self._hold(records, exc)
            return
        try:
            try:
                spool.append(records)
            except (ValueError, TypeError):
                # A record that cannot be journalled (a NaN time): set it aside, keep the rest.
                for record in records:
                    try:
                        spool.append([record])
                    except (ValueError, TypeError) as exc:
                        self._rejected += 1
                        spool.reject_unencodable(repr(record), str(exc))
        except OSError as exc:
            # Some may have reached the file: replaying them twice is absorbed by the
            # natural keys, losing them is not.
            self._hold(records, exc)
            return
        if self._spool_error is not None:
            log.warning("store: the spool is writable again; records are journalled",
                        spool=str(self.config.spool_dir))
            self._spool_error = None

    def _hold(self, records: list[StoreRecord], exc: BaseException) -> None:
        """Keep records in memory while the spool cannot take them; past the bound the
        oldest are lost, counted and logged (never silently)."""
        self._note_error(exc)
        if self._spool_error is None:
            log.error("store: the spool cannot be written; records are held in memory only "
                      "and will be lost if acd117 stops", spool=str(self.config.spool_dir),
                      error=self._last_error)
        self._spool_error = self._last_error
        self._held.extend(records)
        excess = len(self._held) - self.config.max_held_records
        if excess > 0:
            for _ in range(excess):
                self._held.popleft()
            self._lose(excess, "more records held in memory than max_held_records")

    def _lose(self, count: int, why: str) -> None:
        self._dropped += count
        log.error("store: records lost", records=count, reason=why,
                  dropped_total=self._dropped)

    def set_aside(self, kind: str, fields: Mapping[str, object], error: str) -> Path | None:
        """Keep something meant for the database that cannot become a valid row (a recording
        whose file could not be read has no checksum) where refused records go: one entry
        in the spool's rejected.jsonl, `line` holding `{"t": kind, **fields}`, counted in
        `rejected_records`. An operator recovers it from there; nothing is retried. The
        caller logs why; this returns the file it went to.

        Synchronous like `submit` (one small fsync'd append, for a rare event). Returns None,
        with the entry in the error log and counted as dropped, only when the file cannot
        be written."""
        line = json.dumps({"t": kind, **fields}, ensure_ascii=False, default=str)
        try:
            self.config.spool_dir.mkdir(parents=True, exist_ok=True)
            path = keep_rejected(self.config.spool_dir, line, error)
        except OSError as exc:
            self._dropped += 1
            self._note_error(exc)
            log.error("store: cannot write rejected.jsonl; the entry is only in this log",
                      error=str(exc), reason=error, entry=line)
            return None
        self._rejected += 1
        return path

    # ----- lifecycle -------------------------------------------------------------------

    def _open_spool(self) -> Spool:
        if self._spool is None:
            self._spool = Spool(self.config.spool_dir, self.config.segment_bytes)
        return self._spool

    def open(self) -> None:
        """Take the spool (its lock) now, at start. Another process holding it raises
        `SpoolLockedError`: two writers on one journal would each replay and delete the
        other's records. A spool that cannot be opened otherwise (a folder that cannot be
        made) leaves the writer running on memory, not durable (`stats.durable`), and says
        so in the error log; it is retried."""
        try:
            self._open_spool()
        except OSError as exc:
            self._hold([], exc)

    async def _open_spool_retrying(self) -> Spool | None:
        while True:
            try:
                return self._open_spool()
            except (OSError, SpoolLockedError) as exc:
                self._hold([], exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_requested.wait(), self.config.spool_retry_s)
            if self._stop_requested.is_set():
                return None

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("store writer already started")
        self.open()
        self._task = asyncio.create_task(self.run(), name="acd117-store-writer")

    async def stop(self, drain_timeout_s: float | None = None) -> None:
        """Stop taking the backlog to PostgreSQL after at most `drain_timeout_s`; whatever
        is left stays in the spool. Returns once the writer has shut down."""
        timeout = self.config.drain_timeout_s if drain_timeout_s is None else drain_timeout_s
        self._deadline = asyncio.get_running_loop().time() + timeout
        self._stop_requested.set()
        self._work.set()
        self._spooled.set()
        if self._task is not None:
            await self._task

    async def __aenter__(self) -> StoreWriter:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def run(self) -> None:
        opened = await self._open_spool_retrying()
        if opened is None:  # stopped before the spool could ever be written
            self._closed = True
            self._held.extend(self._drain_queue())
            if self._held:
                self._lose(len(self._held), "stopped while the spool could not be written")
                self._held.clear()
            return
        spool = opened
        if spool.pending_records:
            log.info(
                "store: replaying spooled records",
                records=spool.pending_records,
                spool_bytes=spool.pending_bytes,
            )
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self._ingest(spool), name="acd117-store-ingest")
                tg.create_task(self._flush(spool), name="acd117-store-flush")
        finally:
            # Only a requested stop closes the writer; after a failure the supervisor runs
            # it again, on a spool opened afresh, and records keep being taken meanwhile.
            self._closed = self._stop_requested.is_set()
            # Whatever is still queued (a cancelled run) goes to the spool, not to waste.
            leftover = self._drain_queue()
            if leftover or self._held:
                self._append(leftover)
            if self._held and self._closed:
                self._lose(len(self._held), "stopped while the spool could not be written")
                self._held.clear()
            await self._disconnect()
            with contextlib.suppress(OSError):
                spool.close()
            self._spool = None
            log.info("store: writer stopped", spool_records=spool.pending_records)

    @property
    def stats(self) -> WriterStats:
        spool = self._spool
        return WriterStats(
            queue_depth=self._queue.qsize(),
            queue_capacity=self.config.queue_size,
            spool_records=spool.pending_records if spool else 0,
            spool_bytes=spool.pending_bytes if spool else 0,
            connected=self._connected,
            last_error=self._last_error,
            last_error_at=self._last_error_at,
            committed_records=self._committed,
            rejected_records=self._rejected,
            overflowed_records=self._overflowed,
            dropped_records=self._dropped,
            durable=self._spool_error is None,
            held_records=len(self._held),
        )

    @property
    def spooled_total(self) -> int:
        """Records this process has appended to the spool and fsync'd."""
        return self._spool.synced_total if self._spool else 0

    # ----- ingest: queue -> spool ------------------------------------------------------

    async def _ingest(self, spool: Spool) -> None:
        stopping = self._stop_requested
        while True:
            if self._queue.empty() and not spool.dirty and not self._held:
                if stopping.is_set():
                    break
                self._work.clear()
                await self._work.wait()
                continue
            # Take and write in one step, with no await between: nothing submitted
            # meanwhile can overtake these records on their way into the spool.
            batch = self._drain_queue()
            if batch or self._held:
                self._append(batch)
            if self._held:  # the spool refused them: try again in a while
                if stopping.is_set():
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), self.config.spool_retry_s)
                continue
            try:
                await spool.sync()
            except OSError as exc:
                self._note_error(exc)
                log.error("store: spool fsync failed", error=str(exc))
            spool.roll_if_full()
            self._spooled.set()
        self._ingest_done = True
        self._spooled.set()
