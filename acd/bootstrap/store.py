"""The daemon's PostgreSQL side, when ACD117_DSN is set: the record writer with its spool
(acd.store.writer), the `Database` that owns the pool (acd.store.database) and the users
and sessions over it (acd.service.users). Building them connects nothing: the pool opens
on first use and the writer once the daemon runs it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from acd.service.settings import Settings

if TYPE_CHECKING:
    from acd.service.ports import Database
    from acd.service.users import Users
    from acd.store.writer import StoreWriter


@dataclass(frozen=True)
class Store:
    writer: StoreWriter | None = None
    database: Database | None = None
    users: Users | None = None


def store(settings: Settings, clock: Callable[[], float]) -> Store:
    """The writer, database and users for the settings' DSN; all None without one."""
    if not settings.dsn:
        return Store()
    from acd.service.users import Users
    from acd.store.database import PostgresDatabase
    from acd.store.writer import StoreWriter, WriterConfig

    writer = StoreWriter(WriterConfig(dsn=settings.dsn, spool_dir=settings.spool_dir))
    database = PostgresDatabase(settings.dsn)
    users = Users(database, session_ttl_s=settings.session_ttl_s, clock=clock)
    # The audit trail goes the way of the call records: journalled, then written.
    users.journal = writer.submit
    return Store(writer, database, users)
