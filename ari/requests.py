"""What every part of the Stasis app shares besides the legs: background tasks and timers,
one FIFO lock per call/offer, and the quiet ways of sending a request on a channel."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from ari.adoption import AdapterEvent
from ari.client import AriClient, AriError, AriNotFound, HangupReason, VariablesUnsupported
from ari.legs import CallerLeg

log = logging.getLogger("ari.stasis")  # one logger for the whole Stasis app

Emit = Callable[[AdapterEvent], None]


class Background:
    """The Stasis app's background tasks and timers; `closing` once shutdown began."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[object]] = set()
        self.timers: set[asyncio.TimerHandle] = set()
        self.closing = False

    def spawn(self, coro: Coroutine[Any, Any, object], name: str | None = None) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[object]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background ARI task failed", exc_info=task.exception())

    def later(self, delay: float, fire: Callable[[], None]) -> None:
        def run() -> None:
            self.timers.discard(handle)
            fire()

        handle = asyncio.get_running_loop().call_later(delay, run)
        self.timers.add(handle)

    def cancel_named(self, name: str) -> None:
        for task in list(self.tasks):
            if task.get_name() == name:
                task.cancel()

    def cancel_timers(self) -> None:
        for handle in list(self.timers):
            handle.cancel()
        self.timers.clear()

    async def drain(self) -> None:
        """Wait until every background request has finished (tests, shutdown)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)


class KeyedLocks:
    """One FIFO lock per call/offer: requests for one channel go out in command order."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    def __call__(self, key: str) -> KeyedLock:
        return KeyedLock(self, key)

    def acquire_ref(self, key: str) -> asyncio.Lock:
        lock, refs = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, refs + 1)
        return lock

    def release_ref(self, key: str) -> None:
        lock, refs = self._locks[key]
        if refs <= 1:
            del self._locks[key]
        else:
            self._locks[key] = (lock, refs - 1)


class KeyedLock:
    def __init__(self, owner: KeyedLocks, key: str) -> None:
        self.owner = owner
        self.key = key
        self.lock = owner.acquire_ref(key)

    async def __aenter__(self) -> None:
        await self.lock.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self.lock.release()
        self.owner.release_ref(self.key)


async def quietly(request: Awaitable[None]) -> None:
    """A request whose failure only deserves a log line (a channel gone: not even that)."""
    try:
        await request
    except AriNotFound:
        pass  # already gone
    except AriError as exc:
        log.warning("%s", exc)


class Requests:
    """Requests on channels whose failure is not the caller's concern."""

    def __init__(self, client: AriClient) -> None:
        self.client = client
        self._bulk_variables = True  # POST /channels/{id}/variables until refused

    async def hangup_quietly(self, channel_id: str, reason: HangupReason | None) -> None:
        await quietly(self.client.hangup(channel_id, reason))

    async def answer_transfer(self, channel_id: str, done: bool) -> None:
        """Tell the phone that pressed Transfer whether it went through (NOTIFY 200/603)."""
        await quietly(self.client.transfer_progress(
            channel_id, "channel_answered" if done else "channel_declined"))

    async def variable(self, channel_id: str, name: str) -> str | None:
        try:
            return await self.client.get_variable(channel_id, name)
        except AriError:
            return None

    async def on_call(
        self, leg: CallerLeg, request: Awaitable[None], reraise: bool = False
    ) -> bool:
        """A request on a caller channel; False when it failed (logged unless the
        channel has simply gone meanwhile)."""
        try:
            await request
        except VariablesUnsupported:
            if reraise:
                raise
            return False
        except AriNotFound:
            return False
        except AriError as exc:
            if leg.in_stasis:
                log.warning("call %s: %s", leg.call_id, exc)
            return False
        return True

    async def set_call_variables(self, leg: CallerLeg, variables: dict[str, str]) -> bool:
        """Variables on a caller channel: in one request where Asterisk has
        POST /channels/{id}/variables, else one request each. Call under the call lock."""
        if self._bulk_variables:
            try:
                return await self.on_call(
                    leg, self.client.set_variables(leg.call_id, variables), reraise=True
                )
            except VariablesUnsupported:
                log.info("no POST /channels/{id}/variables here; one request per variable")
                self._bulk_variables = False
        for name, value in variables.items():
            request = self.client.set_variable(leg.call_id, name, value)
            if not await self.on_call(leg, request):
                return False
        return True
