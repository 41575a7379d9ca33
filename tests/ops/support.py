"""Running a whole daemon in a test: simulated telephony on a fast clock, port 0."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp

from acd.daemon import Daemon, bootstrap
from acd.settings import Settings


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
