"""Running a whole daemon in a test: simulated telephony on a fast clock, port 0."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp

from acd.bootstrap import Daemon, bootstrap
from acd.service.settings import Settings


def settings(tmp_path: Path, dsn: str | None = None, **kw: Any) -> Settings:
    return Settings(dsn=dsn, http_port=0, spool_dir=tmp_path / "spool",
                    recordings_dir=tmp_path / "recordings", **kw)


@contextlib.asynccontextmanager
async def serving(s: Settings, *, time_scale: float = 0.02, seed: int = 7,
                  **kw: Any) -> AsyncIterator[Daemon]:
    daemon = bootstrap(s, simulate=kw.pop("simulate", True), time_scale=time_scale, seed=seed,
                       **kw)
    async with daemon.serving():
        yield daemon


async def until(check: Callable[[], bool], timeout: float = 5.0, every: float = 0.02) -> None:
    """Wait until `check()` holds; fail the test after `timeout`."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(every)


async def get_json(url: str, token: str | None = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as s, s.get(url, headers=headers) as r:
        body = await r.json(content_type=None)
        return r.status, body


async def audit_log(dsn: str) -> list[tuple[str | None, str, str | None, str]]:
    """The audit log's lines, once those in flight have landed: they reach PostgreSQL
    through the record writer's spool, a batch (tens of ms) after the action."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        rows: list[tuple[str | None, str, str | None, str]] = []
        steady = 0
        async with asyncio.timeout(10.0):
            while steady < 4:
                await asyncio.sleep(0.05)
                now = [(r["username"], r["action"], r["target"], r["outcome"]) for r in
                       await conn.fetch("SELECT username, action, target, outcome "
                                        "FROM audit_log ORDER BY id")]
                steady = steady + 1 if now == rows else 0
                rows = now
        return rows
    finally:
        await conn.close()
