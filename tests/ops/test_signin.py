"""Signing in under attack: guesses at once, from one address, from made-up names, a flood
of sign-ins beside the record journal; sessions that end when a user's rights change;
requests from other sites."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from argon2 import PasswordHasher

from acd.bootstrap import Daemon
from acd.service.ports import TelephonyBase
from acd.service.settings import EXAMPLE_CONFIG
from acd.service.signin_guard import Limits, SignInGuard
from acd.service.users import Users
from acd.store.database import PostgresDatabase
from tests.ops.support import audit_log, serving, settings

FAST = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)  # argon2id, test-sized


class SlowHasher(PasswordHasher):
    """argon2 as slow as production's (and slower): each check holds its thread 0.3 s."""

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        time.sleep(0.3)
        return FAST.verify(hash, password)


class Quiet(TelephonyBase):
    async def execute(self, command: object) -> None:
        pass


@pytest.fixture
async def daemon(tmp_path: Path, migrated_dsn: str) -> AsyncIterator[Daemon]:
    config = tmp_path / "flows"
    shutil.copytree(EXAMPLE_CONFIG, config)
    async with serving(settings(tmp_path, migrated_dsn, config=config), simulate=False,
                       telephony=Quiet()) as d:
        assert d.users is not None
        d.users.hasher = FAST
        for name, role in (("admin1", "admin"), ("sup1", "supervisor"), ("1001", "agent")):
            await d.users.add(name, "Sekret117", role)  # type: ignore[arg-type]
        yield d


async def post(d: Daemon, path: str, json: Any = None, *, token: str | None = None,
               source: str = "127.0.0.1", headers: dict[str, str] | None = None,
               data: str | None = None) -> tuple[int, Any, aiohttp.ClientResponse]:
    """A request from `source` (any 127.0.0.0/8 address reaches the daemon on Linux)."""
    h = dict(headers or {})
    if token:
        h["Authorization"] = f"Bearer {token}"
    connector = aiohttp.TCPConnector(local_addr=(source, 0))
    async with aiohttp.ClientSession(connector=connector) as s, s.request(
            "GET" if path.startswith("GET ") else "POST", d.url + path.removeprefix("GET "),
            json=json, data=data, headers=h) as r:
        return r.status, await r.json(content_type=None), r


async def sign_in(d: Daemon, username: str, password: str = "Sekret117",
                  source: str = "127.0.0.1") -> tuple[int, Any]:
    status, body, _ = await post(d, "/api/login", {"username": username,
                                                   "password": password}, source=source)
    return status, body


async def audit_rows(dsn: str) -> list[tuple[str | None, str, str | None, str]]:
    return await audit_log(dsn)


# --- guessing ----------------------------------------------------------------------------

async def test_forty_guesses_sent_at_once_are_held_to_the_lockout(daemon: Daemon) -> None:
    assert daemon.users is not None
    daemon.users.hasher = SlowHasher(time_cost=1, memory_cost=8192, parallelism=1)
    guesses = [sign_in(daemon, "sup1", f"Guess{i:04d}x") for i in range(39)]
    results = await asyncio.gather(*guesses, sign_in(daemon, "sup1"))
    statuses = [status for status, _ in results]
    assert statuses.count(401) <= 5, statuses  # at most five passwords were checked
    assert statuses[-1] == 429  # the right one came after them: refused, for the window


async def test_a_storm_from_one_address_does_not_lock_the_account_elsewhere(
        daemon: Daemon) -> None:
    for _ in range(5):
        assert (await sign_in(daemon, "sup1", "Guess1234", source="127.0.0.2"))[0] == 401
    assert (await sign_in(daemon, "sup1", source="127.0.0.2"))[0] == 429
    assert (await sign_in(daemon, "sup1", source="127.0.0.1"))[0] == 200  # at their desk
    assert ("None", "login", "sup1", "locked") in [
        (str(u), a, t, o) for u, a, t, o in await audit_rows(daemon.settings.dsn or "")]


