"""An in-process Asterisk for tests and benchmarks: ARI (REST + events websocket) and AMI.

`FakeAsterisk` behaves as the ARI documents say and as the recorded Asterisk 22 did
(`shared/asterisk/transcripts`, scenario numbers in brackets):

* every REST request is checked against Asterisk's ARI documents when they are present
  (`ari.swagger`): unknown resource, method, parameter or value -> 4xx, and the request
  is listed in `rejected`; every request is recorded in `requests`;
* channels, bridges, playbacks and recordings are simulated with the event sequences of
  the transcripts: StasisStart args [02], originate -> Dial/ChannelStateChange/StasisStart
  on answer [02], ring timeout -> ChannelDestroyed cause 19 with no Dial [03], reject ->
  cause 17 [03], unregistered endpoint -> 500 "Allocation failed" [04], caller hang-up ->
  ChannelHangupRequest + StasisEnd and no ChannelDestroyed [05], failed playback on
  hang-up [05], snoop ending with its channel [09], bridge recording ending when the
  bridge empties [02], restart sequence [11], ApplicationReplaced [13];
* AMI: banner, Login, FullyBooted, DeviceStateList, PJSIPShowEndpoints, PJSIPShowContacts,
  QueueStatus (`queue_members`), Ping, Logoff, and PeerStatus / ContactStatus /
  DeviceStateChange / Hangup / Shutdown events [01, 11].

Test controls: `register`, `unregister`, `phone_dies`, `incoming_call`, `feature_call`,
`answer`, `reject`, `caller_hangs_up`, `agent_hangs_up`, `hold`, `send_dtmf`,
`drop_websocket`, `restart`, `wait_for`.

`ScriptedCore` and `CoreHarness` stand in for the routing core in flow tests and
benchmarks.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote, unquote

from aiohttp import web

from acd.vocabulary.commands import (
    Answer,
    Bridge,
    HangUp,
    PlayPrompt,
    RingAgent,
    StartRecording,
    StopRinging,
)
from acd.vocabulary.events import (
    AgentHungUp,
    CallAdopted,
    CallArrived,
    CallerHungUp,
    PromptFinished,
    RingAnswered,
    RingFailed,
)
from acd.vocabulary.tiers import Tier
from ari.adoption import AdapterCommand, AdapterEvent, SaveCallFacts
from ari.swagger import ApiDocs, RequestRejected, load_api_docs

log = logging.getLogger(__name__)

ASTERISK_ID = "02:fc:00:00:00:01"

_P = dict[str, str]  # path parameters / query
_B = dict[str, Any]  # JSON body
_R = tuple[int, Any]  # status, JSON (or HTML text) body
_Handler = Callable[[_P, _P, _B], _R]
AnswerMode = Literal["auto", "manual", "reject", "dead"]

# DELETE /channels/{id}?reason= -> cause in ChannelDestroyed / AMI Hangup [03, 12]
CAUSE_FOR_REASON = {
    None: 16,
    "normal": 16,
    "busy": 17,
    "congestion": 34,
    "no_answer": 19,
    "timeout": 19,
    "rejected": 21,
    "unallocated": 1,
    "normal_unspecified": 31,
    "number_incomplete": 28,
    "codec_mismatch": 58,
    "interworking": 127,
    "failure": 38,
    "answered_elsewhere": 26,
}
CAUSE_TEXT = {
    0: "Unknown",
    1: "Unallocated (unassigned) number",
    16: "Normal Clearing",
    17: "User busy",
    19: "User alerting, no answer",
    21: "Call Rejected",
    26: "Answered elsewhere",
    28: "Invalid number format (addr incomplete)",
    31: "Normal, unspecified",
    34: "Circuit/channel congestion",
    38: "Network out of order",
    58: "Bearer capability not available",
    127: "Interworking, unspecified",
}


def ari_time(at: float | None = None) -> str:
    dt = datetime.fromtimestamp(time.time() if at is None else at, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+0000"


# --- simulated objects -------------------------------------------------------------------


@dataclass
class SimEndpoint:
    device: str  # PJSIP/1001
    registered: bool = True
    reachable: bool = True  # False: died, qualify noticed (Unreachable)
    answer: AnswerMode = "auto"
    answer_delay: float = 0.0
    contact: str = ""


@dataclass
class SimChannel:
    id: str
    name: str
    state: str
    caller_name: str = ""
    caller_number: str = ""
    context: str = ""
    exten: str = ""
    priority: int = 1
    app_name: str = ""
    app_data: str = ""
    created: float = field(default_factory=time.time)
    kind: str = "caller"  # caller, agent, snoop, feature, created
    in_stasis: bool = False
    subscribed: bool = False  # the app gets this channel's events
    from_dialplan: bool = False  # entered Stasis() from the dialplan: no ChannelDestroyed
    args: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    bridge: str | None = None
    moh: bool = False
    endpoint: SimEndpoint | None = None
    timer: asyncio.TimerHandle | None = None
    spied: str | None = None
    spy: str = "none"
    whisper: str = "none"
    playbacks: list[str] = field(default_factory=list)
    answered: bool = False
    gone: bool = False
    sip_caller: bool = False
    invite_headers: tuple[tuple[str, str], ...] = ()  # what PJSIP_HEADER(read,...) finds

    def snapshot(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "protocol_id": "",
            "caller": {"name": self.caller_name, "number": self.caller_number},
            "connected": {"name": self.caller_name, "number": self.caller_number},
            "accountcode": "",
            "dialplan": {
                "context": self.context,
                "exten": self.exten,
                "priority": self.priority,
                "app_name": self.app_name,
                "app_data": self.app_data,
            },
            "creationtime": ari_time(self.created),
            "language": "en",
        }


@dataclass
class SimBridge:
    id: str
    name: str
    channels: list[str] = field(default_factory=list)
    created: float = field(default_factory=time.time)
    moh: bool = False
    recording: str | None = None

    def snapshot(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "technology": "simple_bridge" if len(self.channels) <= 2 else "softmix",
            "bridge_type": "mixing",
            "bridge_class": "stasis",
            "creator": "Stasis",
            "name": self.name,
            "channels": list(self.channels),
            "creationtime": ari_time(self.created),
            "video_mode": "talker",
        }


@dataclass
class SimPlayback:
    id: str
    media: list[str]
    channel: str
    index: int = 0
    state: str = "queued"
    timer: asyncio.TimerHandle | None = None

    def snapshot(self) -> dict[str, Any]:
        snap: dict[str, Any] = {
            "id": self.id,
            "media_uri": self.media[self.index],
            "target_uri": f"channel:{self.channel}",
            "language": "en",
            "state": self.state,
        }
        if self.index + 1 < len(self.media):
            snap["next_media_uri"] = self.media[self.index + 1]
        return snap


@dataclass
class SimRecording:
    name: str
    format: str
    bridge: str
    started: float = field(default_factory=time.time)
    state: str = "recording"

    def snapshot(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "format": self.format,
            "state": self.state,
            "target_uri": f"bridge:{self.bridge}",
        }


@dataclass
class RecordedRequest:
    method: str
    path: str  # with /ari, e.g. /ari/channels
    query: dict[str, str]
    body: Any
    at: float
    status: int = 0
    reason: str = ""


@dataclass
class DialplanExit:
    """A caller that left (or never reached) Stasis into the dialplan."""

    channel_id: str
    context: str
    extension: str
    priority: int
    why: str  # STASISSTATUS=FAILED, continue


class _Socket:
    """One events websocket; a single writer keeps the events in order."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request) -> None:
        self.ws = ws
        self.request = request
        self.replaced = False
        self.outbox: asyncio.Queue[str] = asyncio.Queue()
        self.writer = asyncio.get_running_loop().create_task(self._write())

    def send(self, text: str) -> None:
        self.outbox.put_nowait(text)

    async def _write(self) -> None:
        while True:
            text = await self.outbox.get()
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return

    async def flush(self) -> None:
        while not self.outbox.empty() and not self.writer.done():
            await asyncio.sleep(0.001)


# --- the peer ------------------------------------------------------------------------------


