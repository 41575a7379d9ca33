"""The AMI adapter: recorded AMI streams replayed, and live sessions with the peer."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from panoramisk.message import Message

from acd.vocabulary.events import DeviceStateChanged
from ari.ami import AmiAdapter, DevicePresence, _Received, _Snapshot
from tests.ari.conftest import FIXTURES
from tests.fakes.asterisk import FakeAsterisk

SNAPSHOT_ACTIONS = {"devicestatelist": "DeviceStateList", "pjsipshowcontacts": "PJSIPShowContacts",
                    "pjsipshowendpoints": "PJSIPShowEndpoints"}


def ami_stream(scenario: str) -> list[_Received | _Snapshot]:
    """What Asterisk sent in `NN-name.ami.txt`, as the adapter's queue would hold it:
    events one by one, and the answers to DeviceStateList / PJSIPShowContacts as one
    snapshot each (at the place their last message arrived). The recordings predate
    PJSIPShowEndpoints in the resync."""
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
            out += presence.on_answer(item.action, item.messages)
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
    assert manager.sent == ["DeviceStateList", "PJSIPShowEndpoints", "PJSIPShowContacts"] * 2


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


# --- permanent contacts (`contact = sip:...` in the AOR: desk phones, gateways) ---------

STATIC = "sip:2001@10.20.0.5:5060"  # the AOR's `contact =`; PJSIPShowContacts never lists it


def contact_status(status: str, uri: str = STATIC, endpoint: str = "2001") -> _Received:
    return _Received(Message({"Event": "ContactStatus", "Privilege": "system,all",
                              "URI": uri, "ContactStatus": status, "AOR": endpoint,
                              "EndpointName": endpoint, "RoundtripUsec": "0"}))


def device_state(state: str, device: str = "PJSIP/2001") -> _Received:
    return _Received(Message({"Event": "DeviceStateChange", "Privilege": "call,all",
                              "Device": device, "State": state}))


def peer_status(status: str, device: str = "PJSIP/2001") -> _Received:
    return _Received(Message({"Event": "PeerStatus", "Privilege": "system,all",
                              "ChannelType": "PJSIP", "Peer": device, "PeerStatus": status}))


def answer(action: str, text: str) -> _Snapshot:
    """An action's answer as Asterisk writes it: blocks separated by a blank line."""
    blocks = [b.strip() for b in text.strip().split("\n\n")]
    messages = [Message.from_line(b.replace("\n", "\r\n")) for b in blocks]
    return _Snapshot(action, [m for m in messages if m is not None])


def resync(states: dict[str, str], endpoints: dict[str, str],
           registered: dict[str, tuple[str, str]]) -> list[_Snapshot]:
    """The three answers of a resync, in the order they are asked for: device states,
    endpoints with every contact of their AORs (`Contacts: aor/uri,`), registered
    contacts (endpoint -> (uri, status))."""
    dsl = "Response: Success\nEventList: start\n\n" + "".join(
        f"Event: DeviceStateChange\nDevice: {d}\nState: {s}\n\n" for d, s in states.items()
    ) + "Event: DeviceStateListComplete\nEventList: Complete"
    eps = "Response: Success\nEventList: start\n\n" + "".join(
        f"Event: EndpointList\nObjectType: endpoint\nObjectName: {ep}\nAor: {ep}\n"
        f"Contacts: {contacts}\nDeviceState: Not in use\nActiveChannels: \n\n"
        for ep, contacts in endpoints.items()
    ) + "Event: EndpointListComplete\nEventList: Complete"
    if registered:
        contacts = "Response: Success\nEventList: start\n\n" + "".join(
            f"Event: ContactList\nObjectType: contact\nObjectName: {ep};@0a1b\n"
            f"Endpoint: {ep}\nUri: {uri}\nStatus: {status}\nRoundtripUsec: N/A\n\n"
            for ep, (uri, status) in registered.items()
        ) + "Event: ContactListComplete\nEventList: Complete"
    else:
        contacts = "Response: Error\nMessage: No Contacts found"  # [01]
    return [answer("DeviceStateList", dsl), answer("PJSIPShowEndpoints", eps),
            answer("PJSIPShowContacts", contacts)]


