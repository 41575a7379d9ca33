"""The wallboard: a self-contained page (no CDN, no external font) that a TV across the
room can show, updated by server-sent events every `ACD117_WALLBOARD_EVERY_S` (2 s by
default, never more than 3 s). It shows aggregates only (no caller numbers), so it needs
no login; put it behind the ops network like /metrics.

Indonesian by default, English with `?lang=en`; `?tier=`, `?province=` (the two-digit
province code) and `?centre=` narrow it to part of the country (the page filters); centres
that do not fit the screen turn a page at a time (`?rows=`, `?rotate=`).
"""

from __future__ import annotations

import asyncio
import json
import time
from importlib import resources
from typing import Any

from aiohttp import web

from acd.http import sse

CACHE: web.AppKey[dict[str, Any]] = web.AppKey("wallboard_cache")


def _figures(app: web.Application, d: Any) -> bytes:
    """The snapshot as JSON, computed at most once per quarter interval however many screens
    watch (at national scale a snapshot costs some 25 ms)."""
    cache = app[CACHE]
    now = time.monotonic()
    if now - cache["at"] >= d.settings.wallboard_every_s / 4 or not cache["data"]:
        cache["data"] = json.dumps(d.live.snapshot(), separators=(",", ":")).encode()
        cache["at"] = now
    data: bytes = cache["data"]
    return data


def _daemon(request: web.Request) -> Any:
    from acd.http.app import DAEMON

    return request.app[DAEMON]


def _page() -> str:
    return resources.files("acd.http").joinpath("wallboard.html").read_text(encoding="utf-8")


def _messages(lang: str) -> str:
    """The wallboard's part of the catalog, inlined: the page stays one request."""
    from acd.http.consoles import catalog

    wanted = {k: v for k, v in catalog(lang).items() if k.startswith(("wall.", "tier."))}
    return json.dumps(wanted, ensure_ascii=False).replace("</", "<\\/")


async def page(request: web.Request) -> web.Response:
    from acd.http.consoles import lang_of

    d = _daemon(request)
    lang = lang_of(request)
    html = (_page().replace("__EVERY_MS__", str(int(d.settings.wallboard_every_s * 1000)))
            .replace("__LANG__", lang).replace("__MESSAGES__", _messages(lang)))
    return web.Response(text=html, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store"})


async def snapshot(request: web.Request) -> web.Response:
    return web.json_response(_daemon(request).live.snapshot())


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: one `data:` line of the snapshot JSON every few seconds."""
    d = _daemon(request)
    every = d.settings.wallboard_every_s
    resp = await sse.open_stream(request, int(every * 1000))
    try:
        while not sse.closing(request):
            await resp.write(b"event: figures\ndata: " + _figures(request.app, d) + b"\n\n")
            await sse.pause(request, every)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    return resp


def setup(app: web.Application) -> None:
    sse.setup(app)
    app[CACHE] = {"at": 0.0, "data": b""}
    app.router.add_get("/wallboard", page)
    app.router.add_get("/wallboard/events", events)
    app.router.add_get("/api/wallboard", snapshot)
