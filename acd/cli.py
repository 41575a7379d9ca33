"""The `acd117` command line."""

import sys


def main(argv: list[str] | None = None) -> int:
    print("acd117: nothing here yet", file=sys.stderr)
    return 2
