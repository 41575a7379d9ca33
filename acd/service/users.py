"""Users of the HTTP API: roles, argon2 password hashes, expiring sessions, the audit log.

Users live in PostgreSQL (`users`, sql/004), reached through the `Database` port
(acd.service.ports) whose pool the daemon owns; their sessions are acd.service.sessions'.
Password checks run argon2 in a pool of their own
(acd.service.hashing), never in asyncio's default executor that the record journal's fsync uses, and
at most `max_waiting` unauthenticated checks are admitted at once.

Disabling a user, changing their role or password, or an admin's "end sessions" ends every
session of theirs at once (`end_sessions`).
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from acd.service.hashing import HashPool
from acd.service.ports import Database
from acd.service.sessions import ROLES, Role, Session, StoredSessions, User

__all__ = ["ROLES", "PasswordPolicyError", "Role", "Session", "User", "UserError",
           "UserExistsError", "Users", "check_password_policy", "password_problems"]
from acd.service.signin_guard import SignInGuard
from acd.vocabulary.audit import AuditEntry, audit_entry

log = structlog.get_logger("acd117.users")

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
_DUMMY_HASH_INPUT = "acd117-not-a-user"
SIGN_IN_QUERY_S = 2.0  # a sign-in's database read; beyond it the answer is 503


class PasswordPolicyError(ValueError):
    pass


class UserError(ValueError):
    pass


class UserExistsError(UserError):
    """The username, or the agent id, is taken already (a conflict, not a bad request)."""


def password_problems(password: str) -> list[str]:
    """The tender's policy: at least 8 characters mixing upper case, lower case and digits."""
    problems = []
    if len(password) < 8:
        problems.append("at least 8 characters")
    if not re.search(r"[A-Z]", password):
        problems.append("an upper-case letter")
    if not re.search(r"[a-z]", password):
        problems.append("a lower-case letter")
    if not re.search(r"\d", password):
        problems.append("a digit")
    return problems


def check_password_policy(password: str) -> None:
    problems = password_problems(password)
    if problems:
        raise PasswordPolicyError("the password needs " + ", ".join(problems))