class FakeAsterisk:
    """One simulated Asterisk with ARI on http://127.0.0.1:<port>/ari and AMI on TCP."""

    def __init__(
        self,
        *,
        app: str = "acd117",
        ari_user: str = "acd117",
        ari_password: str = "ari-test-password",
        ami_user: str = "acd117",
        ami_secret: str = "ami-test-secret",
        docs: ApiDocs | Literal["auto"] | None = "auto",
        playback_s: float = 0.02,
        time_scale: float = 1.0,
        restart_phase_s: float = 0.05,
    ) -> None:
        self.app = app
        self.ari_user = ari_user
        self.ari_password = ari_password
        self.ami_user = ami_user
        self.ami_secret = ami_secret
        self.docs: ApiDocs | None = load_api_docs() if docs == "auto" else docs
        self.playback_s = playback_s
        self.time_scale = time_scale
        self.restart_phase_s = restart_phase_s

        self.requests: list[RecordedRequest] = []
        self.rejected: list[RecordedRequest] = []
        self.events_sent: list[dict[str, Any]] = []
        self.events_missed: list[dict[str, Any]] = []
        self.dialplan_exits: list[DialplanExit] = []
        self.stasis_start_at: dict[str, float] = {}  # channel id -> perf_counter
        self.originate_at: dict[str, float] = {}  # call id (from appArgs) -> perf_counter
        self.endpoints: dict[str, SimEndpoint] = {}
        self.channels: dict[str, SimChannel] = {}
        self.bridges: dict[str, SimBridge] = {}
        self.playbacks: dict[str, SimPlayback] = {}
        self.live_recordings: dict[str, SimRecording] = {}
        self.stored_recordings: dict[str, str] = {}  # name -> format
        self.device_states: dict[str, str] = {}  # Stasis:<name> -> state
        # app_queue's queues and their members (AMI QueueStatus); queues.conf + site file.
        self.queue_members: dict[str, list[str]] = {"national-fallback": ["PJSIP/nas-01"]}
        self.app_registered = False
        self.phase: Literal["up", "stopping", "down", "booting-404", "booting-503"] = "up"
        self.booted_at = time.time()

        self._sockets: list[_Socket] = []
        self._ami_sessions: list[_AmiSession] = []
        self._seq = itertools.count(0)
        self._uid = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._ami_server: asyncio.Server | None = None
        self.ari_port = 0
        self.ami_port = 0
        self._timers: set[asyncio.TimerHandle] = set()
        self._route_table: dict[tuple[str, str], _Handler] | None = None
        self._refuse_ws_until = 0.0
        self.bulk_variables = True  # POST /channels/{id}/variables (20.20 / 22.10 and later)
        self._failures: list[_Failure] = []

    # --- lifecycle -----------------------------------------------------------------------

    @property
    def ari_url(self) -> str:
        return f"http://127.0.0.1:{self.ari_port}/ari"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/ari/{tail:.*}", self._http)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await self._start_ari_site()
        await self._start_ami()

    async def _start_ari_site(self) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.ari_port, reuse_address=True)
        await self._site.start()
        if self.ari_port == 0:
            self.ari_port = int(self._runner.addresses[0][1])

    async def _start_ami(self) -> None:
        self._ami_server = await asyncio.start_server(
            self._ami_connection, "127.0.0.1", self.ami_port, reuse_address=True
        )
        if self.ami_port == 0:
            self.ami_port = self._ami_server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for handle in list(self._timers):
            handle.cancel()
        for session in list(self._ami_sessions):
            session.close()
        if self._ami_server is not None:
            self._ami_server.close()
        for sock in list(self._sockets):
            await sock.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeAsterisk:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _later(self, delay: float, fn: Callable[[], None]) -> asyncio.TimerHandle:
        loop = asyncio.get_running_loop()

        def run() -> None:
            self._timers.discard(handle)
            fn()

        handle = loop.call_later(delay * self.time_scale, run)
        self._timers.add(handle)
        return handle

    def _cancel(self, handle: asyncio.TimerHandle | None) -> None:
        if handle is not None:
            handle.cancel()
            self._timers.discard(handle)

    # --- events to the app -----------------------------------------------------------------

    @property
    def active_socket(self) -> _Socket | None:
        for sock in reversed(self._sockets):
            if not sock.replaced and not sock.ws.closed:
                return sock
        return None

    def app_active(self) -> bool:
        return self.phase == "up" and self.active_socket is not None

    def _event(self, kind: str, **fields: Any) -> None:
        event: dict[str, Any] = {"type": kind, "timestamp": ari_time(), **fields}
        event["asterisk_id"] = ASTERISK_ID
        event["application"] = self.app
        sock = self.active_socket
        if sock is None:
            # "Inactive Stasis app 'acd117' missed message": lost, not replayed [07].
            self.events_missed.append(event)
            return
        self.events_sent.append(event)
        if kind == "StasisStart":
            self.stasis_start_at[event["channel"]["id"]] = time.perf_counter()
        sock.send(json.dumps(event))

    def _chan_event(self, kind: str, ch: SimChannel, **fields: Any) -> None:
        if ch.subscribed:
            self._event(kind, channel=ch.snapshot(), **fields)

    # --- HTTP ------------------------------------------------------------------------------

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == self.ari_user and password == self.ari_password

    async def _http(self, request: web.Request) -> web.StreamResponse:
        tail = "/" + request.match_info["tail"]
        if tail == "/events" and request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._websocket(request)
        query = {k: v for k, v in request.query.items()}
        body: Any = None
        if request.can_read_body:
            text = await request.text()
            if text:
                try:
                    body = json.loads(text)
                except ValueError:
                    body = text
        rec = RecordedRequest(request.method, "/ari" + tail, query, body, time.time())
        self.requests.append(rec)
        status, payload = await self._respond(request, tail, query, body)
        rec.status = status
        if status >= 400:
            if isinstance(payload, dict):
                rec.reason = str(payload.get("message") or payload.get("error") or "")
            else:
                rec.reason = str(payload)
        if status == 204:
            return web.Response(status=204)
        if isinstance(payload, str):
            return web.Response(status=status, text=payload, content_type="text/html")
        return web.json_response(payload, status=status)

    async def _respond(
        self, request: web.Request, tail: str, query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        if self.phase == "stopping":
            return 503, "<html><head><title>503 Service Unavailable</title></head></html>"
        if self.phase == "booting-404":
            return 404, {"message": "Not found"}
        if self.phase == "booting-503":
            return 503, {"message": "Asterisk not booted"}
        if not self._authorized(request):
            return 401, {"message": "Authentication required"}
        rec = self.requests[-1]
        if self.docs is not None:
            try:
                op, _ = self.docs.match(request.method, tail)
                self.docs.validate(op, query, body)
            except RequestRejected as exc:
                self.rejected.append(rec)
                return exc.status, {"message": exc.message}
        for failure in self._failures:
            if failure.method == request.method and tail.endswith(failure.path_end) and (
                failure.times > 0
            ):
                failure.times -= 1
                return failure.status, {"message": failure.message}
        handler, params = self._route(request.method, tail)
        if handler is None:
            self.rejected.append(rec)
            return 404, {"message": f"not simulated: {request.method} {tail}"}
        try:
            return handler(params, query, body if isinstance(body, dict) else {})
        except _Http as exc:
            return exc.status, exc.body

    # --- websocket -------------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        if time.monotonic() < self._refuse_ws_until:
            return web.Response(status=503, text="Service Unavailable")
        if self.phase == "stopping":
            return web.Response(status=503, text="Service Unavailable")
        if self.phase == "booting-404":
            return web.Response(status=404, text="Not Found")
        if self.phase == "booting-503":
            return web.json_response({"message": "Asterisk not booted"}, status=503)
        if not self._authorized(request):
            return web.json_response({"message": "Authentication required"}, status=401)
        if request.query.get("app") != self.app:
            return web.json_response({"message": "unknown app"}, status=400)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        previous = self.active_socket
        sock = _Socket(ws, request)
        self._sockets.append(sock)
        self.app_registered = True
        if previous is not None:
            # A second websocket takes the app over; the first gets ApplicationReplaced
            # and nothing more, and is not closed [13].
            previous.replaced = True
            previous.send(
                json.dumps(
                    {
                        "type": "ApplicationReplaced",
                        "timestamp": ari_time(),
                        "application": self.app,
                        "asterisk_id": ASTERISK_ID,
                    }
                )
            )
        try:
            async for _msg in ws:
                pass
        finally:
            sock.writer.cancel()
            if sock in self._sockets:
                self._sockets.remove(sock)
        return ws

    async def drop_websocket(self, refuse_s: float = 0.0) -> None:
        """Abort the app's TCP connection without a close frame (client sees 1006) [07],
        and refuse new websockets for `refuse_s` (a network hiccup)."""
        if refuse_s > 0:
            self._refuse_ws_until = time.monotonic() + refuse_s
        for sock in list(self._sockets):
            await sock.flush()
        for sock in list(self._sockets):
            transport = sock.request.transport
            if transport is not None:
                transport.abort()
        await asyncio.sleep(0)

    # --- routing table of the simulated REST API -------------------------------------------

    def _route(
        self, method: str, path: str
    ) -> tuple[_Handler | None, _P]:
        parts = path.strip("/").split("/")
        if self._route_table is None:
            self._route_table = self._routes()
        for (m, template), handler in self._route_table.items():
            if m != method:
                continue
            tparts = template.strip("/").split("/")
            if len(tparts) != len(parts):
                continue
            params: dict[str, str] = {}
            for t, p in zip(tparts, parts, strict=True):
                if t.startswith("{"):
                    params[t[1:-1]] = unquote(p)
                elif t != p:
                    break
            else:
                return handler, params
        return None, {}

    def _routes(self) -> dict[tuple[str, str], _Handler]:
        return {
            ("GET", "/asterisk/info"): self._asterisk_info,
            ("GET", "/asterisk/ping"): self._asterisk_ping,
            ("GET", "/applications"): self._list_apps,
            ("GET", "/applications/{app}"): self._get_app,
            ("POST", "/applications/{app}/subscription"): self._subscribe,
            ("DELETE", "/applications/{app}/subscription"): self._subscribe,
            ("GET", "/channels"): self._list_channels,
            ("POST", "/channels"): self._originate,
            ("POST", "/channels/create"): self._create_channel,
            ("GET", "/channels/{id}"): self._get_channel,
            ("DELETE", "/channels/{id}"): self._hangup,
            ("POST", "/channels/{id}/answer"): self._answer_channel,
            ("POST", "/channels/{id}/ring"): self._ring_channel,
            ("POST", "/channels/{id}/continue"): self._continue,
            ("POST", "/channels/{id}/play"): self._play,
            ("POST", "/channels/{id}/moh"): self._moh_on,
            ("DELETE", "/channels/{id}/moh"): self._moh_off,
            ("POST", "/channels/{id}/dtmf"): self._dtmf,
            ("GET", "/channels/{id}/variable"): self._get_var,
            ("POST", "/channels/{id}/variable"): self._set_var,
            ("POST", "/channels/{id}/variables"): self._set_vars,
            ("POST", "/channels/{id}/snoop"): self._snoop,
            ("POST", "/channels/{id}/dial"): self._dial_created,
            ("GET", "/bridges"): self._list_bridges,
            ("POST", "/bridges"): self._create_bridge,
            ("GET", "/bridges/{id}"): self._get_bridge,
            ("DELETE", "/bridges/{id}"): self._destroy_bridge,
            ("POST", "/bridges/{id}/addChannel"): self._add_channel,
            ("POST", "/bridges/{id}/removeChannel"): self._remove_channel,
            ("POST", "/bridges/{id}/moh"): self._bridge_moh_on,
            ("DELETE", "/bridges/{id}/moh"): self._bridge_moh_off,
            ("POST", "/bridges/{id}/record"): self._record,
            ("GET", "/playbacks/{id}"): self._get_playback,
            ("DELETE", "/playbacks/{id}"): self._stop_playback,
            ("GET", "/recordings/live/{name}"): self._get_live,
            ("POST", "/recordings/live/{name}/stop"): self._stop_live,
            ("GET", "/recordings/stored"): self._list_stored,
            ("GET", "/recordings/stored/{name}"): self._get_stored,
            ("GET", "/endpoints"): self._list_endpoints,
            ("GET", "/endpoints/{tech}"): self._list_endpoints,
            ("GET", "/endpoints/{tech}/{resource}"): self._get_endpoint,
            ("GET", "/deviceStates"): self._list_device_states,
            ("PUT", "/deviceStates/{name}"): self._put_device_state,
        }

    # --- asterisk / applications -------------------------------------------------------------

    def _asterisk_info(self, p: _P, q: _P, b: _B) -> _R:
        started = ari_time(self.booted_at)
        return 200, {
            "build": {"os": "Linux", "kernel": "", "machine": "x86_64", "options": "",
                      "date": "", "user": "root"},
            "system": {"version": "22.10.1", "entity_id": ASTERISK_ID},
            "config": {"name": "", "default_language": "en",
                       "setid": {"user": "", "group": ""}},
            "status": {"startup_time": started, "last_reload_time": started},
        }

    def _asterisk_ping(self, p: _P, q: _P, b: _B) -> _R:
        return 200, {"asterisk_id": ASTERISK_ID, "ping": "pong", "timestamp": ari_time()}

    def _app_channels(self) -> list[str]:
        return [c.id for c in self.channels.values() if c.subscribed and not c.gone]

    def _app_snapshot(self) -> dict[str, Any]:
        return {
            "name": self.app,
            "channel_ids": self._app_channels(),
            "bridge_ids": list(self.bridges),
            "endpoint_ids": [],
            "device_names": [],
            "events_allowed": [],
            "events_disallowed": [],
        }

    def _app_exists(self) -> bool:
        return self.app_registered and (
            self.active_socket is not None or bool(self._app_channels()) or bool(self.bridges)
        )

    def _list_apps(self, p: _P, q: _P, b: _B) -> _R:
        return 200, [self._app_snapshot()] if self._app_exists() else []

    def _get_app(self, p: _P, q: _P, b: _B) -> _R:
        if p["app"] != self.app or not self._app_exists():
            return 404, {"message": "Application not found"}
        return 200, self._app_snapshot()

    def _subscribe(self, p: _P, q: _P, b: _B) -> _R:
        if p["app"] != self.app or not self._app_exists():
            return 404, {"message": "Application not found"}
        return 200, self._app_snapshot()

    # --- channels ----------------------------------------------------------------------

    def _channel(self, channel_id: str) -> SimChannel:
        ch = self.channels.get(channel_id)
        if ch is None or ch.gone:
            raise _Http(404, {"message": "Channel not found"})
        return ch

    def _stasis_channel(self, channel_id: str) -> SimChannel:
        ch = self._channel(channel_id)
        if not ch.in_stasis:
            raise _Http(409, {"message": "Channel not in Stasis application"})
        return ch

    def _list_channels(self, p: _P, q: _P, b: _B) -> _R:
        return 200, [c.snapshot() for c in self.channels.values() if not c.gone]

    def _get_channel(self, p: _P, q: _P, b: _B) -> _R:
        return 200, self._channel(p["id"]).snapshot()

    def _new_id(self) -> str:
        return f"{int(self.booted_at)}.{next(self._uid)}"

    def _name(self, base: str) -> str:
        return f"{base}-{next(self._seq):08x}"

    def endpoint(self, device: str) -> SimEndpoint | None:
        ep = self.endpoints.get(device)
        if ep is None and device.startswith("Local/"):
            ep = self.endpoints[device] = SimEndpoint(device)
        return ep

    def _originate(self, p: _P, q: _P, b: _B) -> _R:
        args = {**{k: str(v) for k, v in b.items() if k != "variables"}, **q}
        device = args["endpoint"]
        ep = self.endpoint(device)
        if ep is None or not ep.registered or not ep.reachable:
            # Not registered, Unreachable, unknown endpoint or technology [04].
            return 500, {"error": "Allocation failed"}
        channel_id = args.get("channelId") or self._new_id()
        if channel_id in self.channels and not self.channels[channel_id].gone:
            return 409, {"message": "Channel with given unique ID already exists"}
        caller_name, caller_number = _parse_caller_id(args.get("callerId", ""))
        app_args = args.get("appArgs", "")
        ch = SimChannel(
            id=channel_id,
            name=self._name(device),
            state="Down",
            caller_name=caller_name,
            caller_number=caller_number,
            context="agents",
            exten="s",
            app_name="AppDial2",
            app_data="(Outgoing Line)",
            kind="agent",
            subscribed=args.get("app") == self.app,
            args=app_args.split(",") if app_args else [],
            variables={k: str(v) for k, v in (b.get("variables") or {}).items()},
            endpoint=ep,
        )
        self.channels[ch.id] = ch
        parts = ch.args
        if len(parts) >= 2 and parts[0] == "agent":
            self.originate_at.setdefault(parts[1], time.perf_counter())
        timeout = int(args.get("timeout", "30"))
        asyncio.get_running_loop().call_soon(self._dial, ch, timeout)
        return 200, ch.snapshot()

    def _dial(self, ch: SimChannel, timeout: int) -> None:
        if ch.gone:
            return
        ep = ch.endpoint
        assert ep is not None
        self._event("Dial", dialstatus="", forward="", dialstring=ep.device.split("/", 1)[1],
                    peer=ch.snapshot())
        if timeout > 0:
            # Nobody answers: only ChannelDestroyed 19, no hangup request, no Dial [03, 04].
            ch.timer = self._later(timeout, lambda: self._destroy(ch, 19))
        if ep.answer == "dead":
            return  # INVITE unanswered: stays Down until the timeout [04 F]
        ch.state = "Ringing"
        self._chan_event("ChannelStateChange", ch)
        self._event("Dial", dialstatus="RINGING", forward="",
                    dialstring=ep.device.split("/", 1)[1], peer=ch.snapshot())
        self._ami_device(ep.device, "RINGING")
        if ep.answer == "auto":
            self._later(ep.answer_delay, lambda: self.answer_now(ch.id))
        elif ep.answer == "reject":
            self._later(ep.answer_delay, lambda: self.reject_now(ch.id))

    def _create_channel(self, p: _P, q: _P, b: _B) -> _R:
        ep = self.endpoint(q["endpoint"])
        if ep is None or not ep.registered or not ep.reachable:
            return 500, {"error": "Allocation failed"}
        channel_id = q.get("channelId") or self._new_id()
        ch = SimChannel(id=channel_id, name=self._name(q["endpoint"]), state="Down",
                        kind="created", subscribed=True, in_stasis=True,
                        args=q.get("appArgs", "").split(",") if q.get("appArgs") else [],
                        app_name="Stasis", app_data=",".join([self.app, q.get("appArgs", "")]),
                        variables={k: str(v) for k, v in (b.get("variables") or {}).items()},
                        endpoint=ep)
        self.channels[ch.id] = ch
        # Created channels are in Stasis at once, before being dialled [10].
        self._chan_event("StasisStart", ch, args=ch.args)
        return 200, ch.snapshot()

    def _dial_created(self, p: _P, q: _P, b: _B) -> _R:
        """Dial a channel made with /channels/create: it is already in Stasis [10]."""
        ch = self._stasis_channel(p["id"])
        if ch.kind != "created" or ch.state != "Down" or ch.endpoint is None:
            return 409, {"message": "Channel cannot be dialed"}
        ep = ch.endpoint
        ch.state = "Ringing"
        self._chan_event("ChannelStateChange", ch)
        self._event("Dial", dialstatus="RINGING", forward="", peer=ch.snapshot())
        if ep.answer == "auto":
            ch.state = "Up"
            ch.answered = True
            self._chan_event("ChannelStateChange", ch)
            self._event("Dial", dialstatus="ANSWER", forward="", peer=ch.snapshot())
        return 204, None

    def answer_now(self, channel_id: str) -> None:
        """The agent's phone answers (auto-answer, or `answer()` for manual phones)."""
        ch = self.channels.get(channel_id)
        if ch is None or ch.gone or ch.answered or ch.kind != "agent":
            return
        self._cancel(ch.timer)
        ch.answered = True
        ch.state = "Up"
        ep = ch.endpoint
        assert ep is not None
        dialstring = ep.device.split("/", 1)[1]
        # Order on answer [02]: ChannelStateChange Up, Dial ANSWER, ChannelVarset
        # STASISSTATUS, StasisStart (args from appArgs).
        self._chan_event("ChannelStateChange", ch)
        self._ami_device(ep.device, "INUSE")
        self._event("Dial", dialstatus="ANSWER", forward="", dialstring=dialstring,
                    peer=ch.snapshot())
        self._chan_event("ChannelVarset", ch, variable="STASISSTATUS", value="")
        ch.in_stasis = True
        ch.app_name = "Stasis"
        ch.app_data = ",".join([self.app, *ch.args])
        self._chan_event("StasisStart", ch, args=ch.args)

    def reject_now(self, channel_id: str) -> None:
        """The agent's phone rejects the call (SIP 486) [03 B]."""
        ch = self.channels.get(channel_id)
        if ch is None or ch.gone or ch.answered:
            return
        self._cancel(ch.timer)
        self._chan_event("ChannelHangupRequest", ch, cause=17, tech_cause=486)
        self._event("Dial", dialstatus="BUSY", forward="", peer=ch.snapshot())
        self._destroy(ch, 17)

    async def answer(self, channel_id: str) -> None:
        self.answer_now(channel_id)
        await asyncio.sleep(0)

    async def reject(self, channel_id: str) -> None:
        self.reject_now(channel_id)
        await asyncio.sleep(0)

    def _hangup(self, p: _P, q: _P, b: _B) -> _R:
        ch = self._channel(p["id"])
        cause = CAUSE_FOR_REASON.get(q.get("reason"), 16)
        # Whatever the reason, ChannelHangupRequest says 32 (soft); the real cause is in
        # ChannelDestroyed [03, 12].
        self._chan_event("ChannelHangupRequest", ch, cause=32, soft=True)
        if ch.kind == "agent" and not ch.answered:
            self._event("Dial", dialstatus="NOANSWER", forward="", peer=ch.snapshot())
        self._teardown(ch, cause)
        return 204, None

    def _teardown(self, ch: SimChannel, cause: int, ami_cause: int | None = None) -> None:
        """The channel hangs up: playbacks fail, it leaves its bridge and Stasis."""
        if ch.gone:
            return
        self._cancel(ch.timer)
        for pid in list(ch.playbacks):
            pb = self.playbacks.pop(pid, None)
            if pb is not None:
                self._cancel(pb.timer)
                pb.state = "failed"  # hang-up during a playback [05]
                self._event("PlaybackFinished", playback=pb.snapshot())
        ch.playbacks.clear()
        self._leave_bridge(ch)
        if ch.in_stasis:
            ch.in_stasis = False
            self._chan_event("StasisEnd", ch)
        for snoop in [c for c in self.channels.values() if c.spied == ch.id and not c.gone]:
            # A snoop ends by itself with its spied channel: no hangup request, no
            # ChannelDestroyed [09].
            self._leave_bridge(snoop)
            if snoop.in_stasis:
                snoop.in_stasis = False
                self._chan_event("StasisEnd", snoop)
            snoop.gone = True
        if ch.kind in ("agent", "created"):
            self._destroy(ch, cause)
        else:
            # Channels that entered Stasis from the dialplan: StasisEnd is the last
            # event [02, 05, 14].
            ch.gone = True
            self._ami_hangup(ch, cause if ami_cause is None else ami_cause)

    def _destroy(self, ch: SimChannel, cause: int) -> None:
        if ch.gone:
            return
        self._cancel(ch.timer)
        ch.gone = True
        self._chan_event(
            "ChannelDestroyed", ch, cause=cause, cause_txt=CAUSE_TEXT.get(cause, "Unknown")
        )
        if ch.endpoint is not None:
            self._ami_device(ch.endpoint.device, "NOT_INUSE")
        self._ami_hangup(ch, cause)

    def _answer_channel(self, p: _P, q: _P, b: _B) -> _R:
        ch = self._stasis_channel(p["id"])
        if ch.state != "Up":  # 204 also when already Up [02]
            ch.state = "Up"
            self._chan_event("ChannelStateChange", ch)
        return 204, None

    def _ring_channel(self, p: _P, q: _P, b: _B) -> _R:
        self._stasis_channel(p["id"])
        return 204, None

    def _continue(self, p: _P, q: _P, b: _B) -> _R:
        ch = self._stasis_channel(p["id"])
        self._leave_bridge(ch)
        ch.in_stasis = False
        self._chan_event("StasisEnd", ch)
        # After StasisEnd the app hears nothing more about it [08].
        ch.subscribed = False
        self.dialplan_exits.append(
            DialplanExit(
                ch.id,
                q.get("context", ch.context),
                q.get("extension", ch.exten),
                int(q.get("priority", ch.priority + 1)),
                "continue",
            )
        )
        return 204, None

    def _play(self, p: _P, q: _P, b: _B) -> _R:
        ch = self._stasis_channel(p["id"])
        pid = q.get("playbackId") or f"pb-{next(self._uid)}"
        pb = SimPlayback(pid, q["media"].split(","), ch.id)
        self.playbacks[pid] = pb
        ch.playbacks.append(pid)
        snap = pb.snapshot()
        if len(ch.playbacks) == 1:
            asyncio.get_running_loop().call_soon(self._playback_step, pb)
        return 201, snap

    def _playback_step(self, pb: SimPlayback) -> None:
        if pb.id not in self.playbacks:
            return
        if pb.state == "queued":
            pb.state = "playing"
        else:
            pb.state = "continuing"  # between the media of one playback [05]
            self._event("PlaybackContinuing", playback=pb.snapshot())
            pb.index += 1
            pb.state = "playing"
        self._event("PlaybackStarted", playback=pb.snapshot())
        if pb.index + 1 < len(pb.media):
            pb.timer = self._later(self.playback_s, lambda: self._playback_step(pb))
        else:
            pb.timer = self._later(self.playback_s, lambda: self._playback_done(pb, "done"))

    def _playback_done(self, pb: SimPlayback, state: str) -> None:
        if self.playbacks.pop(pb.id, None) is None:
            return
        self._cancel(pb.timer)
        pb.state = state
        self._event("PlaybackFinished", playback=pb.snapshot())
        ch = self.channels.get(pb.channel)
        if ch is not None and pb.id in ch.playbacks:
            ch.playbacks.remove(pb.id)
            if ch.playbacks:  # queued playbacks play in order
                nxt = self.playbacks.get(ch.playbacks[0])
                if nxt is not None:
                    self._playback_step(nxt)

    def _moh_on(self, p: _P, q: _P, b: _B) -> _R:
        self._stasis_channel(p["id"]).moh = True  # no ARI event [03, 05]
        return 204, None

    def _moh_off(self, p: _P, q: _P, b: _B) -> _R:
        self._stasis_channel(p["id"]).moh = False
        return 204, None

    def _dtmf(self, p: _P, q: _P, b: _B) -> _R:
        self._stasis_channel(p["id"])  # digits go towards the caller: no event [06]
        return 204, None

    def _get_var(self, p: _P, q: _P, b: _B) -> _R:
        ch = self.channels.get(p["id"])
        if ch is None or ch.gone:
            return 404, {"message": "Provided channel was not found"}
        name = q["variable"]
        if name == "CALLERID(num)":
            return 200, {"value": ch.caller_number}
        if name == "CHANNEL(name)":
            return 200, {"value": ch.name}
        if name.startswith("PJSIP_HEADER(read,") and name.endswith(")"):
            # The INVITE's first header of that name (case-insensitive); none, or not an
            # inbound PJSIP channel: the function fails, which ARI answers with 500 [10].
            wanted = name[len("PJSIP_HEADER(read,"):-1].lower()
            found = [v for k, v in ch.invite_headers if k.lower() == wanted]
            if not found:
                return 500, {"message": "Unable to read provided function"}
            return 200, {"value": found[0]}
        value = ch.variables.get(name)
        if not value:  # empty is the same as unset [10]
            return 404, {"message": "Provided variable was not found"}
        return 200, {"value": value}

    def _set_var(self, p: _P, q: _P, b: _B) -> _R:
        ch = self._stasis_channel(p["id"])
        name = q["variable"]
        value = q.get("value", "")
        if value:
            ch.variables[name] = value
        else:
            ch.variables.pop(name, None)
        self._chan_event("ChannelVarset", ch, variable=name, value=value)
        return 204, None

    def _set_vars(self, p: _P, q: _P, b: _B) -> _R:
        if not self.bulk_variables:  # an Asterisk before 20.20 / 22.10
            return 404, {"message": "Resource not found"}
        ch = self._stasis_channel(p["id"])
        for name, value in (b.get("variables") or {}).items():
            text = value.get("value", "") if isinstance(value, dict) else str(value)
            if text:
                ch.variables[name] = text
            else:
                ch.variables.pop(name, None)
        return 204, None

    def _snoop(self, p: _P, q: _P, b: _B) -> _R:
        spied = self._channel(p["id"])
        snoop_id = q.get("snoopId") or self._new_id()
        app_args = q.get("appArgs", "")
        ch = SimChannel(
            id=snoop_id,
            name=self._name(f"Snoop/{spied.id}"),
            state="Up",
            kind="snoop",
            subscribed=True,
            in_stasis=True,
            spied=spied.id,
            spy=q.get("spy", "none"),
            whisper=q.get("whisper", "none"),
            args=app_args.split(",") if app_args else [],
            app_name="Stasis",
            app_data=",".join([self.app, app_args]),
        )
        self.channels[ch.id] = ch
        self._chan_event("StasisStart", ch, args=ch.args)  # before the answer [09]
        return 200, ch.snapshot()

    # --- bridges -----------------------------------------------------------------------

    def _bridge(self, bridge_id: str) -> SimBridge:
        br = self.bridges.get(bridge_id)
        if br is None:
            raise _Http(404, {"message": "Bridge not found"})
        return br

    def _list_bridges(self, p: _P, q: _P, b: _B) -> _R:
        return 200, [br.snapshot() for br in self.bridges.values()]

    def _create_bridge(self, p: _P, q: _P, b: _B) -> _R:
        bridge_id = q.get("bridgeId") or f"bridge-{next(self._uid)}"
        if bridge_id in self.bridges:
            return 409, {"message": "Bridge with the same bridgeId already exists"}
        br = SimBridge(bridge_id, q.get("name", ""))
        self.bridges[bridge_id] = br
        return 200, br.snapshot()

    def _get_bridge(self, p: _P, q: _P, b: _B) -> _R:
        return 200, self._bridge(p["id"]).snapshot()

    def _destroy_bridge(self, p: _P, q: _P, b: _B) -> _R:
        br = self._bridge(p["id"])
        for cid in list(br.channels):
            ch = self.channels.get(cid)
            if ch is not None:
                self._leave_bridge(ch)
        del self.bridges[br.id]
        self._event("BridgeDestroyed", bridge=br.snapshot())
        return 204, None

    def _add_channel(self, p: _P, q: _P, b: _B) -> _R:
        br = self._bridge(p["id"])
        members = []
        for cid in q["channel"].split(","):
            ch = self.channels.get(cid)
            if ch is None or ch.gone:
                return 400, {"message": "Channel not found"}
            if not ch.in_stasis:
                return 422, {"message": "Channel not in Stasis application"}
            members.append(ch)
        for ch in members:
            if ch.bridge == br.id:
                continue
            self._leave_bridge(ch)
            ch.bridge = br.id
            br.channels.append(ch.id)
            self._event("ChannelEnteredBridge", bridge=br.snapshot(), channel=ch.snapshot())
        return 204, None

    def _remove_channel(self, p: _P, q: _P, b: _B) -> _R:
        br = self._bridge(p["id"])
        for cid in q["channel"].split(","):
            ch = self.channels.get(cid)
            if ch is None or ch.gone:
                return 400, {"message": "Channel not found"}
            if ch.bridge != br.id:
                return 422, {"message": "Channel not in this bridge"}
            self._leave_bridge(ch)
        return 204, None

    def _leave_bridge(self, ch: SimChannel) -> None:
        if ch.bridge is None:
            return
        br = self.bridges.get(ch.bridge)
        ch.bridge = None
        if br is None or ch.id not in br.channels:
            return
        br.channels.remove(ch.id)
        self._event("ChannelLeftBridge", bridge=br.snapshot(), channel=ch.snapshot())
        if not br.channels and br.recording:
            # The recording ends by itself when the last channel leaves [02, 14].
            self._finish_recording(br.recording)

    def _finish_recording(self, name: str) -> bool:
        rec = self.live_recordings.pop(name, None)
        if rec is None:
            return False
        br = self.bridges.get(rec.bridge)
        if br is not None:
            br.recording = None
        rec.state = "done"
        snap = rec.snapshot()
        snap["duration"] = int(time.time() - rec.started)  # whole seconds [02]
        self.stored_recordings[rec.name] = rec.format
        self._event("RecordingFinished", recording=snap)
        return True

    def _bridge_moh_on(self, p: _P, q: _P, b: _B) -> _R:
        self._bridge(p["id"]).moh = True
        return 204, None

    def _bridge_moh_off(self, p: _P, q: _P, b: _B) -> _R:
        self._bridge(p["id"]).moh = False
        return 204, None

    def _record(self, p: _P, q: _P, b: _B) -> _R:
        br = self._bridge(p["id"])
        name = q["name"]
        if name in self.live_recordings or (
            name in self.stored_recordings and q.get("ifExists", "fail") == "fail"
        ):
            return 409, {"message": "Recording with the same name already exists"}
        rec = SimRecording(name, q["format"], br.id)
        self.live_recordings[name] = rec
        br.recording = name
        snap = rec.snapshot()
        snap["state"] = "queued"
        self._event("RecordingStarted", recording=rec.snapshot())
        return 201, snap

    # --- playbacks and recordings ----------------------------------------------------------

    def _get_playback(self, p: _P, q: _P, b: _B) -> _R:
        pb = self.playbacks.get(p["id"])
        if pb is None:
            return 404, {"message": "Playback not found"}
        return 200, pb.snapshot()

    def _stop_playback(self, p: _P, q: _P, b: _B) -> _R:
        pb = self.playbacks.get(p["id"])
        if pb is None:
            return 404, {"message": "Playback not found"}
        self._playback_done(pb, "done")  # stopped: state done [06]
        return 204, None

    def _get_live(self, p: _P, q: _P, b: _B) -> _R:
        rec = self.live_recordings.get(p["name"])
        if rec is None:
            return 404, {"message": "Recording not found"}
        return 200, rec.snapshot()

    def _stop_live(self, p: _P, q: _P, b: _B) -> _R:
        if not self._finish_recording(p["name"]):
            return 404, {"message": "Recording not found"}
        return 204, None

    def _list_stored(self, p: _P, q: _P, b: _B) -> _R:
        return 200, [{"name": n, "format": f} for n, f in self.stored_recordings.items()]

    def _get_stored(self, p: _P, q: _P, b: _B) -> _R:
        fmt = self.stored_recordings.get(p["name"])
        if fmt is None:
            return 404, {"message": "Recording not found"}
        return 200, {"name": p["name"], "format": fmt}

    # --- endpoints and device states ------------------------------------------------------

    def _endpoint_snapshot(self, ep: SimEndpoint) -> dict[str, Any]:
        tech, _, resource = ep.device.partition("/")
        return {
            "technology": tech,
            "resource": resource,
            "state": "online" if ep.registered and ep.reachable else "offline",
            "channel_ids": [
                c.id for c in self.channels.values() if c.endpoint is ep and not c.gone
            ],
        }

    def _list_endpoints(self, p: _P, q: _P, b: _B) -> _R:
        tech = p.get("tech")
        eps = [
            e for e in self.endpoints.values() if tech is None or e.device.startswith(tech + "/")
        ]
        return 200, [self._endpoint_snapshot(e) for e in eps]

    def _get_endpoint(self, p: _P, q: _P, b: _B) -> _R:
        ep = self.endpoints.get(f"{p['tech']}/{p['resource']}")
        if ep is None:
            return 404, {"message": "Endpoint not found"}
        return 200, self._endpoint_snapshot(ep)

    def _list_device_states(self, p: _P, q: _P, b: _B) -> _R:
        # Only Stasis: devices are listed [01].
        return 200, [{"name": n, "state": s} for n, s in self.device_states.items()]

    def _put_device_state(self, p: _P, q: _P, b: _B) -> _R:
        if not p["name"].startswith("Stasis:"):
            return 409, {"message": "Uncontrolled device specified"}
        self.device_states[p["name"]] = q["deviceState"]
        self._ami_event("DeviceStateChange", Device=p["name"], State=q["deviceState"])
        return 204, None

    # --- test controls: calls ------------------------------------------------------------

    def register(
        self, device: str, *, answer: AnswerMode = "auto", answer_delay: float = 0.0
    ) -> SimEndpoint:
        """A phone registers (PeerStatus Reachable, DeviceStateChange NOT_INUSE,
        ContactStatus NonQualified on AMI [01])."""
        ep = self.endpoints.get(device) or SimEndpoint(device)
        ep.registered = True
        ep.reachable = True
        ep.answer = answer
        ep.answer_delay = answer_delay
        resource = device.split("/", 1)[1]
        ep.contact = f"sip:{resource}-0x{next(self._uid):x}@127.0.0.1:5071"
        self.endpoints[device] = ep
        if device.startswith("PJSIP/"):
            self._ami_event("PeerStatus", ChannelType="PJSIP", Peer=device,
                            PeerStatus="Reachable")
            self._ami_device(device, "NOT_INUSE")
            self._ami_event("ContactStatus", URI=ep.contact, ContactStatus="NonQualified",
                            AOR=resource, EndpointName=resource, RoundtripUsec="0")
        return ep

    def unregister(self, device: str) -> None:
        """The phone un-registers (SIGTERM: REGISTER Expires 0) [01]."""
        ep = self.endpoints.get(device)
        if ep is None:
            return
        ep.registered = False
        resource = device.split("/", 1)[1]
        self._ami_event("PeerStatus", ChannelType="PJSIP", Peer=device, PeerStatus="Unreachable")
        self._ami_device(device, "UNAVAILABLE")
        self._ami_event("ContactStatus", URI=ep.contact, ContactStatus="Removed", AOR=resource,
                        EndpointName=resource, RoundtripUsec="0")

    def phone_dies(self, device: str) -> None:
        """The phone died without un-registering and qualify noticed [01]."""
        ep = self.endpoints.get(device)
        if ep is None:
            return
        ep.reachable = False
        resource = device.split("/", 1)[1]
        self._ami_event("PeerStatus", ChannelType="PJSIP", Peer=device, PeerStatus="Unreachable")
        self._ami_event("ContactStatus", URI=ep.contact, ContactStatus="Unreachable",
                        AOR=resource, EndpointName=resource, RoundtripUsec="0")
        self._ami_device(device, "UNAVAILABLE")

    async def incoming_call(
        self,
        caller: str = "+6281234567890",
        *,
        trunk: str = "trunk-telkomsel",
        did: str = "117",
        headers: Iterable[tuple[str, str]] = (),
        caller_name: str = "Budi Santoso",
        channel_id: str | None = None,
        invite_headers: Iterable[tuple[str, str]] = (),
    ) -> str | None:
        """A call from a carrier trunk reaches `Stasis(acd117,inbound,...)`.

        `headers` are those the dialplan passes as Stasis arguments; `invite_headers` are
        the SIP headers of the trunk's INVITE, read with `PJSIP_HEADER(read,<name>)`.

        Returns the channel id, or None when Stasis() failed because no websocket is
        connected: the dialplan then continues to the fallback [07, 13].
        """
        cid = channel_id or self._new_id()
        args = ["inbound", caller, trunk, did, *(f"{k}={quote(v, safe='')}" for k, v in headers)]
        ch = SimChannel(
            id=cid,
            name=self._name(f"PJSIP/{trunk}"),
            state="Up",  # the dialplan answered before Stasis() [02, 14]
            caller_name=caller_name,
            caller_number=caller,
            context="acd117-intake",
            exten=did,
            priority=3,
            app_name="Stasis",
            app_data=",".join([self.app, *args]),
            kind="caller",
            from_dialplan=True,
            args=args,
            sip_caller=True,
            invite_headers=tuple(invite_headers),
        )
        if not self.app_active():
            # "Stasis app 'acd117' not active": STASISSTATUS=FAILED, next priority.
            self.dialplan_exits.append(
                DialplanExit(cid, "acd117-fallback", "s", 1, "STASISSTATUS=FAILED")
            )
            return None
        ch.in_stasis = True
        ch.subscribed = True
        self.channels[cid] = ch
        self._chan_event("StasisStart", ch, args=args)
        await asyncio.sleep(0)
        return cid

    async def feature_call(self, device: str, code: str, *args: str) -> str | None:
        """An agent dials a feature code: `Stasis(acd117,feature,<code>[,<arg>])`."""
        cid = self._new_id()
        stasis_args = ["feature", code, *args]
        ch = SimChannel(
            id=cid,
            name=self._name(device),
            state="Up",
            caller_number=device.split("/", 1)[1],
            context="acd117-agents",
            exten=code,
            priority=2,
            app_name="Stasis",
            app_data=",".join([self.app, *stasis_args]),
            kind="feature",
            from_dialplan=True,
            args=stasis_args,
        )
        if not self.app_active():
            self.dialplan_exits.append(DialplanExit(cid, "acd117-agents", code, 3,
                                                    "STASISSTATUS=FAILED"))
            return None
        ch.in_stasis = True
        ch.subscribed = True
        self.channels[cid] = ch
        self._chan_event("StasisStart", ch, args=stasis_args)
        await asyncio.sleep(0)
        return cid

    async def send_dtmf(self, channel_id: str, digits: str, gap_s: float = 0.005) -> None:
        """Digits from the phone: one ChannelDtmfReceived per digit, at its end [06]."""
        for digit in digits:
            ch = self.channels.get(channel_id)
            if ch is None or ch.gone:
                return
            self._chan_event("ChannelDtmfReceived", ch, digit=digit, duration_ms=100)
            await asyncio.sleep(gap_s)

    async def caller_hangs_up(self, channel_id: str) -> None:
        """The caller's side hangs up: ChannelHangupRequest (no cause for a SIP BYE [14],
        16 for a Local far side [05]), PlaybackFinished failed, ChannelLeftBridge,
        StasisEnd - and no ChannelDestroyed [02, 05, 14]."""
        ch = self.channels.get(channel_id)
        if ch is None or ch.gone:
            return
        if ch.sip_caller:
            self._chan_event("ChannelHangupRequest", ch)
        else:
            self._chan_event("ChannelHangupRequest", ch, cause=16)
        self._teardown(ch, 16)
        await asyncio.sleep(0)

    async def agent_hangs_up(self, channel_id: str) -> None:
        """The agent's phone sends BYE on a connected call."""
        ch = self.channels.get(channel_id)
        if ch is None or ch.gone:
            return
        self._chan_event("ChannelHangupRequest", ch, cause=16)
        self._teardown(ch, 16)
        await asyncio.sleep(0)

    async def hold(self, channel_id: str, on: bool = True) -> None:
        ch = self._channel(channel_id)
        if on:
            self._chan_event("ChannelHold", ch, musicclass="default")
        else:
            self._chan_event("ChannelUnhold", ch)
        await asyncio.sleep(0)

    # --- test controls: failures --------------------------------------------------------

    async def restart(self) -> None:
        """`core restart now` [11]: channels hung up (cause 4, soft), AMI Shutdown, the
        websocket closes without a close frame, then refused -> 404 -> 503 -> up; the
        app and its channels are gone, registrations survive."""
        for ch in list(self.channels.values()):
            if ch.gone:
                continue
            self._chan_event("ChannelHangupRequest", ch, cause=4, soft=True)
            self._teardown(ch, 16, ami_cause=0 if ch.kind == "caller" else 16)
        self.phase = "stopping"
        for sock in list(self._sockets):
            await sock.flush()
        await asyncio.sleep(self.restart_phase_s)
        self._ami_event("Shutdown", Shutdown="Cleanly", Restart="True")
        for session in list(self._ami_sessions):
            session.close()
        await self.drop_websocket()
        self.phase = "down"
        assert self._site is not None and self._ami_server is not None
        await self._site.stop()
        self._ami_server.close()
        await asyncio.sleep(self.restart_phase_s)
        self.channels.clear()
        self.bridges.clear()
        self.playbacks.clear()
        self.live_recordings.clear()
        self.app_registered = False
        self._seq = itertools.count(0)
        self.booted_at = time.time()
        await self._start_ami()
        self.phase = "booting-404"
        await self._start_ari_site()
        await asyncio.sleep(self.restart_phase_s)
        self.phase = "booting-503"
        await asyncio.sleep(self.restart_phase_s)
        self.phase = "up"
        for session in list(self._ami_sessions):
            session.fully_booted()

    def drop_ami(self) -> None:
        """Close every AMI session from Asterisk's side (the client reconnects)."""
        for session in list(self._ami_sessions):
            session.close()

    def fail_requests(
        self, method: str, path_end: str, status: int = 503, message: str = "Service "
        "Unavailable", times: int = 1
    ) -> None:
        """The next `times` documented requests `method .../path_end` get `status`."""
        self._failures.append(_Failure(method, path_end, status, message, times))

    # --- waiting -------------------------------------------------------------------------

    async def wait_for(
        self, predicate: Callable[[], object], timeout: float = 2.0, what: str = "condition"
    ) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.002)

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    # --- AMI ----------------------------------------------------------------------------

    async def _ami_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        session = _AmiSession(self, reader, writer)
        self._ami_sessions.append(session)
        try:
            await session.serve()
        finally:
            if session in self._ami_sessions:
                self._ami_sessions.remove(session)

    def _ami_event(self, name: str, **headers: str) -> None:
        for session in list(self._ami_sessions):
            session.event(name, headers)

    def _ami_device(self, device: str, state: str) -> None:
        self._ami_event("DeviceStateChange", Device=device, State=state)

    def _ami_hangup(self, ch: SimChannel, cause: int) -> None:
        self._ami_event(
            "Hangup",
            Channel=ch.name,
            Uniqueid=ch.id,
            Cause=str(cause),
            **{"Cause-txt": CAUSE_TEXT.get(cause, "Unknown")},
        )

    def ami_device_states(self) -> dict[str, str]:
        states: dict[str, str] = {}
        for device, ep in self.endpoints.items():
            if not device.startswith("PJSIP/"):
                continue
            if not (ep.registered and ep.reachable):
                states[device] = "UNAVAILABLE"
            elif any(
                c.endpoint is ep and not c.gone and c.answered for c in self.channels.values()
            ):
                states[device] = "INUSE"
            else:
                states[device] = "NOT_INUSE"
        states.update(self.device_states)
        return states


