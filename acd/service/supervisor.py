"""One supervisor owns every long-running task of the daemon.

Each task is started from a factory; one that fails is logged and restarted with backoff
(a lost Asterisk connection must not stop call handling); stopping cancels them all and
waits for them. Nothing runs outside its care.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

log = structlog.get_logger("acd117.supervisor")


@dataclass
class _Job:
    name: str
    factory: Callable[[], Awaitable[None]]
    restarts: int = 0


class Supervisor:
    def __init__(self, *, backoff_s: float = 0.5, max_backoff_s: float = 10.0) -> None:
        self._jobs: list[_Job] = []
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s

    def add(self, name: str, factory: Callable[[], Awaitable[None]]) -> None:
        self._jobs.append(_Job(name, factory))

    async def run(self) -> None:
        """Run every job until cancelled; then cancel them all and wait for them."""
        async with asyncio.TaskGroup() as group:
            for job in self._jobs:
                group.create_task(self._keep(job), name=job.name)

    async def _keep(self, job: _Job) -> None:
        while True:
            try:
                await job.factory()
                log.warning("task ended; restarting", task=job.name)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("task failed; restarting", task=job.name, restarts=job.restarts)
            job.restarts += 1
            backoff = self._backoff_s * 2 ** min(job.restarts, 6)
            await asyncio.sleep(min(self._max_backoff_s, backoff))

    def restarts(self, name: str) -> int:
        return next(j.restarts for j in self._jobs if j.name == name)
