"""PostgreSQL for the tests: the server on 127.0.0.1:5432 (database `test`) when it accepts
connections, else an embedded server from the `pgserver` package, started once per run
(ACD117_TEST_PGSERVER=1 forces the embedded one).

Each test that asks for `pg_dsn` gets a schema of its own, created empty and dropped
afterwards, and a DSN whose search_path points at it: tests stay independent and never
touch what other users of the shared server keep there.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

LOCAL_DSN = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class PgServer:
    dsn: str  # the database, without a search_path
    host: str  # a TCP host, or the directory of a Unix socket
    port: int

    @property
    def is_unix_socket(self) -> bool:
        return self.host.startswith("/")

    @property
    def socket_path(self) -> str:
        return f"{self.host}/.s.PGSQL.{self.port}"

    def dsn_for_schema(self, schema: str) -> str:
        sep = "&" if "?" in self.dsn else "?"
        return f"{self.dsn}{sep}search_path={schema}"

    def dsn_via(self, host: str, port: int, schema: str) -> str:
        """The same database reached through another TCP endpoint (a test proxy)."""
        return f"postgresql://postgres@{host}:{port}/{self.database}?search_path={schema}"

    @property
    def database(self) -> str:
        return self.dsn.split("?")[0].rsplit("/", 1)[1]


def _local_server_usable() -> bool:
    """127.0.0.1:5432 accepts connections and lets us into database `test`."""
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1.0):
            pass
    except OSError:
        return False

    async def probe() -> None:
        import asyncpg

        conn = await asyncpg.connect(LOCAL_DSN, timeout=5.0)
        await conn.close()

    # A thread of its own: this runs while pytest-asyncio may own the main thread's loop.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        try:
            pool.submit(asyncio.run, probe()).result()
        except Exception:
            return False
    return True


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    if os.environ.get("ACD117_TEST_PGSERVER") != "1" and _local_server_usable():
        yield PgServer(LOCAL_DSN, "127.0.0.1", 5432)
        return
    import pgserver

    with tempfile.TemporaryDirectory(prefix="acd117-pg-") as pgdata:
        server = pgserver.get_server(Path(pgdata), cleanup_mode="stop")
        try:
            info = server.get_postmaster_info()
            socket_dir = str(info.socket_dir)
            port = int(info.port or 5432)
            yield PgServer(server.get_uri(), socket_dir, port)
        finally:
            server.cleanup()


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
