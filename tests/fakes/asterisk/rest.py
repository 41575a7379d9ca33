"""The peer's HTTP side: authentication, the ARI documents check, the events websocket,
the route table, and the asterisk / applications resources."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from tests.fakes.asterisk.base import EventSocket, PeerBase
from tests.fakes.asterisk.objects import (
    ASTERISK_ID,
    B,
    Handler,
    HttpError,
    P,
    R,
    RecordedRequest,
    ari_time,
)
from tests.fakes.asterisk.swagger import RequestRejected


class RestApi(PeerBase):
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
        for method, path_end, seconds in self._stalls:
            if method == request.method and tail.endswith(path_end):
                await asyncio.sleep(seconds)
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
        except HttpError as exc:
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
        sock = EventSocket(ws, request)
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
    ) -> tuple[Handler | None, P]:
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

    def _routes(self) -> dict[tuple[str, str], Handler]:
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
            ("POST", "/channels/{id}/transfer_progress"): self._transfer_progress,
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

    def _asterisk_info(self, p: P, q: P, b: B) -> R:
        started = ari_time(self.booted_at)
        return 200, {
            "build": {"os": "Linux", "kernel": "", "machine": "x86_64", "options": "",
                      "date": "", "user": "root"},
            "system": {"version": "22.10.1", "entity_id": ASTERISK_ID},
            "config": {"name": "", "default_language": "en",
                       "setid": {"user": "", "group": ""}},
            "status": {"startup_time": started, "last_reload_time": started},
        }

    def _asterisk_ping(self, p: P, q: P, b: B) -> R:
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

    def _list_apps(self, p: P, q: P, b: B) -> R:
        return 200, [self._app_snapshot()] if self._app_exists() else []

    def _get_app(self, p: P, q: P, b: B) -> R:
        if p["app"] != self.app or not self._app_exists():
            return 404, {"message": "Application not found"}
        return 200, self._app_snapshot()

    def _subscribe(self, p: P, q: P, b: B) -> R:
        if p["app"] != self.app or not self._app_exists():
            return 404, {"message": "Application not found"}
        return 200, self._app_snapshot()

