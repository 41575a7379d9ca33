"""Bounded worker pools for argon2, apart from asyncio's default executor.

argon2 takes ~0.1 s of CPU per check by design. Run through `asyncio.to_thread`, a flood
of sign-ins filled the default executor that the record journal's fsync and the config
loader also use: the journal and the call path waited behind password hashing. So each
kind of check has a pool of its own, a few threads wide, and the unauthenticated ones are
admitted only up to a cap: beyond it the caller is told to come back later (HTTP 429)
rather than queued without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class Busy(Exception):
    """More unauthenticated checks are in flight than the pool admits."""


class HashPool:
    """A thread pool of `workers` threads for argon2, admitting at most `max_waiting`
    unauthenticated checks at a time (running or queued)."""

    def __init__(self, name: str, *, workers: int = 2, max_waiting: int = 16) -> None:
        self.name = name
        self.workers = workers
        self.max_waiting = max_waiting
        self.in_flight = 0
        self._executor: ThreadPoolExecutor | None = None

    @property
    def executor(self) -> ThreadPoolExecutor:
        # Made on first use, so that building a daemon (or a CLI command) starts no thread.
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.workers,
                                                thread_name_prefix=f"acd117-{self.name}")
        return self._executor

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    @contextlib.contextmanager
    def admit(self) -> Iterator[None]:
        """One unauthenticated check; raises Busy when `max_waiting` are in flight."""
        if self.in_flight >= self.max_waiting:
            raise Busy(self.name)
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1

    def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