async def test_behind_a_trusted_proxy_the_limits_count_the_forwarded_address(
        tmp_path: Path, migrated_dsn: str) -> None:
    proxy = "127.0.0.9"
    async with serving(settings(tmp_path, migrated_dsn, trusted_proxies=f"{proxy}/32"),
                       simulate=False, telephony=Quiet()) as d:
        assert d.users is not None
        d.users.hasher = FAST
        await d.users.add("sup1", "Sekret117", "supervisor")

        async def via(forwarded: str, password: str, source: str = proxy) -> int:
            status, _, _ = await post(d, "/api/login", {"username": "sup1",
                                                        "password": password},
                                      source=source, headers={"X-Forwarded-For": forwarded})
            return status

        # A client may write any X-Forwarded-For; only the part our proxy added counts.
        for i in range(5):
            assert await via(f"10.9.9.{i}, 203.0.113.9", "Guess1234") == 401
        assert await via("203.0.113.9", "Sekret117") == 429  # that address is stopped
        assert await via("198.51.100.7", "Sekret117") == 200  # the room behind the proxy is not
        # Not through the proxy: the header is the client's own word, and is ignored.
        for i in range(5):
            assert await via(f"198.51.100.{i}", "Guess1234", source="127.0.0.3") == 401
        assert await via("198.51.100.99", "Sekret117", source="127.0.0.3") == 429
    await audit_rows(migrated_dsn)  # every line has landed
    conn = await asyncpg.connect(migrated_dsn)
    try:
        remotes = {r["remote"] for r in await conn.fetch("SELECT remote FROM audit_log")}
    finally:
        await conn.close()
    assert remotes == {"203.0.113.9", "198.51.100.7", "127.0.0.3"}  # who, as audited


async def test_one_address_spraying_many_accounts_is_stopped() -> None:
    now = [0.0]
    guard = SignInGuard(clock=lambda: now[0])
    refused = [guard.begin(f"user{i}", "10.0.0.9") for i in range(25)]
    assert refused[:20] == [None] * 20 and set(refused[20:]) == {"source"}
    assert guard.begin("user0", "10.0.0.10") is None  # another machine may still try
    now[0] += 301
    assert guard.begin("user21", "10.0.0.9") is None  # the window has passed


def test_guesses_from_many_addresses_lock_strangers_out_but_not_a_known_desk() -> None:
    guard = SignInGuard(clock=lambda: 0.0)
    assert guard.begin("sup1", "10.1.0.1") is None
    guard.succeeded("sup1", "10.1.0.1")  # the supervisor's own desk
    for i in range(50):
        assert guard.begin("sup1", f"10.9.0.{i}") is None
    assert guard.begin("sup1", "10.9.1.1") == "account"
    assert guard.begin("sup1", "10.1.0.1") is None


def test_ten_thousand_made_up_names_do_not_evict_an_account_under_attack() -> None:
    guard = SignInGuard(Limits(per_source=10**9), clock=lambda: 0.0)
    for _ in range(5):
        assert guard.begin("sup1", "10.0.0.9") is None
    for i in range(10_001):
        guard.begin(f"nobody{i}", f"10.2.{i // 250}.{i % 250}")
    assert len(guard.pairs) <= 10_000 and len(guard.accounts) <= 10_000
    assert guard.begin("sup1", "10.0.0.9") == "account"  # still locked


# --- a flood of sign-ins --------------------------------------------------------------------

async def test_a_login_flood_neither_queues_without_bound_nor_delays_the_journal(
        daemon: Daemon) -> None:
    assert daemon.users is not None
    daemon.users.hasher = SlowHasher(time_cost=1, memory_cost=8192, parallelism=1)
    flood = asyncio.gather(*(sign_in(daemon, f"nobody{i}", "Guess1234",
                                     source=f"127.0.{i // 20}.{2 + i % 20}")
                             for i in range(60)))
    await asyncio.sleep(0.2)  # the flood has reached the pool
    started = time.monotonic()
    await asyncio.to_thread(lambda: None)  # what the journal's fsync waits for
    waited = time.monotonic() - started
    statuses = [s for s, _ in await flood]
    assert waited < 0.1, f"the default executor waited {waited:.2f} s behind argon2"
    assert statuses.count(429) >= 60 - daemon.users.hashes.max_waiting, statuses
    assert set(statuses) == {401, 429}


