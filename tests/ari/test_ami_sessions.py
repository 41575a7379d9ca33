"""The AMI adapter in live sessions with the peer: the first sync, following registrations,
resyncs after a restart, a wrong secret, and what is logged of connecting and losing the
connection."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from collections.abc import AsyncIterator

import pytest

from acd.vocabulary.events import DeviceStateChanged
from ari.ami import AmiAdapter
from tests.fakes.asterisk import FakeAsterisk


@pytest.fixture
async def ami(peer: FakeAsterisk) -> AsyncIterator[tuple[AmiAdapter, list[DeviceStateChanged]]]:
    seen: list[DeviceStateChanged] = []
    adapter = AmiAdapter("127.0.0.1", peer.ami_port, peer.ami_user, peer.ami_secret,
                         seen.append, resync_fallback_s=0.5)
    task = asyncio.create_task(adapter.run())
    await asyncio.wait_for(adapter.logged_in.wait(), 2)
    yield adapter, seen
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_live_session_syncs_then_follows_registrations(
    peer: FakeAsterisk, ami: tuple[AmiAdapter, list[DeviceStateChanged]]
) -> None:
    adapter, seen = ami
    await peer.wait_for(lambda: adapter.resyncs == 1, what="resync on FullyBooted")
    peer.register("PJSIP/1001")
    await peer.wait_for(lambda: DeviceStateChanged("PJSIP/1001", True) in seen)
    peer.phone_dies("PJSIP/1001")
    await peer.wait_for(lambda: seen[-1] == DeviceStateChanged("PJSIP/1001", False))
    peer.register("PJSIP/1001")
    await peer.wait_for(lambda: seen[-1] == DeviceStateChanged("PJSIP/1001", True))
    peer.unregister("PJSIP/1001")
    await peer.wait_for(lambda: seen[-1] == DeviceStateChanged("PJSIP/1001", False))
    assert adapter.reachable("PJSIP/1001") is False


async def test_resync_after_an_asterisk_restart_reports_what_changed_meanwhile(
    peer: FakeAsterisk, ami: tuple[AmiAdapter, list[DeviceStateChanged]]
) -> None:
    adapter, seen = ami
    peer.register("PJSIP/1001")
    peer.register("PJSIP/1002")
    await peer.wait_for(lambda: len(seen) == 2)
    await peer.restart()
    # While it was down, 1002 went away without anyone hearing about it.
    peer.endpoints["PJSIP/1002"].registered = False
    await peer.wait_for(lambda: adapter.resyncs >= 2, 4, "resync after reconnect")
    await peer.wait_for(lambda: DeviceStateChanged("PJSIP/1002", False) in seen)
    assert adapter.reachable("PJSIP/1001") is True


async def test_live_resync_finds_phones_registered_before_the_session(
    peer: FakeAsterisk, caplog: pytest.LogCaptureFixture
) -> None:
    peer.register("PJSIP/1001")
    peer.register("PJSIP/1002")
    peer.unregister("PJSIP/1002")
    seen: list[DeviceStateChanged] = []
    adapter = AmiAdapter("127.0.0.1", peer.ami_port, peer.ami_user, peer.ami_secret,
                         seen.append)
    with caplog.at_level(logging.WARNING, logger="ari.ami"):
        task = asyncio.create_task(adapter.run())
        await peer.wait_for(lambda: len(seen) == 2, what="both phones after the resync")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert {(e.device, e.reachable) for e in seen} == {("PJSIP/1001", True),
                                                        ("PJSIP/1002", False)}
    assert "failed" not in caplog.text  # the three answers were all understood
    # DeviceStateList is answered first, so it is the reason given.
    assert "PJSIP/1002 taken as unreachable: device UNAVAILABLE" in caplog.text


async def test_wrong_secret_is_logged_and_nothing_is_reported(
    peer: FakeAsterisk, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[DeviceStateChanged] = []
    adapter = AmiAdapter("127.0.0.1", peer.ami_port, peer.ami_user, "wrong", seen.append,
                         login_retry_s=60)
    with caplog.at_level(logging.ERROR, logger="ari.ami"):
        task = asyncio.create_task(adapter.run())
        for _ in range(200):
            if "login" in caplog.text:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert "AMI login as 'acd117' refused" in caplog.text
    assert seen == [] and adapter.resyncs == 0


async def test_an_unreachable_ami_is_logged_with_its_address_once_per_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    adapter = AmiAdapter("127.0.0.1", port, "acd117", "secret", lambda _e: None,
                         reconnect_s=0.01, failure_log_s=0.3)
    with caplog.at_level(logging.DEBUG):
        task = asyncio.create_task(adapter.run())
        await asyncio.sleep(0.5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert len(lines) == 2, lines  # not one per attempt, and nothing from panoramisk
    assert lines[0] == f"AMI: cannot connect to 127.0.0.1:{port} (connection refused), retrying"
    assert re.search(r", retrying \(\d+ failures in the last 0\.3 s\)$", lines[1]), lines[1]
    assert adapter._failures.total > 10


async def test_login_and_a_lost_connection_are_logged_with_the_address(
    peer: FakeAsterisk, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = AmiAdapter("127.0.0.1", peer.ami_port, peer.ami_user, peer.ami_secret,
                         lambda _e: None, reconnect_s=0.01)
    where = f"127.0.0.1:{peer.ami_port}"
    with caplog.at_level(logging.INFO):
        task = asyncio.create_task(adapter.run())
        await asyncio.wait_for(adapter.logged_in.wait(), 2)
        peer.drop_ami()
        await peer.wait_for(lambda: not adapter.logged_in.is_set(), what="the drop")
        await asyncio.wait_for(adapter.logged_in.wait(), 2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    lines = [(r.levelname, r.getMessage()) for r in caplog.records
             if r.levelno >= logging.INFO and "AMI" in r.getMessage()]
    assert lines == [
        ("INFO", f"AMI logged in to {where} as 'acd117'"),
        ("WARNING", f"AMI connection lost ({where}); reconnecting"),
        ("INFO", f"AMI logged in to {where} as 'acd117'"),
    ]
    assert not [r for r in caplog.records if r.name.startswith("panoramisk")
                and r.levelno >= logging.WARNING]
