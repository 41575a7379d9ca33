"""Where `make demo` (`acd117 run --simulate` without ACD117_DSN) says which database it
started, so that `acd117 report` run beside it finds that database without being told.

The embedded PostgreSQL listens on a Unix socket inside `var/demo-pg` with a DSN nobody
would guess; while the demo runs, that DSN is kept in `var/demo-pg/dsn` (relative to the
working directory, like the data folder itself) and removed when the demo stops.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

DEMO_PGDATA = Path("var/demo-pg")


def dsn_file(pgdata: Path = DEMO_PGDATA) -> Path:
    return pgdata / "dsn"


@contextlib.contextmanager
def published(dsn: str, pgdata: Path = DEMO_PGDATA) -> Iterator[None]:
    """Keep `dsn` in the demo's DSN file while the block runs."""
    path = dsn_file(pgdata)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dsn + "\n", encoding="utf-8")
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def running_demo_dsn(pgdata: Path = DEMO_PGDATA) -> str | None:
    """The DSN of the demo's database while a demo runs here, else None."""
    try:
        dsn = dsn_file(pgdata).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return dsn or None
