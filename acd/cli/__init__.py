"""The `acd117` command line: one sub-command per job, each defined beside the code it runs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

# Each entry: name -> (help, add_arguments, run). `run` gets the parsed namespace and returns
# the exit status. Modules are imported lazily inside `run` so that `acd117 check-config` does
# not pay for aiohttp or asyncpg.
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None],
                          Callable[[argparse.Namespace], int]]] = {}


Run = Callable[[argparse.Namespace], int]


def command(name: str, help: str,
            add_arguments: Callable[[argparse.ArgumentParser], None]) -> Callable[[Run], Run]:
    def register(run: Run) -> Run:
        COMMANDS[name] = (help, add_arguments, run)
        return run

    return register


DESCRIPTION = """\
acd117: the automatic call distributor of Indonesia's 117 disaster emergency line.
Run `acd117 COMMAND --help` for the options of one command."""


def version() -> str:
    from importlib import metadata

    try:
        return metadata.version("acd117")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    # The module docstring is for developers; operators get DESCRIPTION.
    parser = argparse.ArgumentParser(prog="acd117", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"acd117 {version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, add_arguments, _run) in COMMANDS.items():
        add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    _load_commands()
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command][2](args)
    except Exception as exc:
        # A database that cannot be used is the operator's problem, not a bug: one line
        # naming it (without the password) instead of asyncpg's traceback.
        from acd.store.errors import describe

        dsn = getattr(args, "dsn", None)
        line = describe(exc, dsn) if dsn else None
        if line is None:
            raise
        print(f"acd117 {args.command}: {line}", file=sys.stderr)
        return 1


def _load_commands() -> None:
    # Importing these modules registers their sub-commands.
    from acd.cli import commands  # noqa: F401


if __name__ == "__main__":
    sys.exit(main())