def adapter_seeing() -> tuple[AmiAdapter, list[tuple[str, bool]]]:
    seen: list[tuple[str, bool]] = []
    adapter = AmiAdapter("h", 1, "u", "s", lambda e: seen.append((e.device, e.reachable)))
    return adapter, seen


def test_a_static_contact_phone_stays_reachable_through_a_resync() -> None:
    adapter, seen = adapter_seeing()
    for item in (device_state("NOT_INUSE"), contact_status("NonQualified")):
        adapter.handle(item)
    assert seen == [("PJSIP/2001", True)]
    # AMI reconnects: no registered contact anywhere, the AOR's contact is listed.
    for snap in resync({"PJSIP/2001": "NOT_INUSE"}, {"2001": f"2001/{STATIC},"}, {}):
        adapter.handle(snap)
    assert seen == [("PJSIP/2001", True)] and adapter.reachable("PJSIP/2001") is True


def test_a_static_contact_phone_known_only_from_the_aor_listing_is_reachable() -> None:
    adapter, seen = adapter_seeing()
    # First start: the registered phone 1001 and the static 2001 are reachable, 1002 has
    # no contact at all; nothing is reported unreachable on the way.
    for snap in resync({"PJSIP/1001": "NOT_INUSE", "PJSIP/1002": "UNAVAILABLE",
                        "PJSIP/2001": "NOT_INUSE"},
                       {"1001": "1001/sip:1001-0x5605@127.0.0.1:5071,", "1002": "",
                        "2001": f"2001/{STATIC},"},
                       {"1001": ("sip:1001-0x5605@127.0.0.1:5071", "Reachable")}):
        adapter.handle(snap)
    assert sorted(seen) == [("PJSIP/1001", True), ("PJSIP/1002", False), ("PJSIP/2001", True)]


def test_a_static_contact_whose_qualify_fails_is_unreachable_until_it_answers_again() -> None:
    adapter, seen = adapter_seeing()
    for snap in resync({"PJSIP/2001": "NOT_INUSE"}, {"2001": f"2001/{STATIC},"}, {}):
        adapter.handle(snap)
    assert seen == [("PJSIP/2001", True)]
    # qualify_frequency: the gateway stops answering OPTIONS. While a call still rings it
    # the device stays INUSE [04 F]; the contact alone says it.
    adapter.handle(device_state("INUSE"))
    adapter.handle(contact_status("Unreachable"))
    assert seen == [("PJSIP/2001", True), ("PJSIP/2001", False)]
    for item in (peer_status("Unreachable"), device_state("UNAVAILABLE")):
        adapter.handle(item)
    # A resync while it is down: still unreachable (the device state says so).
    for snap in resync({"PJSIP/2001": "UNAVAILABLE"}, {"2001": f"2001/{STATIC},"}, {}):
        adapter.handle(snap)
    assert seen == [("PJSIP/2001", True), ("PJSIP/2001", False)]
    for item in (contact_status("Reachable"), peer_status("Reachable"),
                 device_state("NOT_INUSE")):
        adapter.handle(item)
    assert seen[-1] == ("PJSIP/2001", True)


def test_a_static_contact_that_recovered_while_ami_was_down_is_reachable_after_the_resync(
) -> None:
    adapter, seen = adapter_seeing()
    for item in (contact_status("Unreachable"), device_state("UNAVAILABLE")):
        adapter.handle(item)
    # Its ContactStatus Reachable was lost with the connection; the resync shows the
    # endpoint back (NOT_INUSE) and its contact still there.
    for snap in resync({"PJSIP/2001": "NOT_INUSE"}, {"2001": f"2001/{STATIC},"}, {}):
        adapter.handle(snap)
    assert seen == [("PJSIP/2001", False), ("PJSIP/2001", True)]


