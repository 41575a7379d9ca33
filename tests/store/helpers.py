"""Shared bits of the writer and fault tests."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from acd.store.writer import StoreWriter, WriterConfig

if TYPE_CHECKING:
    from acd.bootstrap import Daemon

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example"


def closed_port() -> int:
    """A local port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unreachable_dsn() -> str:
    return f"postgresql://postgres@127.0.0.1:{closed_port()}/test"


def writer(dsn: str, spool_dir: Path, **overrides: object) -> StoreWriter:
    settings: dict[str, object] = {
        "retry_initial_s": 0.05,
        "retry_max_s": 0.5,
        "connect_timeout_s": 2.0,
        "write_timeout_s": 5.0,
        "batch_max_age_s": 0.01,
    }
    settings.update(overrides)
    return StoreWriter(WriterConfig(dsn=dsn, spool_dir=spool_dir, **settings))  # type: ignore[arg-type]


async def wait_until(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.02)


async def drained(w: StoreWriter, timeout: float = 30.0) -> None:
    await wait_until(
        lambda: w.stats.backlog == 0 and w.stats.connected, timeout, "an empty backlog"
    )


def asterisk_daemon(tmp_path: Path, dsn: str) -> Daemon:
    """A daemon wired for Asterisk (nothing connects until it starts), with Asterisk's
    recording folder somewhere other than the stock /var/spool/asterisk/recording."""
    from acd.bootstrap import bootstrap
    from acd.service.settings import Settings

    settings = Settings(
        config=EXAMPLE, dsn=dsn, http_port=0, spool_dir=tmp_path / "spool",
        recordings_dir=tmp_path / "opt" / "asterisk" / "spool" / "recording",
        ari_url="http://127.0.0.1:1/ari", ari_user="acd117", ari_password="x",
        ami_host="127.0.0.1", ami_port=1, ami_user="acd117", ami_secret="y")
    settings.recordings_dir.mkdir(parents=True, exist_ok=True)
    return bootstrap(settings)