# --- sessions ------------------------------------------------------------------------------

async def test_disabling_a_user_ends_their_sessions_at_once_and_enabling_does_not_revive_them(
        daemon: Daemon) -> None:
    _, admin = await sign_in(daemon, "admin1")
    _, sup = await sign_in(daemon, "sup1")
    assert (await post(daemon, "GET /api/state", token=sup["token"]))[0] == 200
    status, body, _ = await post(daemon, "/api/users/sup1/disable", token=admin["token"])
    assert status == 200 and body["disabled"] is True
    assert (await post(daemon, "GET /api/state", token=sup["token"]))[0] == 401
    assert (await post(daemon, "GET /api/recordings", token=sup["token"]))[0] == 401
    assert (await sign_in(daemon, "sup1"))[0] == 401
    assert (await post(daemon, "/api/users/sup1/enable", token=admin["token"]))[0] == 200
    assert (await post(daemon, "GET /api/state", token=sup["token"]))[0] == 401
    assert (await sign_in(daemon, "sup1"))[0] == 200
    rows = await audit_rows(daemon.settings.dsn or "")
    assert ("admin1", "user.disable", "sup1", "ok") in rows
    assert ("admin1", "user.enable", "sup1", "ok") in rows


async def test_a_demoted_or_re_passworded_user_signs_in_again(daemon: Daemon) -> None:
    _, admin = await sign_in(daemon, "admin1")
    _, sup = await sign_in(daemon, "sup1")
    async with aiohttp.ClientSession() as s, s.patch(
            daemon.url + "/api/users/sup1", json={"role": "agent"},
            headers={"Authorization": f"Bearer {admin['token']}"}) as r:
        assert r.status == 200
    assert (await post(daemon, "GET /api/me", token=sup["token"]))[0] == 401
    _, agent = await sign_in(daemon, "1001")
    assert daemon.users is not None
    await daemon.users.update("1001", password="Baru12345")
    assert (await post(daemon, "GET /api/me", token=agent["token"]))[0] == 401
    assert (await sign_in(daemon, "1001", "Baru12345"))[0] == 200


async def test_an_admin_lists_users_and_ends_a_users_sessions(daemon: Daemon) -> None:
    _, admin = await sign_in(daemon, "admin1")
    _, sup = await sign_in(daemon, "sup1")
    status, body, _ = await post(daemon, "GET /api/users", token=admin["token"])
    assert status == 200
    assert {u["username"]: u["sessions"] for u in body["users"]}["sup1"] == 1
    assert (await post(daemon, "GET /api/users", token=sup["token"]))[0] == 403
    assert (await post(daemon, "/api/users/sup1/logout", token=sup["token"]))[0] == 403
    status, body, _ = await post(daemon, "/api/users/sup1/logout", token=admin["token"])
    assert status == 200 and body["sessions_ended"] == 1
    assert (await post(daemon, "GET /api/me", token=sup["token"]))[0] == 401
    assert (await post(daemon, "/api/users/ghost/logout", token=admin["token"]))[0] == 404
    assert ("admin1", "user.end_sessions", "sup1", "ok") in await audit_rows(
        daemon.settings.dsn or "")


