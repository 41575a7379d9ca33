"""The AMI adapter: recorded AMI streams replayed, and live sessions with the peer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from panoramisk.message import Message

from acd.events import DeviceStateChanged
from ari.ami import AmiAdapter, DevicePresence, _Received, _Snapshot
from ari.testing import FakeAsterisk
from tests.ari.conftest import FIXTURES

SNAPSHOT_ACTIONS = {"devicestatelist": "DeviceStateList", "pjsipshowcontacts": "PJSIPShowContacts"}


def ami_stream(scenario: str) -> list[_Received | _Snapshot]:
    """What Asterisk sent in `NN-name.ami.txt`, as the adapter's queue would hold it:
    events one by one, and the answers to DeviceStateList / PJSIPShowContacts as one
    snapshot each (at the place their last message arrived)."""
    text = (FIXTURES / f"{scenario}.ami.txt").read_bytes().decode(errors="replace")
    blocks: list[str] = []
    skip_action = False
    for block in text.split("\r\n\r\n"):
        lines = []
        for line in block.split("\r\n"):
            if line.startswith("### >>> SENT"):
                skip_action = True  # the next lines up to the blank line are our action
                continue
            if line.startswith("###"):
                continue
            lines.append(line)
        if skip_action:
            skip_action = False
            continue
        if lines:
            blocks.append("\r\n".join(lines))
    items: list[_Received | _Snapshot] = []
    pending: dict[str, list[Message]] = {}
    for block in blocks:
        msg = Message.from_line(block.strip())
        if msg is None:
            continue
        aid = msg.get("ActionID", "")
        action = SNAPSHOT_ACTIONS.get(aid.rsplit("-", 1)[0]) if aid else None
        if action is None:
            if "Event" in msg and not aid:
                items.append(_Received(msg))
            continue
        pending.setdefault(aid, []).append(msg)
        done = msg.get("Event", "").endswith("Complete") or msg.get("Response") == "Error"
        if done:
            items.append(_Snapshot(action, pending.pop(aid)))
    return items


def replay_presence(scenario: str) -> list[tuple[str, bool]]:
    presence = DevicePresence()
    out: list[DeviceStateChanged] = []
    for item in ami_stream(scenario):
        if isinstance(item, _Snapshot):
            if item.action == "DeviceStateList":
                out += presence.on_device_state_list(item.messages)
            else:
                out += presence.on_contact_list(item.messages)
        else:
            out += presence.on_event(item.message)
    return [(e.device, e.reachable) for e in out]


def test_01_register_unregister_reload_kill_and_reregister() -> None:
    changes = replay_presence("01-agent-register")
    assert changes == [
        ("PJSIP/1001", False), ("PJSIP/1002", False), ("PJSIP/1003", False),  # first sync
        ("PJSIP/1001", True),  # registers
        ("PJSIP/1002", True),  # registers
        ("PJSIP/1002", False),  # SIGTERM: REGISTER Expires 0
        ("PJSIP/1001", False),  # module reload res_pjsip: UNAVAILABLE, no ContactStatus
        ("PJSIP/1002", True),  # started again
        ("PJSIP/1001", True),  # back after the first qualify OPTIONS
        ("PJSIP/1001", False),  # SIGKILL, qualify notices 11.5 s later
        ("PJSIP/1001", True),  # re-registers; its old contact is Reachable, then Removed
        ("PJSIP/1002", False),
        ("PJSIP/1001", False),
    ]


def test_04_dead_phone_is_unreachable_once_qualify_says_so_even_while_rung() -> None:
    changes = replay_presence("04-agent-unregistered")
    assert ("PJSIP/1003", False) in changes
    # The contact went Unreachable while the originate still held the device INUSE/Down.
    assert changes[-1] == ("PJSIP/1003", False)


def test_devices_that_are_not_phones_are_ignored() -> None:
    presence = DevicePresence()
    for device in ("Queue:support_avail", "MWI:1234@default", "Stasis:acd-agent-1001",
                   "Announcer/ARI_MOH", "Recorder/ARI"):
        assert presence.on_event(Message({"Event": "DeviceStateChange", "Device": device,
                                          "State": "UNAVAILABLE"})) == []


def test_repeated_reports_of_the_same_state_are_not_repeated() -> None:
    presence = DevicePresence()
    msg = Message({"Event": "DeviceStateChange", "Device": "PJSIP/1001", "State": "INUSE"})
    assert presence.on_event(msg) == [DeviceStateChanged("PJSIP/1001", True)]
    assert presence.on_event(msg) == []
    ringing = Message({"Event": "DeviceStateChange", "Device": "PJSIP/1001", "State": "RINGING"})
    assert presence.on_event(ringing) == []


class FakeManager:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send_action(self, action: Any) -> None:
        self.sent.append(action["Action"])


def test_11_fully_booted_after_a_restart_triggers_a_resync() -> None:
    adapter = AmiAdapter("h", 1, "u", "s", lambda e: None)
    manager = FakeManager()
    adapter._manager = manager  # type: ignore[assignment]
    items = ami_stream("11-asterisk-restart")
    names = [i.message.get("Event") for i in items if isinstance(i, _Received)]
    assert names.count("FullyBooted") == 2 and "Shutdown" in names
    for item in items:
        if isinstance(item, _Received) and item.message.get("Event") in ("FullyBooted",
                                                                          "Shutdown"):
            adapter.handle(item)
    assert manager.sent == ["DeviceStateList", "PJSIPShowContacts"] * 2


def test_08_calls_handed_to_the_dialplan_are_followed_to_their_hangup() -> None:
    ended: list[tuple[str, int]] = []
    adapter = AmiAdapter("h", 1, "u", "s", lambda e: None,
                         on_dialplan_hangup=lambda call, cause: ended.append((call, cause)))
    adapter.follow("caller-08b-2")
    adapter.follow("caller-08d-2")
    for item in ami_stream("08-continue-in-dialplan"):
        if isinstance(item, _Received) and item.message.get("Event") == "Hangup":
            adapter.handle(item)
    # A target extension that does not exist hangs up with cause 0 [08 D].
    assert ended == [("caller-08b-2", 16), ("caller-08d-2", 0)]


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


def test_02_a_phone_in_a_call_stays_reachable_through_ringing_and_in_use() -> None:
    presence = DevicePresence()
    states: list[str] = []
    changes: list[DeviceStateChanged] = []
    for item in ami_stream("02-answered-call"):
        if isinstance(item, _Received) and item.message.get("Device") == "PJSIP/1001":
            changes += presence.on_event(item.message)
            states.append(item.message.get("State"))
    assert {"RINGING", "INUSE", "NOT_INUSE"} <= set(states)
    # Reachable once, through the whole call; unreachable only when the phone stopped
    # at the end of the scenario.
    assert states[-1] == "UNAVAILABLE"
    assert changes == [DeviceStateChanged("PJSIP/1001", True),
                       DeviceStateChanged("PJSIP/1001", False)]
