"""Who is logged in where, kept across restarts: a restart, `kill -9` or an upgrade logs
nobody out (as app_queue's persistent members do).

The truth is the core's own stream of `AgentStateChanged` records: the last one of each
agent says logged out, or logged in at a device, paused (with the reason) or not. On start
the daemon reads it back (`LoginKeeper.load`) and gives each login to the core as an
`AgentLoginRestored` event, before Asterisk is connected, so that re-adopted calls find
their agents. Where it is read from:

* With a database (ACD117_DSN): PostgreSQL's `agent_states`, then, on top, the records
  still pending in the writer's spool. After a SIGKILL the newest records may be only
  there; the restore runs before the writer starts, so nothing moves between the two
  reads, and since every record reaches the database through the spool, in order, the
  spool's pending records are the newest of all (one already in the database as well,
  its commit acknowledgement lost, is simply applied again). Per agent the latest record
  wins.
* Always, as well: `logins.json` in the spool directory, the current logins rewritten
  (atomically, fsync'd, off the event loop) a moment after any of them changes. It is the
  only source without a database, and the fallback when the database cannot be read at
  start (the spool still goes on top). It may miss the last `settle_s` before a crash.

A restored login is not a new login: the core records it as `available` with reason
`restored` (or `paused` with the pause reason), and since no `logged_out` came between,
the trigger of sql/001 leaves the agent's open `agent_sessions` row as it was.

What is kept is the login, not the activity: an agent on a call or in wrap-up at the crash
comes back available (a connected call finds its agent again when it is adopted), a
paused one paused with their reason. A log-out or pause asked for during a call and not
yet applied at the crash is not recorded anywhere, so it is lost.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from acd.store.codec import DecodeError, decode
from acd.store.spool import SEGMENT_SUFFIX, Spool, SpoolLockedError
from acd.vocabulary.records import AgentStateChanged, Record

log = structlog.get_logger("acd117.logins")

LOGINS_FILE = "logins.json"
# A device change while paused is recorded as `paused` with this reason: it is not the
# pause reason, which stays what it was.
DEVICE_CHANGED = "device_changed"
# The spool's encoding puts the type tag first: agent states are found without decoding
# every other record of a long backlog.
_STATE_LINE = b'{"t":"AgentStateChanged"'


@dataclass(frozen=True, slots=True)
class AgentLogin:
    agent_id: str
    device: str
    pause_reason: str | None = None  # None: available (or busy) when the daemon stopped


@dataclass(frozen=True, slots=True)
class FoundLogins:
    logins: list[AgentLogin]
    # "database+spool"; "file+spool" or "spool" when the database could not be read;
    # "file" without a database; "none" when there was nothing to read.
    source: str


class LoginBook:
    """The current logins, folded from agent-state records in the order they happened.

    Kept in the order agents last took their device, so that restoring them in that order
    leaves a phone with whoever took it last, as it was."""

    def __init__(self) -> None:
        self._logins: dict[str, AgentLogin] = {}

    def put(self, login: AgentLogin) -> None:
        self._logins.pop(login.agent_id, None)
        self._logins[login.agent_id] = login

    def apply(self, record: AgentStateChanged) -> bool:
        """Fold one record in; True when the logins changed (not for ringing, calls...)."""
        old = self._logins.get(record.agent_id)
        if record.state == "logged_out":
            return self._logins.pop(record.agent_id, None) is not None
        device = record.device or (old.device if old else None)
        if device is None:
            return False
        pause: str | None = None
        if record.state == "paused":
            pause = record.reason or "paused"
            if pause == DEVICE_CHANGED and old is not None and old.pause_reason is not None:
                pause = old.pause_reason
        new = AgentLogin(record.agent_id, device, pause)
        if record.reason == DEVICE_CHANGED:
            # The agent took the phone (back) from whoever logged in there meanwhile, even
            # the same phone: the last to take it, so restored last.
            self.put(new)
            return True
        if new == old:
            return False
        if old is not None and old.device == device:
            self._logins[record.agent_id] = new  # same phone: keeps its place
        else:
            self.put(new)
        return True

    @property
    def logins(self) -> list[AgentLogin]:
        return list(self._logins.values())


# The open sessions (one per logged-in agent, kept by the trigger of sql/001) find the
# agents quickly, without reading years of agent_states; each one's latest state, and its
# latest pause reason in case the latest state is a device change while paused, come from
# the agent_states index. Ties in time are broken by the order rows were written (seq),
# as in the reports.
_LOGGED_IN_SQL = """
SELECT s.agent_id, st.state, st.device, st.reason,
       (SELECT p.reason FROM agent_states p
         WHERE p.agent_id = s.agent_id AND p.at >= s.login_at AND p.state = 'paused'
           AND p.reason IS DISTINCT FROM 'device_changed'
         ORDER BY p.at DESC, p.seq DESC LIMIT 1) AS pause_reason
  FROM agent_sessions s
 CROSS JOIN LATERAL (
       SELECT a.state, a.device, a.reason FROM agent_states a
        WHERE a.agent_id = s.agent_id AND a.at >= s.login_at
        ORDER BY a.at DESC, a.seq DESC LIMIT 1) st
 WHERE s.logout_at IS NULL
 ORDER BY s.login_at, s.agent_id
