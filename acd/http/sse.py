"""Server-sent event streams, shared by the wallboard and the consoles: one shutdown signal
for every open stream (a stream would otherwise hold the server's shutdown for as long as
a screen stays open), the response headers, and the event format."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import web

CLOSING: web.AppKey[asyncio.Event] = web.AppKey("event_streams_closing")


def event(name: str, data: Any) -> bytes:
    return (f"event: {name}\ndata: ".encode()
            + json.dumps(data, separators=(",", ":")).encode() + b"\n\n")


async def open_stream(request: web.Request, retry_ms: int) -> web.StreamResponse:
    """The response, prepared; `retry_ms` tells the browser how soon to reconnect."""
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                       "Cache-Control": "no-store",
                                       "X-Accel-Buffering": "no"})  # nginx: no buffering
    await resp.prepare(request)
    await resp.write(f"retry: {retry_ms}\n\n".encode())
    return resp


def closing(request: web.Request) -> bool:
    return request.app[CLOSING].is_set()


async def pause(request: web.Request, seconds: float) -> None:
    """Waits `seconds`, or less if the server shuts down."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(request.app[CLOSING].wait(), seconds)


async def _on_shutdown(app: web.Application) -> None:
    app[CLOSING].set()


def setup(app: web.Application) -> None:
    if CLOSING not in app:
        app[CLOSING] = asyncio.Event()
        app.on_shutdown.append(_on_shutdown)
