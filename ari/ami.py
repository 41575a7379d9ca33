"""Device and agent-phone state over AMI (panoramisk): DeviceStateChanged(device, reachable).

A logged-in agent whose phone unregisters or dies must stop receiving calls. Asterisk
tells it on AMI in three ways, recorded in [01]:

* `PeerStatus` (endpoint level: Reachable / Unreachable),
* `ContactStatus` (per registered contact: NonQualified, Reachable, Unreachable, Removed),
* `DeviceStateChange` (NOT_INUSE, INUSE, RINGING, ..., UNAVAILABLE).

None of them alone is enough: after a phone re-registers, its *old* contact is reported
Reachable and then Removed although the phone is fine [01]; a `module reload` drops a
registered phone to Unreachable/UNAVAILABLE with no ContactStatus at all [01]; a phone
that died while a call was ringing it stays INUSE until the call ends although its contact
is already Unreachable [04 F]. So each device keeps all three, and it is reachable when
none of the known ones says otherwise. `DeviceStateChanged` goes to the core only when
that answer changes.

AMI events handled (`AMI_EVENTS`):

| AMI event                      | use                                                     |
|--------------------------------|---------------------------------------------------------|
| FullyBooted                    | resync: DeviceStateList + PJSIPShowContacts [01, 11]    |
| Shutdown                       | log; panoramisk reconnects, FullyBooted follows [11]    |
| PeerStatus                     | endpoint reachability                                   |
| ContactStatus                  | contact set of the endpoint                             |
| DeviceStateChange              | device state                                            |
| DeviceStateChange (ActionID)   | DeviceStateList answer: all device states at once       |
| ContactList (ActionID)         | PJSIPShowContacts answer: all contacts at once          |
| Hangup                         | end of a call handed back to the dialplan [08]          |

Events go through acd117's own asyncio.Queue (not panoramisk's fire-and-forget
callbacks) and are handled one at a time, in the order received; the answers to the
resync actions are queued at their place in the stream, so older events never overwrite
a newer snapshot.

On every login Asterisk sends FullyBooted right after the Login response if it is up;
after a restart a session that logged in early gets it when boot completes [11]. If it
does not come within `resync_fallback_s`, the resync runs anyway.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from panoramisk import Manager
from panoramisk.actions import Action
from panoramisk.message import Message

from acd.events import DeviceStateChanged

log = logging.getLogger(__name__)

UNREACHABLE_DEVICE_STATES = frozenset({"UNAVAILABLE", "INVALID"})
UNKNOWN_DEVICE_STATES = frozenset({"UNKNOWN", ""})
REACHABLE_PEER = frozenset({"Reachable", "Registered", "Lagged"})
UNREACHABLE_PEER = frozenset({"Unreachable", "Unregistered", "Rejected"})
CONTACT_DOWN = "Unreachable"
CONTACT_GONE = "Removed"


@dataclass
class _Device:
    peer_ok: bool | None = None
    state_ok: bool | None = None
    contacts: dict[str, str] | None = None  # uri -> status; None: never heard of any

    def reachable(self) -> bool | None:
        parts = [self.peer_ok, self.state_ok]
        if self.contacts is not None:
            parts.append(any(s != CONTACT_DOWN for s in self.contacts.values()))
        known = [p for p in parts if p is not None]
        return all(known) if known else None


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

    def on_event(self, msg: Message) -> list[DeviceStateChanged]:
        name = msg.get("Event", "")
        if name == "DeviceStateChange":
            dev = self._device(msg.get("Device", ""))
            if dev is None:
                return []
            dev.state_ok = _state_ok(msg.get("State", ""))
            return self._changes([msg["Device"]])
        if name == "PeerStatus":
            peer = msg.get("Peer", "")
            dev = self._device(peer)
            if dev is None:
                return []
            status = msg.get("PeerStatus", "")
            if status in REACHABLE_PEER:
                dev.peer_ok = True
            elif status in UNREACHABLE_PEER:
                dev.peer_ok = False
            return self._changes([peer])
        if name == "ContactStatus":
            device = "PJSIP/" + msg.get("EndpointName", msg.get("AOR", ""))
            dev = self._device(device)
            if dev is None:
                return []
            contacts = dev.contacts if dev.contacts is not None else {}
            uri, status = msg.get("URI", ""), msg.get("ContactStatus", "")
            if status == CONTACT_GONE:
                contacts.pop(uri, None)
            else:
                contacts[uri] = status
            dev.contacts = contacts
            return self._changes([device])
        return []

    def on_device_state_list(self, messages: Sequence[Message]) -> list[DeviceStateChanged]:
        """DeviceStateList: one DeviceStateChange per known device, then Complete [01]."""
        touched = []
        for msg in messages:
            if msg.get("Event") != "DeviceStateChange":
                continue
            dev = self._device(msg.get("Device", ""))
            if dev is not None:
                dev.state_ok = _state_ok(msg.get("State", ""))
                touched.append(msg["Device"])
        return self._changes(touched)

    def on_contact_list(self, messages: Sequence[Message]) -> list[DeviceStateChanged]:
        """PJSIPShowContacts: every registered contact (`Response: Error`, `No Contacts
        found` when there is none [01]). The endpoint level is unknown again until the
        next PeerStatus."""
        found: dict[str, dict[str, str]] = {}
        for msg in messages:
            if msg.get("Event") == "ContactList":
                device = "PJSIP/" + msg.get("Endpoint", "")
                found.setdefault(device, {})[msg.get("Uri", "")] = msg.get("Status", "")
        touched = []
        for device in set(found) | {d for d in self.devices if d.startswith("PJSIP/")}:
            dev = self._device(device)
            if dev is None:
                continue
            dev.contacts = found.get(device, {})
            dev.peer_ok = None
            touched.append(device)
        return self._changes(touched)

    def _changes(self, devices: Iterable[str]) -> list[DeviceStateChanged]:
        out = []
        for device in devices:
            now = self.devices[device].reachable()
            if now is None or self.reported.get(device) == now:
                continue
            self.reported[device] = now
            out.append(DeviceStateChanged(device=device, reachable=now))
        return out

    def reachable(self, device: str) -> bool | None:
        dev = self.devices.get(device)
        return dev.reachable() if dev else None


def _state_ok(state: str) -> bool | None:
    if state in UNKNOWN_DEVICE_STATES:
        return None  # e.g. Local channels: no opinion
    return state not in UNREACHABLE_DEVICE_STATES


# --- the connection --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Received:
    message: Message


@dataclass(frozen=True, slots=True)
class _Snapshot:
    action: str
    messages: list[Message]


@dataclass(frozen=True, slots=True)
class _Connection:
    what: str  # login, login-failed, disconnected


class _SnapshotAction(Action):  # type: ignore[misc]
    """An action whose complete answer is queued at its place in the event stream."""

    def __init__(self, name: str, enqueue: Callable[[_Snapshot], None]) -> None:
        super().__init__({"Action": name})
        self._enqueue = enqueue
        self._queued = False

    def add_message(self, message: Message) -> bool | None:
        done: bool | None = super().add_message(message)
        if self.future.done() and not self._queued:
            self._queued = True
            self._enqueue(_Snapshot(self["Action"], list(self.responses)))
        return done


class _Manager(Manager):  # type: ignore[misc]
    def __init__(self, on_login_result: Callable[[bool], None], **config: Any) -> None:
        super().__init__(**config)
        self._on_login_result = on_login_result

    def login(self, future: asyncio.Future[Any]) -> bool:
        ok = bool(super().login(future))
        self._on_login_result(ok)
        return ok


_Item = _Received | _Snapshot | _Connection


class AmiAdapter:
    """Keeps an AMI session to Asterisk and reports device reachability to the core."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        emit: Callable[[DeviceStateChanged], None],
        *,
        prefixes: tuple[str, ...] = ("PJSIP/", "Local/"),
        reconnect_s: int = 1,
        login_retry_s: float = 30.0,
        resync_fallback_s: float = 5.0,
        on_dialplan_hangup: Callable[[str, int], None] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.secret = secret
        self.emit = emit
        self.presence = DevicePresence(prefixes=prefixes)
        self.reconnect_s = reconnect_s
        self.login_retry_s = login_retry_s
        self.resync_fallback_s = resync_fallback_s
        self._later: list[asyncio.TimerHandle] = []
        self.on_dialplan_hangup = on_dialplan_hangup
        self.queue: asyncio.Queue[_Item] = asyncio.Queue()
        self.logged_in = asyncio.Event()
        self.resyncs = 0
        self._followed: set[str] = set()
        self._booted_since_login = False
        self._manager: _Manager | None = None

    # --- public ------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect (and reconnect, via panoramisk) and handle events until cancelled."""
        loop = asyncio.get_running_loop()
        self._manager = _Manager(
            self._login_result,
            host=self.host,
            port=self.port,
            username=self.username,
            secret=self.secret,
            events="on",
            loop=loop,
            reconnect_timeout=self.reconnect_s,
            ping_delay=10,
            ping_interval=10,
            on_disconnect=lambda _manager, _exc: self.queue.put_nowait(
                _Connection("disconnected")
            ),
            log=log,
        )
        self._manager.register_event("*", self._receive)
        self._manager.connect()
        try:
            while True:
                item = await self.queue.get()
                try:
                    self.handle(item)
                except Exception:
                    log.exception("AMI item %r failed", item)
        finally:
            # A pending retry or resync must not reconnect this manager after we are gone.
            for handle in self._later:
                handle.cancel()
            self._later.clear()
            self._manager.close()

    def _call_later(self, delay: float, action: Callable[[], object]) -> None:
        loop = asyncio.get_running_loop()
        self._later = [h for h in self._later if h.when() > loop.time()]  # not yet run
        self._later.append(loop.call_later(delay, action))

    def follow(self, channel_id: str) -> None:
        """Watch a call handed back to the dialplan (`/continue`): after its StasisEnd
        ARI says nothing more, AMI still reports its Hangup [08]."""
        self._followed.add(channel_id)

    def reachable(self, device: str) -> bool | None:
        return self.presence.reachable(device)

    # --- panoramisk callbacks (synchronous: into the queue, nothing else) ---------------

    def _receive(self, _manager: Manager, message: Message) -> None:
        if message.get("Event") in AMI_EVENTS:
            self.queue.put_nowait(_Received(message))

    def _login_result(self, ok: bool) -> None:
        self.queue.put_nowait(_Connection("login" if ok else "login-failed"))

    # --- handling, one item at a time -----------------------------------------------------

    def handle(self, item: _Item) -> None:
        if isinstance(item, _Received):
            handler = AMI_EVENTS[item.message.get("Event")]
            handler(self, item.message)
        elif isinstance(item, _Snapshot):
            self._apply_snapshot(item)
        elif item.what == "login":
            log.info("AMI logged in to %s:%s", self.host, self.port)
            self.logged_in.set()
            self._booted_since_login = False
            self._call_later(self.resync_fallback_s, self._fallback_resync)
        elif item.what == "login-failed":
            log.error("AMI login as %r refused; retrying in %s s", self.username,
                      self.login_retry_s)
            if self._manager is not None:
                self._manager.close()
                self._call_later(self.login_retry_s, self._manager.connect)
        elif item.what == "disconnected":
            self.logged_in.clear()
            log.warning("AMI connection lost; reconnecting")

    def _on_fully_booted(self, msg: Message) -> None:
        self._booted_since_login = True
        self.resync()

    def _on_shutdown(self, msg: Message) -> None:
        # Sent ~1 s after channels were hung up, then the connection closes [11].
        log.warning("Asterisk shutting down (%s, restart=%s)", msg.get("Shutdown"),
                    msg.get("Restart"))

    def _on_state(self, msg: Message) -> None:
        for event in self.presence.on_event(msg):
            self.emit(event)

    def _on_hangup(self, msg: Message) -> None:
        uid = msg.get("Uniqueid", "")
        if uid in self._followed:
            self._followed.discard(uid)
            cause = int(msg.get("Cause") or 0)
            log.info("call %s ended in the dialplan: cause %s %s", uid, cause,
                     msg.get("Cause-txt"))
            if self.on_dialplan_hangup is not None:
                self.on_dialplan_hangup(uid, cause)

    def resync(self) -> None:
        """Ask for every device state and contact; answers are queued as snapshots."""
        if self._manager is None:
            return
        self.resyncs += 1
        for name in ("DeviceStateList", "PJSIPShowContacts"):
            self._manager.send_action(_SnapshotAction(name, self.queue.put_nowait))

    def _fallback_resync(self) -> None:
        if self.logged_in.is_set() and not self._booted_since_login:
            log.info("no FullyBooted after login; resyncing anyway")
            self.resync()

    def _apply_snapshot(self, snap: _Snapshot) -> None:
        first = snap.messages[0] if snap.messages else None
        failed = first is not None and first.get("Response") in ("Error", "Failure")
        if snap.action == "DeviceStateList":
            if failed:
                log.warning("DeviceStateList failed: %s", first.get("Message") if first else "")
                return
            events = self.presence.on_device_state_list(snap.messages)
        else:
            if failed and first is not None and first.get("Message") != "No Contacts found":
                log.warning("PJSIPShowContacts failed: %s", first.get("Message"))
                return
            events = self.presence.on_contact_list(snap.messages)
        for event in events:
            self.emit(event)


# AMI event -> handler (see the table in the module docstring). Everything else
# (VarSet, Newexten, RTCP*, security events, ...) is dropped before it is queued.
AMI_EVENTS: dict[str, Callable[[AmiAdapter, Message], None]] = {
    "FullyBooted": AmiAdapter._on_fully_booted,
    "Shutdown": AmiAdapter._on_shutdown,
    "PeerStatus": AmiAdapter._on_state,
    "ContactStatus": AmiAdapter._on_state,
    "DeviceStateChange": AmiAdapter._on_state,
    "Hangup": AmiAdapter._on_hangup,
}
