"""Sub-commands of `acd117`. Each registers itself with `acd.cli.command`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from acd.cli import command
from acd.cli import store as store_cli
from acd.vocabulary.localtime import WIB

EXAMPLE_CONFIG = Path(__file__).resolve().parents[2] / "config" / "example"
EXAMPLE_TRAFFIC = Path(__file__).resolve().parents[2] / "config" / "traffic" / "example.yaml"


def default_config() -> Path:
    return Path(os.environ.get("ACD117_CONFIG", EXAMPLE_CONFIG))


def _config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, default=None,
                   help="folder of call-flow YAML files (default: $ACD117_CONFIG or the example)")


def _check_config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", nargs="?", type=Path, default=None,
                   help="folder of call-flow YAML files (default: $ACD117_CONFIG or the example)")


@command("check-config", "validate a folder of call flows; exit 1 on any error "
         "(warnings do not change the exit status)", _check_config_args)
def check_config(args: argparse.Namespace) -> int:
    from config.loader import ConfigError, Problem, load_flows

    path = args.path or default_config()
    warned: list[Problem] = []
    try:
        flows = load_flows(path, warned=warned)
    except ConfigError as e:
        for problem in e.problems:
            print(problem, file=sys.stderr)
        print(f"{path}: {len(e.problems)} problem(s); nothing was loaded", file=sys.stderr)
        return 1
    for warning in warned:
        print(warning, file=sys.stderr)
    print(f"{path}: OK — {len(flows.centres)} centres, {len(flows.agents)} agents, "
          f"{len(flows.ingress.rules)} ingress rules, "
          f"{len(flows.announcements.prompts)} prompts"
          + (f"; {len(warned)} warning(s)" if warned else ""))
    return 0


def _positive_hours(text: str) -> float:
    try:
        hours = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of hours: {text!r}") from None
    # NaN and infinity too: a period that never ends, or is no period at all.
    if not 0 < hours < float("inf"):
        raise argparse.ArgumentTypeError(f"must be more than 0 hours, not {text}")
    return hours


def _simulate_args(p: argparse.ArgumentParser) -> None:
    _config_arg(p)
    p.add_argument("--traffic", type=Path, default=EXAMPLE_TRAFFIC,
                   help="traffic profile YAML (default: the example's)")
    p.add_argument("--hours", type=_positive_hours, default=24.0,
                   help="length of the simulated period (default 24)")
    p.add_argument("--seed", type=int, default=117)
    p.add_argument("--json", action="store_true", help="print one JSON object")


@command("simulate", "run the core on a virtual clock and report the day", _simulate_args)
def simulate(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from acd.people.simulate import Simulation, Traffic
    from acd.service.settings import Settings, SettingsError
    from config.loader import ConfigError, load_flows
    from config.regions import load_regions

    try:
        settings = Settings.from_env()
    except SettingsError as e:
        print(e, file=sys.stderr)
        return 1
    try:
        flows = load_flows(args.config or default_config())
        traffic = Traffic.load(args.traffic)
        sim = Simulation(flows, load_regions(), traffic, seed=args.seed,
                         service_level_s=settings.service_level_s,
                         short_abandon_s=settings.short_abandon_s)
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 1
    except (ValidationError, ValueError, OSError) as e:
        print(f"{args.traffic}: {e}", file=sys.stderr)
        return 1
    report = sim.run(args.hours)
    print(json.dumps(report.as_json()) if args.json else report.as_text())
    return 0


def _prompts_args(p: argparse.ArgumentParser) -> None:
    _config_arg(p)
    p.add_argument("--out", type=Path, default=Path("build/sounds"),
                   help="sounds folder; copy its contents to /var/lib/asterisk/sounds")
    p.add_argument("--force", action="store_true",
                   help="remake every file, replacing studio recordings too")


@command("prompts", "make placeholder Indonesian recordings of the announcements (espeak-ng)",
         _prompts_args)
def prompts(args: argparse.Namespace) -> int:
    from acd.service.prompts import make_prompts
    from config.loader import ConfigError, load_flows

    try:
        flows = load_flows(args.config or default_config())
        made, kept = make_prompts(flows, args.out, force=args.force)
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 1
    except (RuntimeError, OSError) as e:
        print(f"prompts: {e}", file=sys.stderr)
        return 1
    print(f"{args.out}: {made} prompt files made, {kept} kept as they were")
    return 0


@command("pin-hash", "hash an agent's phone-login PIN for agents.yaml (reads it from stdin)",
         lambda p: None)
def pin_hash(args: argparse.Namespace) -> int:
    import getpass

    from acd.service.pins import hash_pin

    pin = getpass.getpass("PIN: ") if sys.stdin.isatty() else sys.stdin.readline().strip()
    try:
        print(hash_pin(pin))
    except ValueError as e:
        print(f"pin-hash: {e}", file=sys.stderr)
        return 1
    return 0


# Schema migrations and retention live beside the store (acd/store/cli.py).
command("migrate", "apply the SQL migrations to PostgreSQL",
        store_cli.migrate_arguments)(store_cli.run_migrate)
command("purge", "delete stored data older than N days (at least 365 unless --force)",
        store_cli.purge_arguments)(store_cli.run_purge)


def _run_args(p: argparse.ArgumentParser) -> None:
    from acd.cli.run import run_arguments

    run_arguments(p)


@command("run", "run the acd117 daemon (HTTP API, wallboard and metrics on 127.0.0.1:8117)",
         _run_args)
def run_daemon(args: argparse.Namespace) -> int:
    from acd.cli.run import run

    return run(args)


def _user_args(p: argparse.ArgumentParser) -> None:
    from acd.cli.user import arguments

    arguments(p)


@command("user", "manage the users of the HTTP API: add (the password is asked for, or read "
         "from standard input), list, disable, enable, end their sessions", _user_args)
def user(args: argparse.Namespace) -> int:
    from acd.cli.user import run

    return run(args)


def _report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kind", choices=["calls", "tiers", "agents", "transfers", "classifications",
                                       "forecast"],
                   default="calls",
                   help="calls per centre and tier (default), per tier, agent activity, "
                   "transfers per centre and destination, calls by wrap-up class, or the "
                   "staffing forecast from that history")
    p.add_argument("--unit", choices=["15min", "30min", "hour", "day", "month"], default="hour")
    p.add_argument("--from", dest="start", default=None,
                   help="local date or date-time (default: today 00:00)")
    p.add_argument("--to", dest="end", default=None,
                   help="local date or date-time, excluded (default: now)")
    p.add_argument("--tz", default=WIB, help="time zone of the periods (WIB)")
    p.add_argument("--short-abandon-s", type=float, default=None,
                   help="abandons quicker than this are counted apart "
                   "(default: $ACD117_SHORT_ABANDON_S, else 5 s)")
    p.add_argument("--service-level-s", type=float, default=None,
                   help="the service level counts calls answered within this "
                   "(default: $ACD117_SERVICE_LEVEL_S, else 20 s)")
    p.add_argument("--csv", type=Path, default=None, help="also write the rows to this CSV")
    p.add_argument("--dsn", default=os.environ.get("ACD117_DSN"),
                   help="PostgreSQL DSN (default: $ACD117_DSN)")


@command("report", "historical reports: calls, tiers, agent activity, staffing forecast",
         _report_args)
def report(args: argparse.Namespace) -> int:
    import asyncio

    from acd.cli.demo_db import running_demo_dsn
    from acd.cli.report import run_report

    if not args.dsn:
        # Beside a running `make demo`, its database is the one meant.
        args.dsn = running_demo_dsn()
        if args.dsn is None:
            print("acd117 report: no database given: pass --dsn or set ACD117_DSN "
                  "(or run it beside a running `make demo`)", file=sys.stderr)
            return 2
        print("acd117 report: using the running demo's database", file=sys.stderr)
    try:
        return asyncio.run(run_report(args))
    except ValueError as e:
        print(f"acd117 report: {e}", file=sys.stderr)
        return 2
