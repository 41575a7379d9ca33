"""PostgreSQL for the tests: the server on 127.0.0.1:5432 (database `test`) when it accepts
connections, else an embedded server from the `pgserver` package, started once per run
(ACD117_TEST_PGSERVER=1 forces the embedded one).

Each test that asks for `pg_dsn` gets a schema of its own, created empty and dropped
afterwards, and a DSN whose search_path points at it: tests stay independent and never
touch what other users of the shared server keep there.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from acd.store.server import PgServer, local_or_embedded


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    with local_or_embedded(force_embedded=os.environ.get("ACD117_TEST_PGSERVER") == "1") as server:
        yield server


@pytest.fixture
async def pg_schema(pg_server: PgServer) -> AsyncIterator[str]:
    import asyncpg

    schema = f"acd117_t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(pg_server.dsn)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
    finally:
        await conn.close()
    try:
        yield schema
    finally:
        conn = await asyncpg.connect(pg_server.dsn)
        try:
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        finally:
            await conn.close()


@pytest.fixture
def pg_dsn(pg_server: PgServer, pg_schema: str) -> str:
    """An empty schema of this test's own."""
    return pg_server.dsn_for_schema(pg_schema)


@pytest.fixture
async def migrated_dsn(pg_dsn: str) -> str:
    """This test's schema with every migration applied."""
    from acd.store.migrate import migrate_dsn

    await migrate_dsn(pg_dsn)
    return pg_dsn
