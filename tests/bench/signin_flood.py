"""Sign-in under attack, measured on a whole daemon with production argon2 settings.

    flood        150 unauthenticated sign-ins sent at once (wrong passwords, 150 source
                 addresses on 127.0.0.0/8) while an admin times `POST /api/config/validate`
                 and the record writer's backlog is sampled every 50 ms (the simulated
                 callers keep records flowing)
    guesses      40 sign-ins for one account sent at once from one address, 39 wrong
                 passwords and the right one last: how many were checked (401) and what
                 the right one got
    crash        the same flood at a daemon in a process of its own that takes a call
                 every 20 ms; `kill -9` 1.5 s into it; a new daemon on the same spool
                 folder: how many of the calls handled more than 100 ms before the kill
                 have no tier-hop record (the journal's promise), and how many in all

Run: `.venv/bin/python tests/bench/signin_flood.py` (prints one JSON line). The database is
the server on 127.0.0.1:5432 (database `test`) when it accepts connections, else an
embedded `pgserver`; each run uses a fresh schema and drops it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402

from acd.store.migrate import migrate_dsn  # noqa: E402
from acd.store.server import local_or_embedded  # noqa: E402
from tests.ops.daemon_proc import Quiet  # noqa: E402
from tests.ops.support import serving, settings  # noqa: E402


async def _login(url: str, username: str, password: str, source: str) -> int:
    connector = aiohttp.TCPConnector(local_addr=(source, 0))
    async with aiohttp.ClientSession(connector=connector) as s, s.post(
            url + "/api/login", json={"username": username, "password": password}) as r:
        await r.read()
        return r.status


async def _validate(url: str, token: str) -> float:
    started = time.monotonic()
    async with aiohttp.ClientSession() as s, s.post(
            url + "/api/config/validate", headers={"Authorization": f"Bearer {token}"}) as r:
        await r.read()
        assert r.status == 200, r.status
    return time.monotonic() - started


def _counts(statuses: list[int]) -> dict[str, int]:
    return {str(k): statuses.count(k) for k in sorted(set(statuses))}


async def measure(dsn: str, tmp: Path) -> dict[str, Any]:
    async with serving(settings(tmp, dsn), time_scale=1.0) as daemon:
        users = daemon.users
        assert users is not None
        await users.add("admin1", "Sekret117", "admin")
        await users.add("sup1", "Sekret117", "supervisor")
        url = daemon.url
        async with aiohttp.ClientSession() as s, s.post(url + "/api/login", json={
                "username": "admin1", "password": "Sekret117"}) as r:
            token = (await r.json())["token"]
        idle = [await _validate(url, token) for _ in range(3)]

        backlog: list[int] = []
        done = asyncio.Event()

        async def sample() -> None:
            while not done.is_set():
                if daemon.writer is not None:
                    backlog.append(daemon.writer.stats.backlog)
                await asyncio.sleep(0.05)

        sampler = asyncio.create_task(sample())
        started = time.monotonic()
        flood = asyncio.gather(*(_login(url, f"user{i}", "Guess1234x",
                                        f"127.1.{i // 200}.{1 + i % 200}")
                                 for i in range(150)))
        await asyncio.sleep(0.1)
        during: list[float] = []
        while not flood.done():
            during.append(await _validate(url, token))
        statuses = await flood
        flood_s = time.monotonic() - started
        done.set()
        await sampler

        guesses = await asyncio.gather(
            *(_login(url, "sup1", f"Guess{i:04d}x", "127.2.0.1") for i in range(39)),
            _login(url, "sup1", "Sekret117", "127.2.0.1"))
        return {
            "validate_idle_s": round(max(idle), 3),
            "validate_during_flood_max_s": round(max(during or [0.0]), 3),
            "validate_during_flood_n": len(during),
            "flood_s": round(flood_s, 2),
            "flood_statuses": _counts(statuses),
            "writer_backlog_max": max(backlog or [0]),
            "guesses_statuses": _counts(list(guesses[:-1])),
            "right_password_after_guesses": guesses[-1],
        }


async def crash(dsn: str, tmp: Path) -> dict[str, Any]:
    """kill -9 during a login flood: the records of the calls before it are all kept."""
    import asyncpg

    spool = settings(tmp / "crash", dsn)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.ops.daemon_proc", spool.model_dump_json(), "[]", "0",
        "1000", cwd=REPO, stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.stdout is not None
    handled: dict[str, float] = {}
    url = ""

    async def read() -> None:
        nonlocal url
        assert proc.stdout is not None
        while line := (await proc.stdout.readline()).decode():
            kind, *rest = line.split()
            if kind == "URL":
                url = rest[0]
            elif kind == "CALL":
                handled[rest[0]] = float(rest[1])

    reader = asyncio.create_task(read())
    while not handled:
        await asyncio.sleep(0.01)
    flood = asyncio.gather(*(_login(url, f"user{i}", "Guess1234x",
                                    f"127.3.{i // 200}.{1 + i % 200}") for i in range(150)),
                           return_exceptions=True)
    await asyncio.sleep(1.5)
    proc.send_signal(signal.SIGKILL)
    killed_at = time.time()
    await proc.wait()
    await reader
    await flood
    async with serving(spool, simulate=False, telephony=Quiet()) as second:
        while second.writer is None or second.writer.stats.spool_records:
            await asyncio.sleep(0.05)
    conn = await asyncpg.connect(dsn)
    try:
        kept = {r["call_id"] for r in await conn.fetch(
            "SELECT DISTINCT call_id FROM call_hops WHERE call_id LIKE 'crash-%'")}
    finally:
        await conn.close()
    settled = [c for c, at in handled.items() if at < killed_at - 0.1]
    return {
        "crash_calls_handled": len(handled),
        "crash_calls_settled_lost": sum(c not in kept for c in settled),
        "crash_calls_lost": sum(c not in kept for c in handled),
    }


async def main() -> None:
    import asyncpg

    with local_or_embedded() as server, tempfile.TemporaryDirectory() as tmp:
        schema = f"acd117_flood_{uuid.uuid4().hex[:8]}"
        conn = await asyncpg.connect(server.dsn)
        await conn.execute(f"CREATE SCHEMA {schema}")
        await conn.close()
        try:
            dsn = server.dsn_for_schema(schema)
            await migrate_dsn(dsn)
            figures = await measure(dsn, Path(tmp))
            figures.update(await crash(dsn, Path(tmp)))
            print(json.dumps(figures))
        finally:
            conn = await asyncpg.connect(server.dsn)
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
            await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
