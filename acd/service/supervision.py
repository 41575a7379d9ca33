"""Live monitoring of an agent's call by a supervisor: listen, whisper, barge.

The Asterisk adapter implements `Supervision` (ARI snoop channels: `spy` for listen, `whisper`
for whisper, both for barge, bridged to the supervisor's phone); the HTTP API calls it. The
simulated telephony has one that only remembers what it was asked.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol

MonitorMode = Literal["listen", "whisper", "barge"]
MODES: tuple[MonitorMode, ...] = ("listen", "whisper", "barge")


class SupervisionError(RuntimeError):
    """The telephony could not start the monitoring (the call ended, the phone is away)."""


@dataclass(frozen=True, slots=True)
class MonitorRequest:
    agent_id: str
    call_id: str
    agent_device: str
    supervisor_device: str
    mode: MonitorMode


class Supervision(Protocol):
    async def snoop(self, request: MonitorRequest) -> str:
        """Ring the supervisor's device and connect it to the agent's call in `mode`;
        return an id for the monitoring session."""
        ...


class MonitorSupervision:
    """`Supervision` over an adapter's `monitor(call_id, supervisor_device, mode)` (the
    Asterisk side's), which raises LookupError when the call is not connected."""

    def __init__(self, monitor: Callable[[str, str, MonitorMode], Awaitable[str]]) -> None:
        self._monitor = monitor

    async def snoop(self, request: MonitorRequest) -> str:
        try:
            return await self._monitor(request.call_id, request.supervisor_device,
                                       request.mode)
        except LookupError as e:
            raise SupervisionError(str(e)) from None


class RecordingSupervision:
    """Remembers every request (the simulated telephony's, and a fake for tests)."""

    def __init__(self) -> None:
        self.requests: list[MonitorRequest] = []
        self._ids = itertools.count(1)

    async def snoop(self, request: MonitorRequest) -> str:
        self.requests.append(request)
        return f"monitor-{next(self._ids)}"