async def test_the_cli_disabling_a_user_ends_their_sessions_in_the_running_daemon(
        daemon: Daemon) -> None:
    _, sup = await sign_in(daemon, "sup1")
    acd117 = str(Path(sys.executable).parent / "acd117")
    done = await asyncio.to_thread(
        subprocess.run, [acd117, "user", "disable", "sup1", "--dsn", daemon.settings.dsn or ""],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert daemon.users is not None

    async def ended() -> bool:
        return (await post(daemon, "GET /api/me", token=sup["token"]))[0] == 401

    async with asyncio.timeout(3):  # told by NOTIFY, well before the periodic resync
        while not await ended():
            await asyncio.sleep(0.05)
    rows = await audit_rows(daemon.settings.dsn or "")
    assert (None, "user.disable", "sup1", "ok") in rows
    listed = await asyncio.to_thread(
        subprocess.run, [acd117, "user", "list", "--dsn", daemon.settings.dsn or ""],
        capture_output=True, text=True, timeout=60)
    assert "sup1" in listed.stdout and "disabled" in listed.stdout


async def test_a_session_ended_in_the_database_is_dropped_at_the_next_resync(
        migrated_dsn: str) -> None:
    here = Users(PostgresDatabase(migrated_dsn), hasher=FAST)
    elsewhere = Users(PostgresDatabase(migrated_dsn), hasher=FAST)
    try:
        user = await here.add("sup5", "Sekret117", "supervisor")
        token, _ = await here.open_session(user)
        kept, _ = await here.open_session(await here.add("sup6", "Sekret117", "supervisor"))
        await elsewhere.end_sessions("sup5")
        assert here.session(token) is not None  # until this daemon hears of it
        assert await here.resync() == 1
        assert here.session(token) is None and here.session(kept) is not None
    finally:
        await here.close()
        await here.database.close()
        await elsewhere.close()
        await elsewhere.database.close()


# --- other sites, headers ---------------------------------------------------------------

async def test_a_foreign_page_cannot_create_an_admin_or_reload_with_the_cookie(
        daemon: Daemon) -> None:
    _, admin = await sign_in(daemon, "admin1")
    cookie = {"Cookie": f"acd117_session={admin['token']}"}
    evil = {**cookie, "Origin": "https://evil.example"}
    body = '{"username": "mallory", "password": "Sekret117", "role": "admin"}'
    status, _, _ = await post(daemon, "/api/users", data=body,
                              headers={**evil, "Content-Type": "text/plain"})
    assert status == 403
    status, _, _ = await post(daemon, "/api/users", data=body,
                              headers={**cookie, "Content-Type": "text/plain"})
    assert status == 415  # not JSON, whatever the origin
    assert (await post(daemon, "/api/config/reload", headers=evil))[0] == 403
    status, _, _ = await post(daemon, "/api/config/reload",
                              headers={**cookie, "Sec-Fetch-Site": "cross-site"})
    assert status == 403
    assert daemon.users is not None
    assert "mallory" not in {u["username"] for u in await daemon.users.list_users()}
    assert (await post(daemon, "/api/config/reload", headers={
        **cookie, "Origin": "null"}))[0] == 403
    host = daemon.url.removeprefix("http://")
    assert (await post(daemon, "/api/config/reload", headers={
        **cookie, "Origin": f"http://{host}.evil.example"}))[0] == 403
    assert (await post(daemon, "/api/config/reload", headers={
        **cookie, "Origin": f"https://{host}"}))[0] == 200  # behind a TLS proxy
    own = {**cookie, "Origin": daemon.url}
    assert (await post(daemon, "/api/users", {"username": "op-2", "password": "Sekret117",
                                              "role": "supervisor"}, headers=own))[0] == 201


async def test_responses_say_nosniff_deny_framing_and_do_not_store_tokens(
        daemon: Daemon) -> None:
    status, _, r = await post(daemon, "/api/login", {"username": "sup1",
                                                     "password": "Sekret117"})
    assert status == 200
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "Secure" not in r.headers["Set-Cookie"]  # plain http on a test port
    _, _, r = await post(daemon, "/api/login", {"username": "sup1", "password": "Sekret117"},
                         headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in r.headers["Set-Cookie"] and "HttpOnly" in r.headers["Set-Cookie"]
    async with aiohttp.ClientSession() as s, s.get(daemon.url + "/wallboard") as page:
        assert page.headers["X-Frame-Options"] == "DENY"
        assert page.headers["X-Content-Type-Options"] == "nosniff"
    _, _, r = await post(daemon, "/api/login", {"username": "sup1", "password": "wrong"})
    assert r.headers["Cache-Control"] == "no-store"  # errors too
