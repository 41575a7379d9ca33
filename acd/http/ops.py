"""Health, readiness, metrics and the live state as JSON."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from acd.http.auth import daemon_of
from acd.http.metrics import CONTENT_TYPE


async def health(request: web.Request) -> web.Response:
    """Liveness: the event loop answers."""
    d = daemon_of(request)
    return web.json_response({"status": "ok", "uptime_s": round(time.time() - d.started_at, 1)})


async def ready(request: web.Request) -> web.Response:
    """Readiness: the switchboard runs, the telephony is connected, and whatever else it
    reports is up (for Asterisk: `fallback_queue`, the dialplan's fallback queue has a
    member). A database that is down does not make acd117 unready: records wait in the
    spool. A spool that cannot be written does: records are then only in memory."""
    d = daemon_of(request)
    checks: dict[str, dict[str, Any]] = {"switchboard": {"ok": d.running}}
    others = [name for name, _ in d.health.items() if name not in ("ari", "ami")]
    for name in ("ari", "ami", *others):
        comp = d.health.get(name)
        checks[name] = {"ok": bool(comp and comp.up), "detail": comp.detail if comp else
                        "not connected"}
    if d.writer is not None:
        stats = d.writer.stats
        checks["store"] = {"ok": stats.durable, "durable": stats.durable,
                           "connected": stats.connected, "backlog": stats.backlog,
                           "held_in_memory": stats.held_records,
                           "dropped": stats.dropped_records,
                           "detail": ("journal not durable: " if not stats.durable else "")
                           + (stats.last_error or "")}
    ok = all(c["ok"] for c in checks.values())
    return web.json_response({"ready": ok, "checks": checks}, status=200 if ok else 503)


async def metrics(request: web.Request) -> web.Response:
    body = daemon_of(request).metrics.exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


def state_json(d: Any, now: float) -> dict[str, Any]:
    """GET /api/state: the read model's state view (acd.service.live)."""
    state: dict[str, Any] = d.live.state(now)
    return state


def setup(app: web.Application) -> None:
    app.router.add_get("/health", health)
    app.router.add_get("/ready", ready)
    app.router.add_get("/metrics", metrics)
