"""Find a PostgreSQL to use when none is configured: the server on 127.0.0.1:5432
(database `test`) when it lets us in, else an embedded one from the `pgserver` package.

Used by `make demo` (no database configured), the tests and the benchmarks.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

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

    @property
    def database(self) -> str:
        return self.dsn.split("?")[0].rsplit("/", 1)[1]

    def dsn_for_schema(self, schema: str) -> str:
        sep = "&" if "?" in self.dsn else "?"
        return f"{self.dsn}{sep}search_path={schema}"

    def dsn_via(self, host: str, port: int, schema: str) -> str:
        """The same database reached through another TCP endpoint (a test proxy)."""
        return f"postgresql://postgres@{host}:{port}/{self.database}?search_path={schema}"


def local_server_usable(dsn: str = LOCAL_DSN) -> bool:
    """127.0.0.1:5432 accepts connections and lets us into database `test`."""
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1.0):
            pass
    except OSError:
        return False

    async def probe() -> None:
        import asyncpg

        conn = await asyncpg.connect(dsn, timeout=5.0)
        await conn.close()

    # A thread of its own: the caller may be running inside an event loop.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        try:
            pool.submit(asyncio.run, probe()).result()
        except Exception:
            return False
    return True


@contextmanager
def local_or_embedded(force_embedded: bool = False) -> Iterator[PgServer]:
    if not force_embedded and local_server_usable():
        yield PgServer(LOCAL_DSN, "127.0.0.1", 5432)
        return
    import pgserver  # a development dependency: only needed without a database

    with tempfile.TemporaryDirectory(prefix="acd117-pg-") as pgdata:
        server = pgserver.get_server(Path(pgdata), cleanup_mode="stop")  # type: ignore[attr-defined]
        try:
            info = server.get_postmaster_info()
            yield PgServer(server.get_uri(), str(info.socket_dir), int(info.port or 5432))
        finally:
            server.cleanup()
