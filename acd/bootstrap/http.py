"""The daemon's HTTP side: the API, the wallboard, the consoles and /metrics
(acd.http.app) served on ACD117_HTTP_HOST:ACD117_HTTP_PORT. Nothing listens before the
daemon's `start()` calls `serve_http`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from acd.bootstrap.errors import StartupError

if TYPE_CHECKING:
    from acd.http.app import Service


@dataclass(frozen=True)
class Served:
    app: web.Application
    runner: web.AppRunner  # cleaned up to stop serving
    address: tuple[str, int] | None  # where it listens (port 0: the one the system chose)


async def serve_http(service: Service, host: str, port: int) -> Served:
    """Build the application for the daemon and listen; `StartupError` when the address
    cannot be listened on."""
    from acd.http.app import build_app

    app = build_app(service)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as e:
        await runner.cleanup()
        raise StartupError(f"cannot listen on {host}:{port}: {e.strerror}") from None
    addresses = runner.addresses
    address = (str(addresses[0][0]), int(addresses[0][1])) if addresses else None
    return Served(app, runner, address)
