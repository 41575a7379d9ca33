"""The peer's state, lifecycle and event writers (ARI websocket and AMI), shared by its parts."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from typing import Any, Literal, Self

from aiohttp import web

from tests.fakes.asterisk.ami import AmiSession
from tests.fakes.asterisk.objects import (
    ASTERISK_ID,
    CAUSE_TEXT,
    DialplanExit,
    Failure,
    Handler,
    RecordedRequest,
    SimBridge,
    SimChannel,
    SimEndpoint,
    SimPlayback,
    SimRecording,
    ari_time,
)
from tests.fakes.asterisk.swagger import ApiDocs, load_api_docs


class EventSocket:
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



class PeerBase:
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
        self.transfer_answers: list[tuple[str, str]] = []  # (channel, state) per REFER answer
        self.refers: dict[str, dict[str, Any]] = {}  # channel -> its last REFER's refer_to
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

        self._sockets: list[EventSocket] = []
        self._ami_sessions: list[AmiSession] = []
        self._seq = itertools.count(0)
        self._uid = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._ami_server: asyncio.Server | None = None
        self.ari_port = 0
        self.ami_port = 0
        self._timers: set[asyncio.TimerHandle] = set()
        self._route_table: dict[tuple[str, str], Handler] | None = None
        self._refuse_ws_until = 0.0
        self.bulk_variables = True  # POST /channels/{id}/variables (20.20 / 22.10 and later)
        self._failures: list[Failure] = []
        self._stalls: list[tuple[str, str, float]] = []  # method, path end, seconds

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

    async def __aenter__(self) -> Self:
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
    def active_socket(self) -> EventSocket | None:
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


    # --- AMI ----------------------------------------------------------------------------

    async def _ami_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        session = AmiSession(self, reader, writer)
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


