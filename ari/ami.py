"""Device and agent-phone state over AMI (panoramisk): the connection, the resync and
the event table. Which device is reachable is worked out by `ari.presence`.

AMI events handled (`AMI_EVENTS`) and actions sent:

| AMI event / action             | use                                                      |
|--------------------------------|----------------------------------------------------------|
| FullyBooted                    | resync: the three actions below, in this order [01, 11]  |
| Shutdown                       | log; panoramisk reconnects, FullyBooted follows [11]     |
| PeerStatus                     | endpoint reachability                                    |
| ContactStatus                  | contacts and their statuses, registered and permanent    |
| DeviceStateChange              | device state                                             |
| DeviceStateList (action)       | all device states at once (DeviceStateChange + ActionID) |
| PJSIPShowEndpoints (action)    | EndpointList: every contact of each endpoint, permanent  |
|                                | ones included (statuses unknown until the next answer)   |
| PJSIPShowContacts (action)     | ContactList: registered contacts with their statuses     |
|                                | (`Response: Error`, `No Contacts found` if none [01])    |
| Hangup                         | end of a call handed back to the dialplan [08]           |

Events go through acd117's own asyncio.Queue (not panoramisk's fire-and-forget
callbacks) and are handled one at a time, in the order received; the answers to the
resync actions are queued at their place in the stream, so older events never overwrite
a newer snapshot.

On every login Asterisk sends FullyBooted right after the Login response if it is up;
after a restart a session that logged in early gets it when boot completes [11]. If it
does not come within `resync_fallback_s`, the resync runs anyway.

Connection lines name Asterisk's host:port: "AMI logged in to 127.0.0.1:5038" (INFO), a
lost connection, a refused login. panoramisk's own lines (`Not able to reconnect` once a
second, `Connection lost`, without the host) are replaced by acd117's: failed connects are
logged once, then counted and logged once per `failure_log_s` with the count
(ari.failures). The rest of panoramisk logs under its own name, where only its warnings
are shown (acd.service.logs).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from panoramisk import Manager
from panoramisk.actions import Action
from panoramisk.message import Message

from acd.vocabulary.events import DeviceStateChanged
from ari.failures import FailureCount, reason
from ari.presence import DevicePresence

log = logging.getLogger(__name__)

# The resync, in this order: the endpoints' contacts come before the registered ones'
# statuses, so that a permanent contact is never missing in between.
RESYNC_ACTIONS = ("DeviceStateList", "PJSIPShowEndpoints", "PJSIPShowContacts")
# An empty answer is an error [01]; it means "none", not "unknown".
EMPTY_ANSWERS = {"PJSIPShowContacts": "No Contacts found",
                 "PJSIPShowEndpoints": "No endpoints found"}

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
    what: str  # login, login-failed, disconnected, connect-failed
    detail: str = ""  # why a connect failed


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
    """panoramisk's Manager, with its connect retries done here: panoramisk logs each
    failed attempt ("Not able to reconnect", no host) and each drop itself; the adapter
    logs them with the host, rate-limited. The pending retry is cancelled by `close()`,
    so a stopped adapter does not reconnect."""

    pinger: asyncio.TimerHandle | None  # set by panoramisk

    def __init__(self, on_login_result: Callable[[bool], None],
                 on_connect_failed: Callable[[OSError], None], **config: Any) -> None:
        super().__init__(**config)
        self._on_login_result = on_login_result
        self._on_connect_failed = on_connect_failed
        self._retry: asyncio.TimerHandle | None = None

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        exc = None if f.cancelled() else f.exception()
        if not isinstance(exc, OSError):
            super().connection_made(f)
            return
        if getattr(self, "protocol", None):
            self.protocol.close()
        self._connected = False
        self._on_connect_failed(exc)
        self._reconnect_later()

    def connection_lost(self, exc: Exception | None) -> None:
        # panoramisk's own, without its two log lines (the adapter logs the loss).
        self._connected = False
        self.loop.call_soon(self.on_disconnect, self, exc)
        if self.pinger:
            self.pinger.cancel()
            self.pinger = None
        self._reconnect_later()

    def _reconnect_later(self) -> None:
        # The config value, not panoramisk's int() of it: tests retry faster than 1 s.
        self._retry = self.loop.call_later(float(self.config["reconnect_timeout"]),
                                           self.connect)

    def close(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        super().close()

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
        reconnect_s: float = 1.0,
        login_retry_s: float = 30.0,
        resync_fallback_s: float = 5.0,
        on_dialplan_hangup: Callable[[str, int], None] | None = None,
        failure_log_s: float = 60.0,
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
        self._failures = FailureCount(failure_log_s)
        self.where = f"{host}:{port}"
        # Called after every resync, e.g. the fallback queue check (ari.fallback).
        self.on_resync: list[Callable[[], None]] = []

    # --- public ------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect (and reconnect, via panoramisk) and handle events until cancelled."""
        loop = asyncio.get_running_loop()
        self._manager = _Manager(
            self._login_result,
            self._connect_failed,
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
            log=logging.getLogger("panoramisk"),
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

    async def request(self, action: Mapping[str, str]) -> list[Message]:
        """Send one action on the session; its whole answer (every message of a list)."""
        if self._manager is None or not self.logged_in.is_set():
            raise ConnectionError("AMI not logged in")
        answer = await self._manager.send_action(dict(action))
        return answer if isinstance(answer, list) else [answer]

    # --- panoramisk callbacks (synchronous: into the queue, nothing else) ---------------

    def _receive(self, _manager: Manager, message: Message) -> None:
        if message.get("Event") in AMI_EVENTS:
            self.queue.put_nowait(_Received(message))

    def _login_result(self, ok: bool) -> None:
        self.queue.put_nowait(_Connection("login" if ok else "login-failed"))

    def _connect_failed(self, exc: OSError) -> None:
        self.queue.put_nowait(_Connection("connect-failed", reason(exc)))

    # --- handling, one item at a time -----------------------------------------------------

    def handle(self, item: _Item) -> None:
        if isinstance(item, _Received):
            handler = AMI_EVENTS[item.message.get("Event")]
            handler(self, item.message)
        elif isinstance(item, _Snapshot):
            self._apply_snapshot(item)
        elif item.what == "login":
            log.info("AMI logged in to %s as %r%s", self.where, self.username,
                     self._failures.succeeded())
            self.logged_in.set()
            self._booted_since_login = False
            self._call_later(self.resync_fallback_s, self._fallback_resync)
        elif item.what == "login-failed":
            log.error("AMI login as %r refused by %s; retrying in %s s", self.username,
                      self.where, self.login_retry_s)
            if self._manager is not None:
                self._manager.close()
                self._call_later(self.login_retry_s, self._manager.connect)
        elif item.what == "disconnected":
            self.logged_in.clear()
            log.warning("AMI connection lost (%s); reconnecting", self.where)
        elif item.what == "connect-failed":
            suffix = self._failures.failed()
            if suffix is not None:
                log.warning("AMI: cannot connect to %s (%s), retrying%s", self.where,
                            item.detail, suffix)

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
        """Ask for every device state and contact; answers are queued as snapshots.
        Three actions whatever the number of phones; Asterisk answers a session's actions
        in the order sent."""
        if self._manager is None:
            return
        self.resyncs += 1
        for name in RESYNC_ACTIONS:
            self._manager.send_action(_SnapshotAction(name, self.queue.put_nowait))
        for hook in self.on_resync:
            hook()

    def _fallback_resync(self) -> None:
        if self.logged_in.is_set() and not self._booted_since_login:
            log.info("no FullyBooted after login; resyncing anyway")
            self.resync()

    def _apply_snapshot(self, snap: _Snapshot) -> None:
        first = snap.messages[0] if snap.messages else None
        if first is not None and first.get("Response") in ("Error", "Failure"):
            message = str(first.get("Message", ""))
            if message != EMPTY_ANSWERS.get(snap.action):
                log.warning("%s failed: %s", snap.action, message)
                return
        for event in self.presence.on_answer(snap.action, snap.messages):
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
