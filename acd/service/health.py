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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from acd.service.ports import Telephony


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


def connections_watch(telephony: Telephony, health: Health,
                      every_s: float = 1.0) -> Callable[[], Awaitable[None]]:
    """A supervisor job reporting the telephony's connections (for the Asterisk side: the
    ARI events websocket, the AMI login and the fallback queue's members) to `health`,
    with the detail its `connection_details()` gives."""

    async def watch() -> None:
        while True:
            said = telephony.connection_details()
            for name, up in telephony.connections().items():
                health.set(name, up, said.get(name) or ("connected" if up else "not connected"))
            await asyncio.sleep(every_s)

    return watch