class Users(StoredSessions):
    def __init__(self, database: Database, *, session_ttl_s: float = 8 * 3600.0,
                 clock: Callable[[], float] = time.time,
                 hasher: PasswordHasher | None = None) -> None:
        self.database = database
        self.session_ttl_s = session_ttl_s
        self.clock = clock
        self.hasher = hasher or PasswordHasher()
        self._sessions: dict[str, Session] = {}  # sha256(token) -> session
        self._dummy_hash: str | None = None
        self.guard = SignInGuard(clock=clock)
        self.hashes = HashPool("argon2-signin", workers=2, max_waiting=16)
        self._ended: set[str] = set()  # digests signed out here whose delete has not been done
        self._unstored: set[str] = set()  # digests the database could not take (memory only)
        self._loaded = False  # the stored sessions were read (load_sessions)
        self._wake = asyncio.Event()  # a NOTIFY on NOTIFY_CHANNEL: resync now
        # Where audit lines go when set (the daemon's `StoreWriter.submit`): see `audit`.
        self.journal: Callable[[AuditEntry], None] | None = None
        self._queries: set[asyncio.Task[Any]] = set()  # sign-in queries (see `_bounded`)

    # --- the database -------------------------------------------------------------------

    async def pool(self) -> Any:
        return await self.database.pool()

    async def close(self) -> None:
        """Stop the sign-in queries in flight and the hashing threads; the database is its
        owner's to close (the daemon's, the CLI's), after this."""
        for task in list(self._queries):
            task.cancel()
        self.hashes.close()

    async def add(self, username: str, password: str, role: Role, *,
                  agent_id: str | None = None, display_name: str | None = None,
                  replace: bool = False) -> User:
        if not USERNAME.match(username):
            raise UserError("a username is 3 to 64 letters, digits, '.', '_' or '-'")
        if role not in ROLES:
            raise UserError(f"role must be one of {', '.join(ROLES)}")
        if role == "agent" and agent_id is None:
            agent_id = username
        check_password_policy(password)
        hashed = await self.hashes.run(self.hasher.hash, password)
        pool = await self.pool()
        sql = ("INSERT INTO users (username, role, password_hash, agent_id, display_name) "
               "VALUES ($1, $2, $3, $4, $5)")
        if replace:
            sql += (" ON CONFLICT (username) DO UPDATE SET role = EXCLUDED.role, "
                    "password_hash = EXCLUDED.password_hash, agent_id = EXCLUDED.agent_id, "
                    "display_name = EXCLUDED.display_name, disabled = false, "
                    "password_changed_at = now()")
        try:
            await pool.execute(sql, username, role, hashed, agent_id, display_name)
        except Exception as e:
            if not self.database.is_duplicate(e):
                raise
            raise UserExistsError(f"user {username} (or agent {agent_id}) exists already"
                                  ) from None
        if replace:  # a reset password or role: the old sessions end with the old one
            await self.end_sessions(username)
        return User(username, role, agent_id, display_name)

    async def update(self, username: str, *, role: Role | None = None,
                     password: str | None = None) -> bool:
        """A new role and/or password; ends the user's sessions. False if no such user."""
        if role is not None and role not in ROLES:
            raise UserError(f"role must be one of {', '.join(ROLES)}")
        hashed = None
        if password is not None:
            check_password_policy(password)
            hashed = await self.hashes.run(self.hasher.hash, password)
        pool = await self.pool()
        found = await pool.fetchval(
            "UPDATE users SET role = coalesce($2, role), "
            "password_hash = coalesce($3, password_hash), "
            "password_changed_at = CASE WHEN $3::text IS NULL THEN password_changed_at "
            "ELSE now() END WHERE username = $1 RETURNING username", username, role, hashed)
        if found is None:
            return False
        await self.end_sessions(username)
        return True

    async def set_disabled(self, username: str, disabled: bool) -> bool:
        """Disable (ending every session at once) or re-enable a user; False if none."""
        pool = await self.pool()
        found = await pool.fetchval(
            "UPDATE users SET disabled = $2 WHERE username = $1 RETURNING username",
            username, disabled)
        if found is None:
            return False
        if disabled:
            await self.end_sessions(username)
        return True

    async def list_users(self) -> list[dict[str, Any]]:
        pool = await self.pool()
        rows = await pool.fetch(
            "SELECT u.username, u.role, u.agent_id, u.display_name, u.disabled, "
            "(SELECT count(*) FROM api_sessions s WHERE s.username = u.username "
            " AND s.expires_at > to_timestamp($1)) AS sessions "
            "FROM users u ORDER BY u.username", self.clock())
        return [dict(r) for r in rows]

    async def get(self, username: str) -> User | None:
        pool = await self.pool()
        row = await pool.fetchrow(
            "SELECT username, role, agent_id, display_name FROM users "
            "WHERE username = $1 AND NOT disabled", username)
        return None if row is None else User(row["username"], row["role"], row["agent_id"],
                                             row["display_name"])

    async def authenticate(self, username: str, password: str) -> User | None:
        """The user, if the password is theirs; None otherwise (in about the same time, so
        that a wrong username cannot be told from a wrong password)."""
        pool = await self.pool()
        row = await self._bounded(pool, lambda conn: conn.fetchrow(
            "SELECT username, role, password_hash, agent_id, display_name FROM users "
            "WHERE username = $1 AND NOT disabled", username, timeout=SIGN_IN_QUERY_S))
        if row is None:
            if self._dummy_hash is None:
                self._dummy_hash = await self.hashes.run(self.hasher.hash, _DUMMY_HASH_INPUT)
            await self.hashes.run(self._verify, self._dummy_hash, password)
            return None
        if not await self.hashes.run(self._verify, row["password_hash"], password):
            return None
        if self.hasher.check_needs_rehash(row["password_hash"]):
            rehashed = await self.hashes.run(self.hasher.hash, password)
            await pool.execute("UPDATE users SET password_hash = $2 WHERE username = $1",
                               username, rehashed)
        return User(row["username"], row["role"], row["agent_id"], row["display_name"])

    async def _bounded(self, pool: Any, query: Callable[[Any], Awaitable[Any]]) -> Any:
        """A query a sign-in waits for at most SIGN_IN_QUERY_S (then a TimeoutError, which
        the HTTP layer answers 503). On a connection the server stopped answering, asyncpg
        cancels a timed-out query by asking the server and resets the connection before
        the pool takes it back, waiting on both without a bound: that clean-up goes on in
        a task of its own (kept here, ended by `close`), not in the request."""
        async def run() -> Any:
            async with pool.acquire(timeout=SIGN_IN_QUERY_S) as conn:
                return await query(conn)

        task = asyncio.ensure_future(run())
        self._queries.add(task)
        task.add_done_callback(self._queries.discard)
        try:
            return await asyncio.wait_for(asyncio.shield(task), SIGN_IN_QUERY_S + 0.5)
        except TimeoutError:
            task.cancel()
            raise

    def _verify(self, hashed: str, password: str) -> bool:
        try:
            return self.hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False

    async def audit(self, user: User | None, action: str, outcome: str, *,
                    target: str | None = None, remote: str | None = None,
                    detail: dict[str, Any] | None = None) -> None:
        """Write one audit line. With a `journal` (the daemon's record writer) it is
        journalled at once and reaches `audit_log` the way call records do, so a database
        outage neither fails nor holds up the action it records. Without one (the CLI) it
        is written directly; failing that, logged (and raised: the caller decides)."""
        log.info("audit", action=action, outcome=outcome, target=target,
                 username=user.username if user else None, remote=remote)
        if self.journal is not None:
            entry = audit_entry(user.username if user else None, user.role if user else None,
                                action, outcome, target=target, remote=remote, detail=detail)
            try:
                self.journal(entry)
                return
            except RuntimeError:  # the writer has stopped (shutting down): write it here
                log.warning("audit: record writer stopped; writing the line directly",
                            action=action)
        pool = await self.pool()
        await pool.execute(
            "INSERT INTO audit_log (username, role, action, target, outcome, remote, detail) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)",
            user.username if user else None, user.role if user else None, action, target,
            outcome, remote, json.dumps(detail) if detail is not None else None)

    async def ensure_demo_users(self) -> list[tuple[str, Role, str]]:
        """The demo's accounts with fresh random passwords: an admin, a supervisor and the
        agent 1001 of the example call flows."""
        out: list[tuple[str, Role, str]] = []
        accounts: tuple[tuple[str, Role], ...] = (
            ("admin", "admin"), ("supervisor", "supervisor"), ("1001", "agent"))
        for username, role in accounts:
            password = "Demo" + secrets.token_hex(4) + "7"
            await self.add(username, password, role, replace=True)
            out.append((username, role, password))
        return out

