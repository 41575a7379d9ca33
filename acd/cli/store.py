"""`acd117 migrate` and `acd117 purge`: the store's sub-commands (registered in
acd.cli.commands). asyncpg is imported only when one of them runs."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

DSN_ENV = "ACD117_DSN"


def _add_dsn(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dsn",
        default=os.environ.get(DSN_ENV),
        help=f"PostgreSQL DSN (default: ${DSN_ENV})",
    )


def _dsn(args: argparse.Namespace) -> str | None:
    if not args.dsn:
        print(f"acd117: no database given: pass --dsn or set {DSN_ENV}", file=sys.stderr)
        return None
    return str(args.dsn)


def migrate_arguments(parser: argparse.ArgumentParser) -> None:
    _add_dsn(parser)
    parser.add_argument(
        "--sql-dir",
        type=Path,
        default=None,
        help="migrations directory (default: sql/ of the checkout)",
    )


def run_migrate(args: argparse.Namespace) -> int:
    from acd.store.migrate import MigrationError, migrate_dsn

    dsn = _dsn(args)
    if dsn is None:
        return 2
    try:
        applied = asyncio.run(migrate_dsn(dsn, args.sql_dir))
    except MigrationError as exc:
        print(f"acd117 migrate: {exc}", file=sys.stderr)
        return 1
    if applied:
        for m in applied:
            print(f"applied {m.version:03d}_{m.name}")
    else:
        print("schema is up to date")
    return 0


def purge_arguments(parser: argparse.ArgumentParser) -> None:
    _add_dsn(parser)
    parser.add_argument(
        "--older-than-days",
        type=int,
        default=None,
        metavar="N",
        help="delete CDR, recordings (metadata and files) and agent states older than N days "
        "(default: the call flows' recording.retention_days)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="call-flow folder whose retention applies (default: $ACD117_CONFIG, else the "
        "example)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="allow N below the one-year retention of CDR and recordings",
    )


def run_purge(args: argparse.Namespace) -> int:
    from acd.service.settings import Settings, SettingsError
    from acd.store.purge import MIN_RETENTION_DAYS, purge_dsn
    from config.loader import ConfigError, load_flows

    dsn = _dsn(args)
    if dsn is None:
        return 2
    try:
        settings = Settings.from_env(config=args.config)
        if args.older_than_days is None:
            days = load_flows(settings.config).recording.retention_days
        else:
            days = int(args.older_than_days)
    except (SettingsError, ConfigError) as e:
        print(f"acd117 purge: {e}", file=sys.stderr)
        return 2
    if days < 0:
        print("acd117 purge: --older-than-days must not be negative", file=sys.stderr)
        return 2
    if days < MIN_RETENTION_DAYS and not args.force:
        print(
            f"acd117 purge: CDR and recordings are kept at least {MIN_RETENTION_DAYS} days; "
            f"refusing --older-than-days {days} without --force",
            file=sys.stderr,
        )
        return 2
    deleted = asyncio.run(purge_dsn(dsn, days, settings.recordings_dir))
    files = deleted.pop("recording_files", 0)
    for table, count in deleted.items():
        print(f"{table}: {count} rows deleted")
    print(f"recording files: {files} removed (older than {days} days)")
    return 0
