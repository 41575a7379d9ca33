"""Rate-limited lines about a connection that keeps failing.

The adapters retry Asterisk every 0.1-2 s (ARI) or every second (AMI). A line per attempt
buries everything else in the log while Asterisk is down, so the first failure is logged at
once and the following ones are counted and logged once per `interval_s`, with the count:
"... retrying (12 failures in the last 60 s)". A success logs how many attempts failed
before it, so the end of an outage is visible too.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable


class FailureCount:
    """Counts consecutive failures and says when one of them is worth a line."""

    def __init__(self, interval_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = interval_s
        self.clock = clock
        self.total = 0  # failures since the last success
        self._unlogged = 0  # failures since the last line
        self._since: float | None = None  # when the last line was logged

    def failed(self) -> str | None:
        """Count one failure. Returns the suffix for a line when one is due ("" for the
        first failure of an outage, " (12 failures in the last 60 s)" later), else None."""
        now = self.clock()
        self.total += 1
        self._unlogged += 1
        if self._since is None:
            self._since, self._unlogged = now, 0
            return ""
        elapsed = now - self._since
        if elapsed < self.interval_s:
            return None
        count, self._since, self._unlogged = self._unlogged, now, 0
        return f" ({count} failure{'s' if count != 1 else ''} in the last {_seconds(elapsed)} s)"

    def succeeded(self) -> str:
        """Reset; returns " after N failed attempts" when there were any, else ""."""
        count = self.total
        self.total, self._unlogged, self._since = 0, 0, None
        return f" after {count} failed attempt{'s' if count != 1 else ''}" if count else ""


def _seconds(s: float) -> str:
    return f"{s:.0f}" if s >= 10 else f"{s:.1f}".removesuffix(".0")


def reason(exc: BaseException) -> str:
    """Why a connect failed, in a few words: "connection refused", not asyncio's
    "Connect call failed ('127.0.0.1', 5038)" wrapped in aiohttp's own sentence."""
    cause = getattr(exc, "os_error", exc)  # aiohttp.ClientConnectorError keeps the OSError
    if isinstance(cause, socket.gaierror):
        return f"unknown host: {cause.strerror}"
    if isinstance(cause, TimeoutError):
        return "timed out"
    if isinstance(cause, OSError) and cause.errno and cause.errno > 0:
        return os.strerror(cause.errno).lower()
    return str(exc) or type(exc).__name__
