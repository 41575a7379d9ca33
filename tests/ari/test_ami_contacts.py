"""The AMI adapter's phone reachability: permanent contacts (`contact = sip:...` in the AOR:
desk phones, gateways), endpoints with several AORs, resyncs, and every change of
reachability logged with its reason."""

from __future__ import annotations

import logging

import pytest
from panoramisk.message import Message

from ari.ami import AmiAdapter, DevicePresence, _Received, _Snapshot

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
