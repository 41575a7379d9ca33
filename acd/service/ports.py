"""The ports: what the service layer asks of its adapters, declared in one place
(`Telephony`, `Database`, `JournalStats`).

`Telephony` is the daemon's view of the phones, whichever adapter carries them (the Asterisk
side in ari/telephony.py, the simulated callers and agents in acd/people/demo.py):

- `execute(command)` carries out a command of the core;
- `attach(post)` is given the switchboard's `post`, for the events the telephony produces;
- `run()` is the telephony's own loop (a connection, simulated traffic), supervised;
- `supervision` serves the supervisors' listen / whisper / barge, None without it;
- `connections()` (name -> up) and `connection_details()` (name -> why) are watched for
  /ready and the metrics;
- `keep_call_facts(hop)` is handed every tier hop by the switchboard, as it happens: the
  facts a restarted acd117 needs to re-adopt the call at the tier and deadline it had
  (the Asterisk side writes them onto the caller's channel; ari.adoption).

A telephony without one of these capabilities inherits the honest default from
`TelephonyBase`: nothing to attach, a `run()` that only waits to be stopped, no
supervision, no connections of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec

if TYPE_CHECKING:
    from acd.service.supervision import Supervision


class Telephony(Protocol):
    @property
    def supervision(self) -> Supervision | None: ...

    async def execute(self, command: cmd.Command) -> None: ...

    def attach(self, post: Callable[[ev.Event], None]) -> None: ...

    async def run(self) -> None: ...

    def connections(self) -> dict[str, bool]: ...

    def connection_details(self) -> dict[str, str]: ...

    def keep_call_facts(self, hop: rec.TierHop) -> None: ...


class Database(Protocol):
    """The database beside the record journal, as the service layer and the HTTP reads use
    it (acd.store.database on PostgreSQL): it owns the one connection pool of the daemon.

    - `pool()` is the pool (asyncpg's interface: fetch, fetchrow, fetchval, execute,
      acquire), made at first use;
    - `listen(channel, on_notice)` keeps a connection listening for NOTIFY on a channel;
      False when it cannot (asked again later);
    - `is_duplicate(exc)` says whether an error is a unique constraint refusing a row;
    - `close()` closes the pool and the listening connection, at shutdown.
    """

    async def pool(self) -> Any: ...

    async def listen(self, channel: str, on_notice: Callable[[], None]) -> bool: ...

    def is_duplicate(self, exc: BaseException) -> bool: ...

    async def close(self) -> None: ...


class JournalStats(Protocol):
    """The record journal's health and backlog as the metrics and /ready read them (the
    store writer's `WriterStats`)."""

    @property
    def connected(self) -> bool: ...  # the database is reachable

    @property
    def durable(self) -> bool: ...  # False while records are only in memory

    @property
    def backlog(self) -> int: ...  # records not yet in the database

    @property
    def spool_bytes(self) -> int: ...

    @property
    def dropped_records(self) -> int: ...

    @property
    def rejected_records(self) -> int: ...

    @property
    def held_records(self) -> int: ...  # waiting in memory for the spool to be writable

    @property
    def last_error(self) -> str | None: ...


class TelephonyBase:
    """The capabilities a telephony may lack, absent: subclass and implement `execute`."""

    supervision: Supervision | None = None

    async def execute(self, command: cmd.Command) -> None:
        raise NotImplementedError

    def attach(self, post: Callable[[ev.Event], None]) -> None:
        """Produces no events: nothing to keep."""

    async def run(self) -> None:
        """No loop of its own: wait until stopped (a return would be restarted)."""
        await asyncio.Future()

    def connections(self) -> dict[str, bool]:
        return {}

    def connection_details(self) -> dict[str, str]:
        return {}

    def keep_call_facts(self, hop: rec.TierHop) -> None:
        """Nothing survives a restart: nothing to keep."""