def test_an_endpoint_with_several_aors_counts_every_contact() -> None:
    # One `Contacts:` field per AOR (repeated header); the registered contact of the
    # second AOR went away while AMI was down, the first AOR's static one remains.
    presence = DevicePresence()
    presence.on_event(contact_status("Reachable", "sip:3001-0x1@10.0.0.9:5060", "3001").message)
    eps = answer("PJSIPShowEndpoints",
                 "Response: Success\nEventList: start\n\n"
                 "Event: EndpointList\nObjectName: 3001\nAor: 3001-desk,3001-soft\n"
                 "Contacts: 3001-desk/sip:3001@10.20.0.7:5060,\n"
                 "Contacts: \n"  # an AOR without contacts
                 "DeviceState: Not in use\n\n"
                 "Event: EndpointListComplete\nEventList: Complete")
    assert eps.messages[1]["Contacts"] == ["3001-desk/sip:3001@10.20.0.7:5060,", ""]
    presence.on_answer("PJSIPShowEndpoints", eps.messages)
    presence.on_answer("PJSIPShowContacts",
                       answer("PJSIPShowContacts", "Response: Error\nMessage: No Contacts "
                                                   "found").messages)
    assert presence.devices["PJSIP/3001"].contacts == {"sip:3001@10.20.0.7:5060": ""}
    assert presence.reachable("PJSIP/3001") is True


def test_a_registered_phone_gone_while_ami_was_down_has_no_contact_after_the_resync() -> None:
    adapter, seen = adapter_seeing()
    uri = "sip:1001-0x5605@127.0.0.1:5071"
    for item in (device_state("NOT_INUSE", "PJSIP/1001"),
                 contact_status("NonQualified", uri, "1001")):
        adapter.handle(item)
    for snap in resync({"PJSIP/1001": "NOT_INUSE"}, {"1001": ""}, {}):
        adapter.handle(snap)
    assert seen == [("PJSIP/1001", True), ("PJSIP/1001", False)]


def test_a_failed_endpoint_listing_is_logged_and_changes_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    adapter, seen = adapter_seeing()
    adapter.handle(contact_status("NonQualified"))
    with caplog.at_level(logging.WARNING, logger="ari.ami"):
        adapter.handle(answer("PJSIPShowEndpoints", "Response: Error\nMessage: Permission "
                                                    "denied"))
    assert "PJSIPShowEndpoints failed: Permission denied" in caplog.text
    assert seen == [("PJSIP/2001", True)]


def test_every_change_of_reachability_is_logged_with_the_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    adapter, _ = adapter_seeing()
    uri = "sip:1001-0x5605@127.0.0.1:5071"
    with caplog.at_level(logging.INFO, logger="ari.ami"):
        adapter.handle(device_state("NOT_INUSE"))
        adapter.handle(contact_status("Reachable"))
        adapter.handle(contact_status("Unreachable"))
        adapter.handle(device_state("UNAVAILABLE"))  # already unreachable: no new line
        adapter.handle(contact_status("Reachable"))
        adapter.handle(device_state("NOT_INUSE"))
        for snap in resync({"PJSIP/1001": "UNAVAILABLE", "PJSIP/2001": "NOT_INUSE"},
                           {"1001": "", "2001": f"2001/{STATIC},"}, {}):
            adapter.handle(snap)
        adapter.handle(contact_status("NonQualified", uri, "1001"))
        adapter.handle(device_state("NOT_INUSE", "PJSIP/1001"))
    lines = [r.getMessage() for r in caplog.records if r.name == "ari.ami"]
    assert lines == [
        "PJSIP/2001 taken as unreachable: contact Unreachable",
        "PJSIP/2001 reachable again",
        "PJSIP/1001 taken as unreachable: device UNAVAILABLE",  # first heard of there
        "PJSIP/1001 reachable again",
    ]
    assert [r.levelname for r in caplog.records if r.name == "ari.ami"] == [
        "WARNING", "INFO", "WARNING", "INFO"]


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
