"""Sessions of the HTTP API's users, kept in memory and in PostgreSQL (`api_sessions`,
sql/006) so that a restart, a crash or an upgrade signs nobody out: `open_session` stores
the session before the token is handed out, `close_session` deletes it before the sign-out
is confirmed, and the daemon reads the unexpired ones back (`load_sessions`) before it
serves HTTP. Checking a token stays in memory (no database round trip per request, and a
database outage signs nobody out). A session token is a random 256-bit string handed to
the client once; only its SHA-256 is kept, in memory and in the table.

Ending a user's sessions (disabled, another role or password, an admin's "end sessions")
drops them here in memory, and in the table with a NOTIFY on `acd117_sessions`, so that a
daemon told by another process (the CLI) drops them within a moment; every few seconds
(`resync`) the daemon also drops any session whose row is gone or whose user is disabled
or has another role now.

When the database cannot take a session (it is down just after the password check, or not
migrated yet), the session still works, from memory, until the daemon stops; a sign-out
whose delete fails is retried every minute, and is kept out of `load_sessions` meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import structlog

from acd.service.ports import Database

log = structlog.get_logger("acd117.users")

Role = Literal["agent", "supervisor", "admin"]
ROLES: tuple[Role, ...] = ("agent", "supervisor", "admin")
NOTIFY_CHANNEL = "acd117_sessions"
RESYNC_S = 5.0


@dataclass(frozen=True, slots=True)
class User:
    username: str
    role: Role
    agent_id: str | None = None
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    created_at: float
    expires_at: float


class StoredSessions:
    """The session half of `acd.service.users.Users`, which sets these up."""

    database: Database
    session_ttl_s: float
    clock: Callable[[], float]
    _sessions: dict[str, Session]  # sha256(token) -> session
    _ended: set[str]  # digests signed out here whose delete has not been done
    _unstored: set[str]  # digests the database could not take (memory only)
    _loaded: bool  # the stored sessions were read (load_sessions)
    _wake: asyncio.Event  # a NOTIFY on NOTIFY_CHANNEL: resync now

    async def pool(self) -> Any:
        raise NotImplementedError

    async def end_sessions(self, username: str) -> int:
        """End every session of `username` at once: here, in the table, and (NOTIFY) in any
        other daemon on the same database. Returns how many this process held."""
        keys = [k for k, s in self._sessions.items() if s.user.username == username]
        for key in keys:
            del self._sessions[key]
            self._unstored.discard(key)
        pool = await self.pool()
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM api_sessions WHERE username = $1", username)
            await conn.execute(f"NOTIFY {NOTIFY_CHANNEL}")
        log.info("sessions ended", username=username, sessions=len(keys))
        return len(keys)

    # --- sessions -----------------------------------------------------------------------

    async def open_session(self, user: User) -> tuple[str, Session]:
        """A new session, stored before its token is handed out."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        session = Session(user, now, now + self.session_ttl_s)
        key = _digest(token)
        try:
            pool = await self.pool()
            await pool.execute(
                "INSERT INTO api_sessions (token_sha256, username, created_at, expires_at) "
                "VALUES ($1, $2, to_timestamp($3), to_timestamp($4))",
                key, user.username, session.created_at, session.expires_at)
        except Exception as e:  # the sign-in goes ahead; only a restart would end it
            log.warning("session not stored: it ends when acd117 stops",
                        username=user.username, error=f"{type(e).__name__}: {e}")
            self._unstored.add(key)  # resync must not drop it for want of a row
        # In memory only once stored: a resync reading the table meanwhile cannot drop it.
        self._sessions[key] = session
        return token, session

    def session(self, token: str) -> Session | None:
        key = _digest(token)
        session = self._sessions.get(key)
        if session is None:
            return None
        if self.clock() >= session.expires_at:
            del self._sessions[key]
            return None
        return session

    async def close_session(self, token: str) -> None:
        """Sign out: the token stops working at once, here and after a restart."""
        key = _digest(token)
        self._sessions.pop(key, None)
        self._unstored.discard(key)
        self._ended.add(key)
        await self._delete_ended()

    async def _delete_ended(self) -> None:
        if not self._ended:
            return
        keys = sorted(self._ended)
        try:
            pool = await self.pool()
            await pool.execute("DELETE FROM api_sessions WHERE token_sha256 = ANY($1::text[])",
                               keys)
        except Exception as e:
            log.warning("signed-out session not yet deleted from the database; retrying",
                        sessions=len(keys), error=f"{type(e).__name__}: {e}")
            return
        self._ended.difference_update(keys)

    async def load_sessions(self) -> int:
        """Read back the unexpired sessions of enabled users (on start, before HTTP is
        served); returns how many. Failing (the database is down) is logged, and `run`
        tries again until it works."""
        try:
            pool = await self.pool()
            rows = await pool.fetch(
                "SELECT s.token_sha256, extract(epoch FROM s.created_at) AS created_at, "
                "extract(epoch FROM s.expires_at) AS expires_at, u.username, u.role, "
                "u.agent_id, u.display_name "
                "FROM api_sessions s JOIN users u USING (username) "
                "WHERE s.expires_at > to_timestamp($1) AND NOT u.disabled", self.clock())
        except Exception as e:
            log.warning("stored sessions not read; signed-in users must sign in again "
                        "unless the database is back soon", error=f"{type(e).__name__}: {e}")
            return 0
        self._loaded = True
        loaded = 0
        for row in rows:
            key = row["token_sha256"]
            if key in self._sessions or key in self._ended:
                continue
            user = User(row["username"], row["role"], row["agent_id"], row["display_name"])
            self._sessions[key] = Session(user, float(row["created_at"]),
                                          float(row["expires_at"]))
            loaded += 1
        log.info("sessions restored", sessions=loaded)
        return loaded

    def purge_expired(self) -> int:
        now = self.clock()
        keys = [k for k, s in self._sessions.items() if now >= s.expires_at]
        for k in keys:
            del self._sessions[k]
            self._unstored.discard(k)
        return len(keys)

    async def _purge_stored(self) -> None:
        try:
            pool = await self.pool()
            await pool.execute("DELETE FROM api_sessions WHERE expires_at <= to_timestamp($1)",
                               self.clock())
        except Exception as e:
            log.warning("expired sessions not deleted from the database",
                        error=f"{type(e).__name__}: {e}")

    async def resync(self) -> int:
        """Drop the sessions held here whose row is gone (ended by another process), whose
        user is disabled, or whose user has another role now; returns how many. A database
        outage drops nothing."""
        started = self.clock()
        try:
            pool = await self.pool()
            rows = await pool.fetch(
                "SELECT s.token_sha256, u.role FROM api_sessions s JOIN users u "
                "USING (username) WHERE NOT u.disabled")
        except Exception as e:
            log.warning("sessions not checked against the database",
                        error=f"{type(e).__name__}: {e}")
            return 0
        live = {r["token_sha256"]: r["role"] for r in rows}
        gone = [k for k, s in self._sessions.items()
                if k not in self._unstored and s.created_at < started
                and live.get(k) != s.user.role]
        for key in gone:
            del self._sessions[key]
        if gone:
            log.info("sessions ended elsewhere dropped", sessions=len(gone))
        return len(gone)

    async def _listen(self) -> None:
        """Keep a connection LISTENing on NOTIFY_CHANNEL (best effort: resync runs anyway)."""
        await self.database.listen(NOTIFY_CHANNEL, self._wake.set)

    async def run(self, resync_s: float = RESYNC_S) -> None:
        """A supervisor job: drop sessions ended elsewhere at once (NOTIFY) or within
        `resync_s`; every minute forget expired sessions, here and in the database, retry
        sign-outs not yet deleted, and the start's read if it failed."""
        last_purge = time.monotonic()
        while True:
            await self._listen()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), resync_s)
            self._wake.clear()
            await self.resync()
            if time.monotonic() - last_purge < 60:
                continue
            last_purge = time.monotonic()
            self.purge_expired()
            await self._delete_ended()
            if not self._loaded:
                await self.load_sessions()
            await self._purge_stored()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
