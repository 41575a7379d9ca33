"""The AMI adapter: recorded AMI streams replayed (phone presence, resyncs after a restart,
calls handed to the dialplan)."""

from __future__ import annotations

from typing import Any

from panoramisk.message import Message

from acd.vocabulary.events import DeviceStateChanged
from ari.ami import AmiAdapter, DevicePresence, _Received, _Snapshot
from tests.ari.conftest import FIXTURES

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