@dataclass
class _Failure:
    method: str
    path_end: str
    status: int
    message: str
    times: int


class _Http(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


class _AmiSession:
    """One AMI TCP connection, as Asterisk 22 speaks it (CRLF, blank line after each)."""

    def __init__(
        self, peer: FakeAsterisk, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.peer = peer
        self.reader = reader
        self.writer = writer
        self.logged_in = False
        self.booted_sent = False
        self.actions: list[dict[str, str]] = []

    def close(self) -> None:
        if not self.writer.is_closing():
            self.writer.close()

    def _send(self, headers: Mapping[str, str]) -> None:
        if self.writer.is_closing():
            return
        text = "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        self.writer.write(text.encode())

    def event(self, name: str, headers: Mapping[str, str], action_id: str | None = None) -> None:
        if not self.logged_in and action_id is None:
            return
        out = {"Event": name}
        if action_id is not None:
            out["ActionID"] = action_id
        else:
            out["Privilege"] = "system,all" if name in (
                "PeerStatus", "ContactStatus", "FullyBooted", "Shutdown"
            ) else "call,all"
            out["Timestamp"] = f"{time.time():.6f}"
        out.update(headers)
        self._send(out)

    def fully_booted(self) -> None:
        if self.logged_in and not self.booted_sent:
            self.booted_sent = True
            uptime = str(int(time.time() - self.peer.booted_at))
            self._send({"Event": "FullyBooted", "Privilege": "system,all", "Uptime": uptime,
                        "LastReload": uptime, "Status": "Fully Booted"})

    async def serve(self) -> None:
        self.writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        buffer = ""
        while True:
            data = await self.reader.read(4096)
            if not data:
                break
            buffer += data.decode(errors="replace")
            while "\r\n\r\n" in buffer:
                block, buffer = buffer.split("\r\n\r\n", 1)
                action: dict[str, str] = {}
                for line in block.split("\r\n"):
                    key, sep, value = line.partition(": ")
                    if sep:
                        action[key.lower()] = value
                if action:
                    self.actions.append(action)
                    if not self._handle(action):
                        self.close()
                        return
            await self.writer.drain()

    def _handle(self, action: dict[str, str]) -> bool:
        name = action.get("action", "").lower()
        aid = action.get("actionid", "")
        peer = self.peer
        if name == "login":
            if action.get("username") == peer.ami_user and action.get("secret") == peer.ami_secret:
                self.logged_in = True
                self._send({"Response": "Success", "ActionID": aid,
                            "Message": "Authentication accepted"})
                if peer.phase == "up":
                    # Sent right after the Login response on a running system [01, 11].
                    self.fully_booted()
            else:
                self._send({"Response": "Error", "ActionID": aid,
                            "Message": "Authentication failed"})
            return True
        if not self.logged_in:
            self._send({"Response": "Error", "ActionID": aid, "Message": "Permission denied"})
            return True
        if name == "ping":
            self._send({"Response": "Success", "ActionID": aid, "Ping": "Pong",
                        "Timestamp": f"{time.time():.6f}"})
        elif name == "logoff":
            self._send({"Response": "Goodbye", "ActionID": aid,
                        "Message": "Thanks for all the fish."})
            return False
        elif name == "devicestatelist":
            states = peer.ami_device_states()
            self._send({"Response": "Success", "ActionID": aid, "EventList": "start",
                        "Message": "Device State Changes will follow"})
            for device, state in states.items():
                self.event("DeviceStateChange", {"Device": device, "State": state}, aid)
            self._send({"Event": "DeviceStateListComplete", "ActionID": aid,
                        "EventList": "Complete", "ListItems": str(len(states))})
        elif name == "pjsipshowendpoints":
            # One EndpointList per endpoint; `Contacts` holds `aor/uri,` for every contact
            # of its AOR (res_pjsip/pjsip_configuration.c `format_ami_endpoints`).
            endpoints = [e for e in peer.endpoints.values() if e.device.startswith("PJSIP/")]
            if not endpoints:
                self._send({"Response": "Error", "ActionID": aid,
                            "Message": "No endpoints found"})
                return True
            self._send({"Response": "Success", "ActionID": aid, "EventList": "start",
                        "Message": "A listing of Endpoints follows, presented as "
                                   "EndpointList events"})
            states = peer.ami_device_states()
            for ep in endpoints:
                resource = ep.device.split("/", 1)[1]
                self.event("EndpointList", {
                    "ObjectType": "endpoint", "ObjectName": resource, "Transport": "",
                    "Aor": resource, "Auths": resource, "OutboundAuths": "",
                    "Contacts": f"{resource}/{ep.contact}," if ep.registered else "",
                    "DeviceState": "Unavailable" if states[ep.device] == "UNAVAILABLE"
                                   else "Not in use",
                    "ActiveChannels": "",
                }, aid)
            self._send({"Event": "EndpointListComplete", "ActionID": aid,
                        "EventList": "Complete", "ListItems": str(len(endpoints))})
        elif name == "queuestatus":
            # apps/app_queue.c manager_queues_status: QueueParams, a QueueMember per member
            # (Status: device state, 1 not in use, 5 unavailable), QueueStatusComplete.
            wanted = action.get("queue", "").lower()
            queues = {q: m for q, m in peer.queue_members.items()
                      if not wanted or q.lower() == wanted}
            self._send({"Response": "Success", "ActionID": aid, "EventList": "start",
                        "Message": "Queue status will follow"})
            states = peer.ami_device_states()
            for queue, members in queues.items():
                self.event("QueueParams", {"Queue": queue, "Max": "0", "Strategy": "ringall",
                                           "Calls": "0"}, aid)
                for member in members:
                    status = "5" if states.get(member, "UNAVAILABLE") == "UNAVAILABLE" else "1"
                    self.event("QueueMember", {"Queue": queue, "Name": member,
                                               "Location": member, "StateInterface": member,
                                               "Membership": "static", "Status": status,
                                               "Paused": "0"}, aid)
            items = sum(1 + len(m) for m in queues.values())
            self._send({"Event": "QueueStatusComplete", "ActionID": aid,
                        "EventList": "Complete", "ListItems": str(items)})
        elif name == "pjsipshowcontacts":
            contacts = [e for e in peer.endpoints.values()
                        if e.device.startswith("PJSIP/") and e.registered]
            if not contacts:
                self._send({"Response": "Error", "ActionID": aid,
                            "Message": "No Contacts found"})  # [01]
                return True
            self._send({"Response": "Success", "ActionID": aid, "EventList": "start",
                        "Message": "A listing of Contacts follows, presented as ContactList "
                                   "events"})
            for ep in contacts:
                resource = ep.device.split("/", 1)[1]
                self.event("ContactList", {
                    "ObjectType": "contact",
                    "ObjectName": f"{resource};@{abs(hash(ep.contact)):x}",
                    "Endpoint": resource,
                    "Uri": ep.contact,
                    "Status": "Reachable" if ep.reachable else "Unreachable",
                    "RoundtripUsec": "N/A",
                }, aid)
            self._send({"Event": "ContactListComplete", "ActionID": aid,
                        "EventList": "Complete", "ListItems": str(len(contacts))})
        else:
            self._send({"Response": "Error", "ActionID": aid,
                        "Message": "Invalid/unknown command"})
        return True


def _parse_caller_id(value: str) -> tuple[str, str]:
    """`"Budi Santoso" <+6281234567890>` -> (name, number)."""
    value = value.strip()
    if "<" in value and value.endswith(">"):
        name, _, number = value[:-1].rpartition("<")
        return name.strip().strip('"'), number.strip()
    return "", value


# --- a stand-in for the routing core --------------------------------------------------------


@dataclass
class ScriptedCore:
    """A tiny, fixed routing script: the real core (acd/core) replaces it.

    On arrival: answer, play `welcome`, then ring the devices of `tiers` in order
    (one at a time; each rings `ring_timeout_s`); between tiers play `escalate-<tier>`.
    On answer: bridge and record. When one side hangs up, hang up the other. A caller
    hanging up while an agent rings stops the ringing (caller_left).
    """

    tiers: list[tuple[Tier, list[tuple[str, str]]]]  # tier -> [(agent_id, device)]
    ring_timeout_s: float = 2.0
    welcome: str | None = "welcome-117"
    ring_at_once: bool = False  # ring the first agent on arrival (benchmark)
    record: bool = True
    save_facts: bool = True
    offer_prefix: str = "offer"
    spread: bool = False  # start each call at the next agent (round robin)
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    offers: dict[str, str] = field(default_factory=dict)  # offer -> call
    outcomes: dict[str, str] = field(default_factory=dict)  # call -> answered/abandoned
    _n: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _arrivals: itertools.count[int] = field(default_factory=lambda: itertools.count(0))

    def __call__(self, event: AdapterEvent) -> list[AdapterCommand]:
        if isinstance(event, CallArrived):
            self.calls[event.call_id] = {
                "caller": event.caller, "step": 0, "agent": 0, "offer": None,
                "connected": None, "arrived": time.time(), "agent_id": None,
                "rotation": next(self._arrivals) if self.spread else 0,
            }
            out: list[AdapterCommand] = [Answer(event.call_id)]
            if self.ring_at_once or self.welcome is None:
                out += self._ring_next(event.call_id)
            else:
                out.append(PlayPrompt(event.call_id, self.welcome))
            return out
        if isinstance(event, CallAdopted):
            self.calls[event.call_id] = {
                "caller": event.caller, "step": 0, "agent": 0, "offer": None,
                "connected": event.agent_id, "arrived": event.arrived_at,
                "adopted": event, "rotation": 0, "agent_id": event.agent_id,
            }
            if event.agent_id is not None:
                return []
            if event.tier is not None:
                self.calls[event.call_id]["step"] = [t for t, _ in self.tiers].index(event.tier)
            return self._ring_next(event.call_id)
        if isinstance(event, PromptFinished):
            call = self.calls.get(event.call_id)
            if call is None or call["connected"] or call["offer"]:
                return []
            return self._ring_next(event.call_id)
        if isinstance(event, RingAnswered):
            call_id = self.offers.get(event.offer_id)
            call = self.calls.get(call_id) if call_id else None
            if call is None or call_id is None:
                return [StopRinging(event.offer_id, "caller_left")]
            if call["connected"]:
                return [StopRinging(event.offer_id, "answered_elsewhere")]
            call["connected"] = event.offer_id
            call["offer"] = None
            self.outcomes[call_id] = "answered"
            tier = self.tiers[call["step"]][0]
            agent_id = call["agent_id"]
            out = [Bridge(call_id, event.offer_id, agent_id)]
            if self.record:
                out.append(StartRecording(call_id, call_id.replace("/", "_"), "wav", agent_id,
                                          f"centre-{tier.value}", tier))
            return out
        if isinstance(event, RingFailed):
            call_id = self.offers.pop(event.offer_id, None)
            call = self.calls.get(call_id) if call_id else None
            if call is None or call_id is None or call["offer"] != event.offer_id:
                return []
            call["offer"] = None
            return self._ring_next(call_id)
        if isinstance(event, CallerHungUp):
            call = self.calls.pop(event.call_id, None)
            if call is None:
                return []
            if call["connected"]:
                return [HangUp(event.call_id, "agent")]
            self.outcomes.setdefault(event.call_id, "abandoned")
            if call["offer"]:
                return [StopRinging(call["offer"], "caller_left")]
            return []
        if isinstance(event, AgentHungUp):
            call = self.calls.pop(event.call_id, None)
            if call is None:
                return []
            return [HangUp(event.call_id, "caller")]
        return []

    def _ring_next(self, call_id: str) -> list[AdapterCommand]:
        call = self.calls[call_id]
        out: list[AdapterCommand] = []
        while call["step"] < len(self.tiers):
            tier, agents = self.tiers[call["step"]]
            if call["agent"] < len(agents):
                agent_id, device = agents[(call["agent"] + call["rotation"]) % len(agents)]
                call["agent"] += 1
                call["agent_id"] = agent_id
                offer = f"{self.offer_prefix}-{next(self._n)}"
                call["offer"] = offer
                self.offers[offer] = call_id
                out.append(RingAgent(call_id, offer, agent_id, device, call["caller"], "32.73",
                                     "Kota Bandung", tier, self.ring_timeout_s))
                if self.save_facts and call.get("tier") != tier:
                    call["tier"] = tier
                    out.append(SaveCallFacts(call_id, tier, time.time()))
                return out
            call["step"] += 1
            call["agent"] = 0
            if call["step"] < len(self.tiers):
                nxt = self.tiers[call["step"]][0]
                out.append(PlayPrompt(call_id, f"escalate-{nxt.value}"))
                return out  # ring the next tier when the prompt has finished
        return out


class CoreHarness:
    """Wires an adapter to a core stand-in: records events, executes returned commands."""

    def __init__(self, core: Callable[[AdapterEvent], Iterable[AdapterCommand]]) -> None:
        self.core = core
        self.events: list[AdapterEvent] = []
        self.commands: list[AdapterCommand] = []
        self.executor: Callable[[AdapterCommand], Any] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def emit(self, event: AdapterEvent) -> None:
        self.events.append(event)
        for command in self.core(event):
            self.commands.append(command)
            if self.executor is not None:
                task = asyncio.get_running_loop().create_task(self.executor(command))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def of_type(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]
