"""`acd117 run`: start the daemon and keep it running until Ctrl-C or SIGTERM.

With `--simulate` and no `ACD117_DSN`, an embedded PostgreSQL (the `pgserver` package) is
started in `var/demo-pg` and migrated, so `make demo` needs nothing but Python. Its DSN is
printed, and kept in `var/demo-pg/dsn` while the demo runs so that `acd117 report` finds it
(acd.cli.demo_db).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import structlog

from acd.cli.demo_db import DEMO_PGDATA, published
from acd.service.settings import Settings, SettingsError

log = structlog.get_logger("acd117.run")


def run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, default=None,
                   help="folder of call-flow YAML files (default: $ACD117_CONFIG or the example)")
    p.add_argument("--simulate", action="store_true",
                   help="simulated callers and agents in real time instead of Asterisk")
    p.add_argument("--host", default=None, help="HTTP address (default: $ACD117_HTTP_HOST "
                   "or 127.0.0.1)")
    p.add_argument("--port", type=int, default=None,
                   help="HTTP port (default: $ACD117_HTTP_PORT or 8117)")


def run(args: argparse.Namespace) -> int:
    from acd.service.logs import configure_logging

    try:
        settings = Settings.from_env(config=args.config, http_host=args.host,
                                     http_port=args.port)
    except SettingsError as e:
        print(f"acd117 run: {e}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format, settings.log_level)
    with _database(settings, args.simulate) as effective:
        if effective is None:
            return 2
        embedded = effective.dsn != settings.dsn
        try:
            return asyncio.run(_serve(effective, args.simulate, embedded))
        except KeyboardInterrupt:
            return 0


@contextlib.contextmanager
def _database(settings: Settings, simulate: bool) -> Iterator[Settings | None]:
    if settings.dsn or not simulate:
        yield settings
        return
    try:
        import pgserver
    except ImportError:
        print("acd117 run: no ACD117_DSN and no embedded PostgreSQL (pip install pgserver)",
              file=sys.stderr)
        yield None
        return
    DEMO_PGDATA.mkdir(parents=True, exist_ok=True)
    print(f"starting an embedded PostgreSQL in {DEMO_PGDATA} ...", file=sys.stderr)
    server = pgserver.get_server(DEMO_PGDATA, cleanup_mode="stop")  # type: ignore[attr-defined]
    try:
        dsn = server.get_uri()
        # Beside the demo accounts (standard output): what to pass to other commands.
        print(f"demo database: {dsn}  (acd117 report finds it while the demo runs)",
              flush=True)
        with published(dsn):
            yield settings.model_copy(update={"dsn": dsn})
    finally:
        server.cleanup()


async def _serve(settings: Settings, simulate: bool, embedded: bool) -> int:
    from acd.bootstrap import StartupError, bootstrap
    from config.loader import ConfigError

    if settings.dsn:
        from acd.store.migrate import MigrationError, migrate_dsn

        if embedded:  # the demo's own database: bring its schema up to date
            try:
                await migrate_dsn(settings.dsn)
            except (MigrationError, OSError) as e:
                print(f"acd117 run: migrating the demo database failed: {e}", file=sys.stderr)
                return 1
    try:
        daemon = bootstrap(settings, simulate=simulate)
    except ConfigError as e:
        print(e, file=sys.stderr)
        print(f"{settings.config}: {len(e.problems)} problem(s); not started", file=sys.stderr)
        return 1
    except StartupError as e:
        print(f"acd117 run: {e}", file=sys.stderr)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await daemon.start()
    except StartupError as e:
        print(f"acd117 run: {e}", file=sys.stderr)
        return 1
    if embedded:  # never on a real database: it would reset those accounts' passwords
        await _demo_users(daemon)
    print(f"acd117 is running: wallboard {daemon.url}/wallboard  metrics {daemon.url}/metrics"
          f"  API {daemon.url}/api/  (Ctrl-C stops)", flush=True)
    try:
        await stop.wait()
    finally:
        print("stopping ...", file=sys.stderr, flush=True)
        await daemon.stop()
    return 0


async def _demo_users(daemon: object) -> None:
    """The demo's own accounts, printed so that the API can be tried at once."""
    users = getattr(daemon, "users", None)
    if users is None:
        return
    ensure = getattr(users, "ensure_demo_users", None)
    if ensure is None:
        return
    url = getattr(daemon, "url", "")
    for username, role, password in await ensure():
        # Where each signs in; the agent at the phone its simulated namesake sits at.
        where = f"{url}/{role}" + ("  phone PJSIP/1001" if role == "agent" else "")
        print(f"demo account: {username} ({role}) password {password}  console {where}",
              flush=True)
