"""Agent-phone reachability from AMI events: DeviceStateChanged(device, reachable).

A logged-in agent whose phone unregisters or dies must stop receiving calls. Asterisk
tells it on AMI in three ways, recorded in [01]:

* `PeerStatus` (endpoint level: Reachable / Unreachable),
* `ContactStatus` (per contact: NonQualified, Reachable, Unreachable, Removed),
* `DeviceStateChange` (NOT_INUSE, INUSE, RINGING, ..., UNAVAILABLE).

None of them alone is enough: after a phone re-registers, its *old* contact is reported
Reachable and then Removed although the phone is fine [01]; a `module reload` drops a
registered phone to Unreachable/UNAVAILABLE with no ContactStatus at all [01]; a phone
that died while a call was ringing it stays INUSE until the call ends although its contact
is already Unreachable [04 F]. So each device keeps all three, and it is reachable when
none of the known ones says otherwise: it has a contact, not every contact is Unreachable,
the device state is not UNAVAILABLE, the last PeerStatus is not Unreachable.
`DeviceStateChanged` goes to the core only when that answer changes, and each change is
logged on one line with the reason: "PJSIP/1001 taken as unreachable: no contact" (or
"contact Unreachable", "device UNAVAILABLE", "peer Unreachable", several joined by
commas), then "PJSIP/1001 reachable again".

A contact is either registered (REGISTER) or permanent: `contact = sip:...` in the AOR, for
a desk phone or gateway that does not register. Both count the same. `PJSIPShowContacts`
lists registered contacts only: it reads the "contact" objects of the registrar's store,
while permanent ones live in the AOR (res_pjsip/pjsip_options.c `ami_show_contacts`,
res_pjsip/location.c `permanent_uri_handler`). `PJSIPShowEndpoints` lists every contact of
each endpoint's AORs, permanent ones included, in its `Contacts` field as `aor/uri,`
(pjsip_configuration.c `sip_endpoints_aors_ami`, location.c `ast_sip_for_each_contact`);
it names the endpoint, so the device is known without mapping AORs to endpoints, and it
is one event per endpoint, like DeviceStateList. Statuses of permanent contacts come from
`ContactStatus` events: with `qualify_frequency` they are qualified (Reachable /
Unreachable), without it they stay NonQualified (pjsip_options.c); when every contact of
a qualified AOR is Unreachable the endpoint goes offline and its device state UNAVAILABLE
(chan_pjsip.c `chan_pjsip_devicestate`), which a resync also sees.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from panoramisk.message import Message

from acd.vocabulary.events import DeviceStateChanged

# Its lines are the AMI adapter's: operators filter on "ari.ami".
log = logging.getLogger("ari.ami")

UNREACHABLE_DEVICE_STATES = frozenset({"UNAVAILABLE", "INVALID"})
UNKNOWN_DEVICE_STATES = frozenset({"UNKNOWN", ""})
REACHABLE_PEER = frozenset({"Reachable", "Registered", "Lagged"})
UNREACHABLE_PEER = frozenset({"Unreachable", "Unregistered", "Rejected"})
CONTACT_DOWN = "Unreachable"
CONTACT_GONE = "Removed"
CONTACT_NOT_KNOWN = ""  # listed by PJSIPShowEndpoints, no status heard since

@dataclass
class _Device:
    peer: str | None = None  # last PeerStatus that has an opinion; None: unknown
    state: str | None = None  # last device state that has an opinion; None: unknown
    contacts: dict[str, str] | None = None  # uri -> ContactStatus; None: never heard of any
    # Every contact of its AORs (registered and permanent) at the last PJSIPShowEndpoints,
    # and those heard of since; None: no PJSIPShowEndpoints answer yet.
    listed: set[str] | None = None

    def unreachable_because(self) -> list[str]:
        """What says the phone cannot be called; [] when nothing does."""
        why = []
        if self.contacts is not None:
            if not self.contacts:
                why.append("no contact")
            elif all(s == CONTACT_DOWN for s in self.contacts.values()):
                why.append(f"contact {CONTACT_DOWN}")
        if self.state is not None and self.state in UNREACHABLE_DEVICE_STATES:
            why.append(f"device {self.state}")
        if self.peer is not None and self.peer in UNREACHABLE_PEER:
            why.append(f"peer {self.peer}")
        return why

    def reachable(self) -> bool | None:
        if self.contacts is None and self.state is None and self.peer is None:
            return None
        return not self.unreachable_because()


@dataclass
class DevicePresence:
    """AMI messages -> DeviceStateChanged, emitted when a device's reachability changes."""

    prefixes: tuple[str, ...] = ("PJSIP/", "Local/")
    devices: dict[str, _Device] = field(default_factory=dict)
    reported: dict[str, bool] = field(default_factory=dict)

    def _device(self, name: str) -> _Device | None:
        if not name.startswith(self.prefixes):
            return None  # Queue:..., MWI:..., Stasis:..., Announcer/ARI_MOH, Recorder/ARI
        return self.devices.setdefault(name, _Device())

    def _pjsip_devices(self) -> set[str]:
        return {d for d in self.devices if d.startswith("PJSIP/")}

    def on_event(self, msg: Message) -> list[DeviceStateChanged]:
        name = msg.get("Event", "")
        if name == "DeviceStateChange":
            dev = self._device(msg.get("Device", ""))
            if dev is None:
                return []
            dev.state = _state(msg.get("State", ""))
            return self._changes([msg["Device"]])
        if name == "PeerStatus":
            peer = msg.get("Peer", "")
            dev = self._device(peer)
            if dev is None:
                return []
            status = msg.get("PeerStatus", "")
            if status in REACHABLE_PEER or status in UNREACHABLE_PEER:
                dev.peer = status
            return self._changes([peer])
        if name == "ContactStatus":
            # Sent for permanent contacts too, once per endpoint using the AOR, with that
            # endpoint's name (pjsip_options.c `sip_options_publish_contact_state`).
            device = "PJSIP/" + msg.get("EndpointName", msg.get("AOR", ""))
            dev = self._device(device)
            if dev is None:
                return []
            contacts = dev.contacts if dev.contacts is not None else {}
            uri, status = msg.get("URI", ""), msg.get("ContactStatus", "")
            if status == CONTACT_GONE:
                contacts.pop(uri, None)
                if dev.listed is not None:
                    dev.listed.discard(uri)
            else:
                contacts[uri] = status
                if dev.listed is not None:
                    dev.listed.add(uri)
            dev.contacts = contacts
            return self._changes([device])
        return []

    def on_answer(self, action: str, messages: Sequence[Message]) -> list[DeviceStateChanged]:
        """The complete answer to one of the resync actions (ari.ami.RESYNC_ACTIONS)."""
        if action == "DeviceStateList":
            return self.on_device_state_list(messages)
        if action == "PJSIPShowEndpoints":
            return self.on_endpoint_list(messages)
        return self.on_contact_list(messages)

    def on_device_state_list(self, messages: Sequence[Message]) -> list[DeviceStateChanged]:
        """DeviceStateList: one DeviceStateChange per known device, then Complete [01]."""
        touched = []
        for msg in messages:
            if msg.get("Event") != "DeviceStateChange":
                continue
            dev = self._device(msg.get("Device", ""))
            if dev is not None:
                dev.state = _state(msg.get("State", ""))
                touched.append(msg["Device"])
        return self._changes(touched)

    def on_endpoint_list(self, messages: Sequence[Message]) -> list[DeviceStateChanged]:
        """PJSIPShowEndpoints: one EndpointList per endpoint, with `Contacts: aor/uri,...`
        for each of its AORs (a list when it has several; no field when it has none).
        These are all the contacts there are, registered and permanent; their statuses
        may have changed unheard while AMI was down, so they are unknown again until
        PJSIPShowContacts (which follows) or a ContactStatus says. The endpoint level is
        unknown again until the next PeerStatus."""
        found: dict[str, set[str]] = {}
        for msg in messages:
            if msg.get("Event") == "EndpointList":
                device = "PJSIP/" + msg.get("ObjectName", "")
                found[device] = _endpoint_contacts(msg)
        touched = []
        for device in set(found) | self._pjsip_devices():
            dev = self._device(device)
            if dev is None:
                continue
            uris = found.get(device, set())
            dev.listed = set(uris)
            dev.contacts = dict.fromkeys(uris, CONTACT_NOT_KNOWN)
            dev.peer = None
            touched.append(device)
        return self._changes(touched)

    def on_contact_list(self, messages: Sequence[Message]) -> list[DeviceStateChanged]:
        """PJSIPShowContacts: every registered contact with its status (`Response: Error`,
        `No Contacts found` when there is none [01]), permanent ones never. A device's
        contacts become these, plus the ones PJSIPShowEndpoints listed that are not here:
        its permanent contacts. Without any PJSIPShowEndpoints answer there is no telling
        those apart from stale registrations, so only the registered ones count."""
        found: dict[str, dict[str, str]] = {}
        for msg in messages:
            if msg.get("Event") == "ContactList":
                device = "PJSIP/" + msg.get("Endpoint", "")
                found.setdefault(device, {})[msg.get("Uri", "")] = msg.get("Status", "")
        touched = []
        for device in set(found) | self._pjsip_devices():
            dev = self._device(device)
            if dev is None:
                continue
            registered = found.get(device, {})
            old = dev.contacts or {}
            permanent = {u: s for u, s in old.items()
                         if dev.listed is not None and u in dev.listed and u not in registered}
            dev.contacts = {**permanent, **registered}
            dev.peer = None
            touched.append(device)
        return self._changes(touched)

    def _changes(self, devices: Iterable[str]) -> list[DeviceStateChanged]:
        out = []
        for device in devices:
            dev = self.devices[device]
            now = dev.reachable()
            before = self.reported.get(device)
            if now is None or before == now:
                continue
            self.reported[device] = now
            out.append(DeviceStateChanged(device=device, reachable=now))
            if not now:
                log.warning("%s taken as unreachable: %s", device,
                            ", ".join(dev.unreachable_because()))
            elif before is False:
                log.info("%s reachable again", device)
        return out

    def reachable(self, device: str) -> bool | None:
        dev = self.devices.get(device)
        return dev.reachable() if dev else None


def _state(state: str) -> str | None:
    if state in UNKNOWN_DEVICE_STATES:
        return None  # e.g. Local channels: no opinion
    return state


def _endpoint_contacts(msg: Message) -> set[str]:
    """The URIs in an EndpointList's `Contacts` fields: `aor/uri,` per contact, one field
    per AOR (pjsip_configuration.c `sip_endpoints_aors_ami`)."""
    fields = msg.get("Contacts", [])
    aors = [a.strip() for a in str(msg.get("Aor", "")).split(",") if a.strip()]
    uris = set()
    for value in [fields] if isinstance(fields, str) else fields:
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            aor = next((a for a in aors if item.startswith(a + "/")), None)
            uri = item[len(aor) + 1:] if aor else item.partition("/")[2]
            if uri:
                uris.add(uri)
    return uris
