"""Health of the daemon's connections, reported by whoever owns them.

The Asterisk adapters call `health.set("ari", True)` when their connection is up and
`False` with the reason when it drops; the simulated telephony reports itself up. The
HTTP readiness check and the Prometheus metrics read it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Component:
    up: bool
    detail: str
    since: float


class Health:
    def __init__(self) -> None:
        self._components: dict[str, Component] = {}

    def set(self, name: str, up: bool, detail: str = "") -> None:
        old = self._components.get(name)
        since = old.since if old is not None and old.up == up else time.time()
        self._components[name] = Component(up, detail, since)

    def get(self, name: str) -> Component | None:
        return self._components.get(name)

    def items(self) -> list[tuple[str, Component]]:
        return sorted(self._components.items())


def asterisk_watch(telephony: object, health: Health,
                   every_s: float = 1.0) -> Callable[[], Awaitable[None]] | None:
    """A supervisor job reporting the Asterisk adapters' connections (ARI events websocket,
    AMI login) to `health`, for telephony that exposes them as `side.stream.connected` and
    `side.ami.logged_in` (asyncio events); None for any other telephony."""
    side = getattr(telephony, "side", None)
    ari = getattr(getattr(side, "stream", None), "connected", None)
    ami = getattr(getattr(side, "ami", None), "logged_in", None)
    if not isinstance(ari, asyncio.Event) or not isinstance(ami, asyncio.Event):
        return None
    ari_up, ami_up = ari, ami

    async def watch() -> None:
        while True:
            health.set("ari", ari_up.is_set(), "events websocket connected" if ari_up.is_set()
                       else "events websocket not connected")
            health.set("ami", ami_up.is_set(), "logged in" if ami_up.is_set()
                       else "not logged in")
            await asyncio.sleep(every_s)

    return watch