"""


async def logins_in_database(dsn: str, timeout_s: float = 5.0) -> LoginBook:
    """Who the database says is logged in (raises when it cannot be read)."""
    import asyncpg

    book = LoginBook()
    conn = await asyncpg.connect(dsn, timeout=timeout_s,
                                 server_settings={"application_name": "acd117-restore"})
    try:
        async with asyncio.timeout(timeout_s):
            rows = await conn.fetch(_LOGGED_IN_SQL)
    finally:
        await conn.close()
    for row in rows:
        if row["state"] == "logged_out" or row["device"] is None:
            continue
        pause = None
        if row["state"] == "paused":
            pause = row["pause_reason"] or row["reason"] or "paused"
        book.put(AgentLogin(row["agent_id"], row["device"], pause))
    return book


def spooled_agent_states(spool_dir: Path) -> list[AgentStateChanged]:
    """The agent states in the spool not yet committed to the database, oldest first.

    Must run before the writer opens the spool (the daemon restores before it starts the
    writer); the spool's own opening repairs a torn last line and finds the cursor."""
    if not spool_dir.is_dir():
        return []
    try:
        spool = Spool(spool_dir)
    except SpoolLockedError:
        log.warning("spool in use by another process; logins restored without it",
                    spool=str(spool_dir))
        return []
    try:
        return list(_pending_states(spool))
    finally:
        spool.close()


def _pending_states(spool: Spool) -> Iterator[AgentStateChanged]:
    cursor = spool.cursor
    for seq in spool.segments:
        if seq < cursor.segment:
            continue
        path = spool.directory / f"{seq:010d}{SEGMENT_SUFFIX}"
        with path.open("rb") as f:
            if seq == cursor.segment:
                f.seek(cursor.offset)
            for line in f:
                if not line.endswith(b"\n"):
                    break  # a partial line is not a record (yet)
                if not line.startswith(_STATE_LINE):
                    continue
                try:
                    record = decode(line)
                except DecodeError:
                    continue  # the writer sets it aside when it replays the spool
                if isinstance(record, AgentStateChanged):
                    yield record


