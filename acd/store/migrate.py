"""Versioned SQL migrations: plain files `sql/NNN_name.sql`, applied in order.

The files live in the repository's top-level `sql/` directory, next to the `acd` package:
acd117 runs from a checkout (installed with `pip install -e`, as `make venv` does), so the
loader finds them relative to this file. An installation laid out differently points
`ACD117_SQL_DIR` (or `acd117 migrate --sql-dir`) at a copy of the directory. Keeping one
copy of the SQL, rather than a second one inside the package, means the schema a reviewer
reads is the schema that runs.

Each file is applied in its own transaction and recorded in `schema_migrations` with a
checksum, under an advisory lock so that two daemons starting together do not race.
Re-running is a no-op; a file changed after it was applied is refused, because the
database would silently differ from what the file says.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    import asyncpg

log = structlog.get_logger()

SQL_DIR_ENV = "ACD117_SQL_DIR"
_FILE_NAME = re.compile(r"^(\d{3,})_([a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def default_sql_dir() -> Path:
    configured = os.environ.get(SQL_DIR_ENV)
    if configured:
        return Path(configured)
    # acd/store/migrate.py -> repository root -> sql/
    return Path(__file__).resolve().parents[2] / "sql"


def load_migrations(sql_dir: Path | None = None) -> list[Migration]:
    directory = sql_dir if sql_dir is not None else default_sql_dir()
    if not directory.is_dir():
        raise MigrationError(
            f"no SQL migrations directory at {directory}; set {SQL_DIR_ENV} to the sql/ "
            "directory of the acd117 checkout"
        )
    migrations: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files are named NNN_name.sql")
        version = int(match.group(1))
        if version in migrations:
            raise MigrationError(f"two migrations with version {version} in {directory}")
        migrations[version] = Migration(version, match.group(2), path.read_text("utf-8"))
    if not migrations:
        raise MigrationError(f"no migrations in {directory}")
    return [migrations[v] for v in sorted(migrations)]


_TRACKING_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""

# One lock per schema: the key includes current_schema() so that separate schemas in one
# database (as the tests use) migrate independently.
_LOCK = "SELECT pg_advisory_lock(hashtext('acd117 migrate ' || current_schema()))"
_UNLOCK = "SELECT pg_advisory_unlock(hashtext('acd117 migrate ' || current_schema()))"


async def applied_versions(conn: asyncpg.Connection) -> dict[int, str]:
    """Version -> checksum of what the database has, empty for a fresh database."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return {}
    rows = await conn.fetch("SELECT version, checksum FROM schema_migrations")
    return {int(r["version"]): str(r["checksum"]) for r in rows}


async def migrate(conn: asyncpg.Connection, migrations: list[Migration]) -> list[Migration]:
    """Apply the migrations the database does not have yet; return those applied."""
    applied: list[Migration] = []
    await conn.execute(_LOCK)
    try:
        await conn.execute(_TRACKING_TABLE)
        done = await applied_versions(conn)
        for migration in migrations:
            known = done.get(migration.version)
            if known is not None:
                if known != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.version:03d}_{migration.name} was changed after "
                        "it was applied; add a new migration instead of editing it"
                    )
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
            log.info("store: migration applied", version=migration.version, name=migration.name)
            applied.append(migration)
    finally:
        await conn.execute(_UNLOCK)
    return applied


async def migrate_dsn(dsn: str, sql_dir: Path | None = None) -> list[Migration]:
    import asyncpg

    migrations = load_migrations(sql_dir)
    conn = await asyncpg.connect(dsn)
    try:
        return await migrate(conn, migrations)
    finally:
        await conn.close()
