"""The ARI events websocket: connect, keep connected, resync after every (re)connect.

What Asterisk does, and what this module does about it:

* `Stasis()` only works while a websocket for the app is connected; calls arriving while
  it is down take the dialplan fallback [07, 13]. So reconnecting fast matters: backoff
  starts at 0.1 s and is capped at 2 s.
* A dropped connection (client sees close code 1006 [07, 11]) leaves calls in Stasis and
  in their bridges; events produced meanwhile are lost, not replayed [07]. After every
  (re)connect `on_connected` runs (the Stasis adapter's resync: GET /applications/{app},
  /channels, /bridges) before any further event is dispatched.
* Asterisk restart [11]: the socket closes without a close frame (1006), then connection
  refused, then the upgrade answers 404 (HTTP up, ARI not loaded), then 503 (not booted),
  then 101. All of these are retried.
* A second websocket for the same app takes the app over: this socket gets
  `ApplicationReplaced` and then silence, without being closed [13]. That is treated as a
  drop: close and reconnect (which takes the app back).
* With overlapping subscriptions Asterisk sends the same event twice, identical JSON back
  to back [01, 02b]; such repeats are dropped here.
* A websocket ping every `heartbeat` s notices a dead TCP connection (host gone) within
  1.5 x `heartbeat` s.

Every line names Asterisk's host:port. Connecting is logged at INFO; failed attempts are
logged once, then counted and logged once per `failure_log_s` with the count
(ari.failures), so a long outage does not flood the log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from ari.client import AriClient
from ari.failures import FailureCount, reason

log = logging.getLogger(__name__)

EventHandler = Callable[[dict[str, Any]], Awaitable[None]]
ConnectHandler = Callable[[], Awaitable[None]]


class Backoff:
    """Exponential reconnect delays with a little jitter."""

    def __init__(
        self, initial: float = 0.1, factor: float = 2.0, maximum: float = 2.0, jitter: float = 0.1
    ) -> None:
        self.initial = initial
        self.factor = factor
        self.maximum = maximum
        self.jitter = jitter
        self._next = initial

    def next(self) -> float:
        delay = self._next
        self._next = min(self.maximum, self._next * self.factor)
        return delay * (1.0 + random.uniform(0.0, self.jitter))

    def reset(self) -> None:
        self._next = self.initial


class Deduplicator:
    """Recognises a message identical to one of the last few (overlapping subscriptions
    deliver channel events twice, identical JSON back to back [01, 02b])."""

    def __init__(self, window: int = 16) -> None:
        self._recent: deque[str] = deque(maxlen=window)

    def seen(self, text: str) -> bool:
        if text in self._recent:
            return True
        self._recent.append(text)
        return False

    def clear(self) -> None:
        self._recent.clear()


@dataclass
class StreamStats:
    connects: int = 0
    failed_connects: int = 0
    drops: int = 0
    replaced: int = 0
    duplicates: int = 0
    malformed: int = 0
    events: int = 0


class AriEventStream:
    """Reads `GET /events?app=<app>` forever and hands each event to `on_event` in order."""

    def __init__(
        self,
        client: AriClient,
        app: str,
        on_event: EventHandler,
        on_connected: ConnectHandler | None = None,
        *,
        backoff: Backoff | None = None,
        heartbeat: float = 10.0,
        dedupe_window: int = 16,
        failure_log_s: float = 60.0,
    ) -> None:
        self.client = client
        self.app = app
        self.on_event = on_event
        self.on_connected = on_connected
        self.backoff = backoff or Backoff()
        self.heartbeat = heartbeat
        self.connected = asyncio.Event()
        self.stats = StreamStats()
        self._dedupe = Deduplicator(dedupe_window)
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._stopping = False
        self._failures = FailureCount(failure_log_s)
        url = client.base_url
        self.where = f"{url.host}:{url.port}"

    async def run(self) -> None:
        """Connect, dispatch, reconnect; returns only after `stop()` (a later `run()` starts
        afresh)."""
        self._stopping = False
        while not self._stopping:
            ws = await self._connect()
            if ws is not None:
                await self._serve(ws)
            if self._stopping:
                break
            await asyncio.sleep(self.backoff.next())

    async def stop(self) -> None:
        self._stopping = True
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()

    async def drop(self) -> None:
        """Close the current socket; `run` reconnects (tests, admin commands)."""
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()

    async def _connect(self) -> aiohttp.ClientWebSocketResponse | None:
        url = self.client.events_url(self.app)
        try:
            ws = await self.client.session.ws_connect(
                url, headers=self.client.auth_headers, heartbeat=self.heartbeat, autoping=True
            )
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status == 401:
                self._failed(logging.ERROR, f"credentials rejected by {self.where} (401)")
            else:
                # 404: HTTP server up, ARI not loaded; 503: not booted yet [11].
                self._failed(logging.WARNING,
                             f"upgrade refused by {self.where} with {exc.status}")
            return None
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            self._failed(logging.WARNING,
                         f"cannot connect to {self.where} ({reason(exc)})")
            return None
        self._ws = ws
        self.stats.connects += 1
        self.backoff.reset()
        log.info("ari websocket connected to %s for app %s%s", self.where, self.app,
                 self._failures.succeeded())
        return ws

    async def _serve(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        try:
            if self.on_connected is not None:
                try:
                    await self.on_connected()
                except Exception:
                    # Without a complete resync the adapter's view may be stale; try again
                    # on a fresh connection rather than carrying on half-informed.
                    log.exception("ari resync after connect failed; reconnecting")
                    return
            self.connected.set()
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    if await self._dispatch(msg.data):
                        return
                elif msg.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE):
                    break
            if not self._stopping:
                self.stats.drops += 1
                log.warning("ari websocket closed by %s (code %s), reconnecting", self.where,
                            ws.close_code)
        finally:
            self.connected.clear()
            self._dedupe.clear()
            if not ws.closed:
                await ws.close()

    def _failed(self, level: int, what: str) -> None:
        self.stats.failed_connects += 1
        suffix = self._failures.failed()
        if suffix is not None:
            log.log(level, "ari websocket: %s, retrying%s", what, suffix)

    async def _dispatch(self, text: str) -> bool:
        """Hand one message on; True when the socket must be given up."""
        if self._dedupe.seen(text):
            self.stats.duplicates += 1
            return False
        try:
            event = json.loads(text)
        except ValueError:
            self.stats.malformed += 1
            log.warning("ari websocket: message is not JSON: %.200r", text)
            return False
        if not isinstance(event, dict):
            self.stats.malformed += 1
            return False
        if event.get("type") == "ApplicationReplaced":
            # Another websocket took the app; this one gets nothing more [13].
            self.stats.replaced += 1
            log.warning("ari app %s on %s taken over by another connection; reconnecting",
                        self.app, self.where)
            return True
        self.stats.events += 1
        try:
            await self.on_event(event)
        except Exception:
            log.exception("ari event handler failed for %s", event.get("type"))
        return False