class LoginFile:
    """`logins.json`: the current logins, rewritten when they change.

    `observe` (every record, on the event loop) only folds; `run` writes a snapshot in a
    worker thread `settle_s` after a change, so a shift's worth of logins costs a handful of
    writes; `flush` writes what is left, on stop."""

    def __init__(self, path: Path, *, settle_s: float = 0.2) -> None:
        self.path = path
        self.settle_s = settle_s
        self.book = LoginBook()
        self._changed = asyncio.Event()
        self._version = 0  # bumped by every change
        self._written = 0  # the version on disk
        self._lock = threading.Lock()

    def observe(self, r: Record) -> None:
        if isinstance(r, AgentStateChanged) and self.book.apply(r):
            self._version += 1
            self._changed.set()

    async def run(self) -> None:
        while True:
            await self._changed.wait()
            await asyncio.sleep(self.settle_s)
            self._changed.clear()
            version, text = self._snapshot()
            await asyncio.to_thread(self._write, version, text)

    def rewrite(self) -> None:
        """Write the file again soon even if nothing changes (after a restore, so that a
        stale file never outlives the start that read the database)."""
        self._version += 1
        self._changed.set()

    def flush(self) -> None:
        if self._version != self._written:
            self._write(*self._snapshot())

    def _snapshot(self) -> tuple[int, str]:
        logins = [{"agent_id": x.agent_id, "device": x.device, "pause_reason": x.pause_reason}
                  for x in self.book.logins]
        return self._version, json.dumps({"written_at": time.time(), "logins": logins})

    def _write(self, version: int, text: str) -> None:
        # Under a lock and only forwards: a write still running in its thread when the
        # daemon stops never lands after (and over) the final one.
        with self._lock:
            if version <= self._written:
                return
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.path.with_name(self.path.name + ".tmp")
                with tmp.open("w", encoding="utf-8") as f:
                    f.write(text)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.path)
                fd = os.open(self.path.parent, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            except OSError as e:
                log.error("cannot write the logins file", file=str(self.path), error=str(e))
                return
            self._written = version

    def read(self) -> LoginBook | None:
        """The logins last written, or None when there is no readable file."""
        try:
            data: Any = json.loads(self.path.read_text(encoding="utf-8"))
            book = LoginBook()
            for x in data["logins"]:
                book.put(AgentLogin(str(x["agent_id"]), str(x["device"]),
                                    None if x["pause_reason"] is None else str(x["pause_reason"])))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as e:
            log.warning("logins file unreadable; not used", file=str(self.path), error=str(e))
            return None
        return book


class LoginKeeper:
    """The daemon's side of it: `await load()` on start, `observe` every record, `run` as
    a supervised task, `flush` on stop."""

    def __init__(self, spool_dir: Path, dsn: str | None, *, db_timeout_s: float = 5.0,
                 settle_s: float = 0.2) -> None:
        self.spool_dir = spool_dir
        self.dsn = dsn
        self.db_timeout_s = db_timeout_s
        self.file = LoginFile(spool_dir / LOGINS_FILE, settle_s=settle_s)

    def observe(self, r: Record) -> None:
        self.file.observe(r)

    async def run(self) -> None:
        await self.file.run()

    def flush(self) -> None:
        self.file.flush()

    async def load(self) -> FoundLogins:
        book: LoginBook | None = None
        source = "none"
        if self.dsn:
            try:
                book, source = await logins_in_database(self.dsn, self.db_timeout_s), "database"
            except Exception as e:  # down, unreachable, not migrated: start all the same
                log.warning("database unreadable at start; logins restored from the logins "
                            "file and the spool", error=f"{type(e).__name__}: {e}")
        if book is None:
            book = await asyncio.to_thread(self.file.read)
            source = "file" if book is not None else "none"
        book = book or LoginBook()
        if self.dsn:  # without a database there is no writer, and any spool there is stale
            for record in await asyncio.to_thread(spooled_agent_states, self.spool_dir):
                book.apply(record)
            source = f"{source}+spool" if source != "none" else "spool"
        self.file.rewrite()
        return FoundLogins(book.logins, source)


__all__ = ["AgentLogin", "FoundLogins", "LoginBook", "LoginFile", "LoginKeeper",
           "logins_in_database", "spooled_agent_states"]
