"""A small typed aiohttp client for the ARI REST endpoints acd117 uses.

Authentication is HTTP Basic (never `api_key` in URLs, which would end up in logs).
Paths, parameters and allowed values follow Asterisk's ARI documents
(`ari-api-docs/*.json`); every request this module can send is checked against those
documents by the test peer (`tests/fakes/asterisk`).

Errors come back as typed exceptions so that callers can treat expected outcomes as
outcomes: an originate to an unregistered, unknown or unreachable endpoint answers
HTTP 500 `{"error": "Allocation failed"}` [04] -> `AllocationFailed`; a channel that has
already gone -> `AriNotFound`; Asterisk restarting -> `AriUnavailable` (HTTP 503, HTML or
`{"message": "Asterisk not booted"}`) or `AriTransportError` (connection refused) [11].
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import aiohttp
from pydantic import BaseModel
from yarl import URL

from ari.models import (
    Application,
    AsteriskInfo,
    Bridge,
    Channel,
    Endpoint,
    LiveRecording,
    Playback,
    StoredRecording,
    Variable,
)
from config.models import readable_header

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

HangupReason = Literal[
    "normal",
    "busy",
    "congestion",
    "no_answer",
    "timeout",
    "rejected",
    "unallocated",
    "normal_unspecified",
    "number_incomplete",
    "codec_mismatch",
    "interworking",
    "failure",
    "answered_elsewhere",
]
SnoopDirection = Literal["none", "both", "out", "in"]
IfExists = Literal["fail", "overwrite", "append"]
DeviceStateName = Literal[
    "NOT_INUSE", "INUSE", "BUSY", "INVALID", "UNAVAILABLE", "RINGING", "RINGINUSE", "ONHOLD"
]


# --- errors ----------------------------------------------------------------------------


class AriError(Exception):
    """A request that did not succeed. `status` is None when no HTTP answer came."""

    def __init__(self, method: str, path: str, status: int | None, message: str) -> None:
        super().__init__(f"{method} {path}: {status or 'no response'} {message}")
        self.method = method
        self.path = path
        self.status = status
        self.message = message


class AriTransportError(AriError):
    """No HTTP answer: connection refused or reset, timeout (Asterisk down or restarting)."""


class AriBadRequest(AriError):
    """400: a parameter Asterisk rejected."""


class AriUnauthorized(AriError):
    """401: wrong ARI user or password."""


class AriNotFound(AriError):
    """404: the channel, bridge, playback, recording or variable does not exist (any more)."""


class AriConflict(AriError):
    """409: e.g. a channel or bridge with that id exists, or it is not in a Stasis app."""


class AriPreconditionFailed(AriError):
    """412: the channel is in a state that does not allow the operation."""


class AriUnprocessable(AriError):
    """422: e.g. the channel is not in this bridge or not in Stasis."""


class AriServerError(AriError):
    """5xx other than the cases below."""


class AllocationFailed(AriServerError):
    """500 `{"error": "Allocation failed"}`: the endpoint could not be dialled at all.

    Normal and expected: endpoint not registered, contact Unreachable, unknown endpoint,
    unknown technology [04]. No event follows.
    """


class VariablesUnsupported(AriError):
    """This Asterisk has no `/channels/{id}/variables` (before 20.20 / 22.10)."""


class AriUnavailable(AriServerError):
    """503: Asterisk is shutting down or has not finished booting [11]."""


_BY_STATUS: dict[int, type[AriError]] = {
    400: AriBadRequest,
    401: AriUnauthorized,
    404: AriNotFound,
    409: AriConflict,
    412: AriPreconditionFailed,
    422: AriUnprocessable,
    503: AriUnavailable,
}


def _error_for(method: str, path: str, status: int, body: Any) -> AriError:
    message = ""
    if isinstance(body, dict):
        message = str(body.get("message") or body.get("error") or "")
    elif isinstance(body, str):
        message = body.strip()[:200]
    if status == 500 and message == "Allocation failed":
        return AllocationFailed(method, path, status, message)
    cls = _BY_STATUS.get(status, AriServerError if status >= 500 else AriError)
    return cls(method, path, status, message)


# --- client ----------------------------------------------------------------------------


def _seg(value: str) -> str:
    """One path segment: ids chosen by acd117 or callers may hold any character."""
    return quote(value, safe="")


def _query(params: Mapping[str, object]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            out[key] = ",".join(str(v) for v in value)
        else:
            out[key] = str(value)
    return out


class AriClient:
    """REST client for one Asterisk. Create it inside the running event loop."""

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        *,
        timeout: float = 5.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        base = URL(url.rstrip("/"))
        if base.path in ("", "/"):
            base = base.with_path("/ari")
        self.base_url = base
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        self.auth_headers = {"Authorization": f"Basic {token}"}
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session = session
        self._own_session = session is None
        self._closed = False

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("AriClient is closed")
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self.timeout,
                connector=aiohttp.TCPConnector(limit=64),
            )
            self._own_session = True
        return self._session

    @property
    def closed(self) -> bool:
        return self._closed

    def reopen(self) -> None:
        """Usable again after `close()` (a new session is made on the next request)."""
        self._closed = False

    async def close(self) -> None:
        self._closed = True
        if self._session is not None and self._own_session and not self._session.closed:
            await self._session.close()

    def events_url(self, app: str, subscribe_all: bool = False) -> URL:
        """The websocket URL of the events stream (`GET /events`, events.json)."""
        scheme = "wss" if self.base_url.scheme == "https" else "ws"
        query = {"app": app}
        if subscribe_all:
            query["subscribeAll"] = "true"
        return self.base_url.with_scheme(scheme).with_path(
            self.base_url.path + "/events"
        ).with_query(query)

    def _url(self, *segments: str) -> URL:
        path = self.base_url.raw_path + "/" + "/".join(segments)
        return self.base_url.with_path(path, encoded=True)

    async def request(
        self,
        method: str,
        segments: Sequence[str],
        params: Mapping[str, object] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send one request; the decoded JSON body (None for 204), or a typed AriError."""
        url = self._url(*segments)
        path = url.path
        query = _query(params or {})
        if self._closed:
            raise AriTransportError(method, path, None, "client closed")
        try:
            async with self.session.request(
                method, url, params=query or None, json=body, headers=self.auth_headers
            ) as resp:
                text = await resp.text()
                status = resp.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise AriTransportError(method, path, None, f"{type(exc).__name__}: {exc}") from exc
        payload: Any = None
        if text:
            try:
                payload = json.loads(text)
            except ValueError:
                payload = text  # e.g. the HTML 503 page while Asterisk shuts down [11]
        if status >= 400:
            raise _error_for(method, path, status, payload)
        return payload

    async def _get_model(self, model: type[M], *segments: str, **params: object) -> M:
        return model.model_validate(await self.request("GET", segments, params))

    async def _get_models(self, model: type[M], *segments: str) -> list[M]:
        payload = await self.request("GET", segments)
        return [model.model_validate(item) for item in payload or []]

    # --- asterisk ----------------------------------------------------------------------

    async def asterisk_info(self) -> AsteriskInfo:
        return await self._get_model(AsteriskInfo, "asterisk", "info")

    # --- applications --------------------------------------------------------------------

    async def list_applications(self) -> list[Application]:
        return await self._get_models(Application, "applications")

    async def get_application(self, app: str) -> Application:
        return await self._get_model(Application, "applications", _seg(app))

    async def subscribe(self, app: str, sources: Sequence[str]) -> Application:
        payload = await self.request(
            "POST", ("applications", _seg(app), "subscription"), {"eventSource": list(sources)}
        )
        return Application.model_validate(payload)

    async def unsubscribe(self, app: str, sources: Sequence[str]) -> Application:
        payload = await self.request(
            "DELETE", ("applications", _seg(app), "subscription"), {"eventSource": list(sources)}
        )
        return Application.model_validate(payload)

    # --- channels ------------------------------------------------------------------------

    async def list_channels(self) -> list[Channel]:
        return await self._get_models(Channel, "channels")

    async def get_channel(self, channel_id: str) -> Channel:
        return await self._get_model(Channel, "channels", _seg(channel_id))

    async def originate(
        self,
        endpoint: str,
        *,
        app: str,
        app_args: Sequence[str] = (),
        caller_id: str | None = None,
        timeout: int | None = None,
        channel_id: str | None = None,
        variables: Mapping[str, str] | None = None,
        originator: str | None = None,
    ) -> Channel:
        """`POST /channels` into a Stasis app: the channel is dialled at once.

        The answer is the new channel in state `Down`; the app is subscribed to it from
        creation, so events (Dial, ChannelStateChange, ChannelDestroyed) arrive before and
        without StasisStart, which only comes on answer [02, 03]. `variables` are set
        before dialling and produce no ChannelVarset [10].
        """
        params = {
            "endpoint": endpoint,
            "app": app,
            "appArgs": ",".join(app_args) if app_args else None,
            "callerId": caller_id,
            "timeout": timeout,
            "channelId": channel_id,
            "originator": originator,
        }
        body = {"variables": dict(variables)} if variables else None
        return Channel.model_validate(await self.request("POST", ("channels",), params, body))

    async def create_channel(
        self,
        endpoint: str,
        *,
        app: str,
        app_args: Sequence[str] = (),
        channel_id: str | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> Channel:
        """`POST /channels/create`: the channel enters Stasis at once, undialled [10]."""
        params = {
            "endpoint": endpoint,
            "app": app,
            "appArgs": ",".join(app_args) if app_args else None,
            "channelId": channel_id,
        }
        body = {"variables": dict(variables)} if variables else None
        payload = await self.request("POST", ("channels", "create"), params, body)
        return Channel.model_validate(payload)

    async def dial(
        self, channel_id: str, *, caller: str | None = None, timeout: int | None = None
    ) -> None:
        await self.request(
            "POST", ("channels", _seg(channel_id), "dial"), {"caller": caller, "timeout": timeout}
        )

    async def answer(self, channel_id: str) -> None:
        # 204 also when the dialplan already answered [02].
        await self.request("POST", ("channels", _seg(channel_id), "answer"))

    async def ring(self, channel_id: str) -> None:
        await self.request("POST", ("channels", _seg(channel_id), "ring"))

    async def hangup(self, channel_id: str, reason: HangupReason | None = None) -> None:
        """`DELETE /channels/{id}`. The reason sets the cause seen in ChannelDestroyed and
        the SIP Reason header: no_answer -> 19, answered_elsewhere -> 26 ("Call completed
        elsewhere"), normal -> 16 [03, 12]."""
        await self.request("DELETE", ("channels", _seg(channel_id)), {"reason": reason})

    async def continue_in_dialplan(
        self,
        channel_id: str,
        *,
        context: str | None = None,
        extension: str | None = None,
        priority: int | None = None,
    ) -> None:
        """Leave Stasis. Without a target: the priority after Stasis(). A target that does
        not exist still answers 204 and the channel is hung up with cause 0 [08]."""
        params = {"context": context, "extension": extension, "priority": priority}
        await self.request("POST", ("channels", _seg(channel_id), "continue"), params)

    async def play(
        self,
        channel_id: str,
        media: Sequence[str],
        *,
        playback_id: str | None = None,
        lang: str | None = None,
    ) -> Playback:
        params = {"media": list(media), "playbackId": playback_id, "lang": lang}
        payload = await self.request("POST", ("channels", _seg(channel_id), "play"), params)
        return Playback.model_validate(payload)

    async def start_moh(self, channel_id: str, moh_class: str | None = None) -> None:
        # No ARI event follows MOH start or stop [03, 05].
        await self.request(
            "POST", ("channels", _seg(channel_id), "moh"), {"mohClass": moh_class}
        )

    async def stop_moh(self, channel_id: str) -> None:
        await self.request("DELETE", ("channels", _seg(channel_id), "moh"))

    async def send_dtmf(self, channel_id: str, dtmf: str) -> None:
        await self.request("POST", ("channels", _seg(channel_id), "dtmf"), {"dtmf": dtmf})

    async def set_variable(self, channel_id: str, variable: str, value: str | None) -> None:
        """Set (or, with None/"", empty = unset [10]) a channel variable."""
        await self.request(
            "POST",
            ("channels", _seg(channel_id), "variable"),
            {"variable": variable, "value": value},
        )

    async def set_variables(self, channel_id: str, variables: Mapping[str, str]) -> None:
        """Several variables in one request (`POST /channels/{id}/variables`, Asterisk
        20.20 / 22.10 and later). Older versions answer 404 or 405 for the resource itself:
        `VariablesUnsupported`, then use `set_variable` for each."""
        try:
            await self.request(
                "POST", ("channels", _seg(channel_id), "variables"), None,
                {"variables": dict(variables)},
            )
        except AriError as exc:
            if exc.status == 405 or (
                exc.status == 404 and "channel" not in exc.message.lower()
            ):
                raise VariablesUnsupported(exc.method, exc.path, exc.status, exc.message) from exc
            raise

    async def get_variable(self, channel_id: str, variable: str) -> str | None:
        """A channel variable, or None when it is not set.

        Both an unset variable and a missing channel answer 404; only the message tells
        them apart ("Provided variable was not found" vs "Provided channel was not
        found" [10]). A missing channel raises AriNotFound.
        """
        try:
            payload = await self.request(
                "GET", ("channels", _seg(channel_id), "variable"), {"variable": variable}
            )
        except AriNotFound as exc:
            if "variable" in exc.message.lower():
                return None
            raise
        return Variable.model_validate(payload).value

    async def get_sip_header(self, channel_id: str, name: str) -> str | None:
        """The value of the first `name` header of the INVITE that brought an inbound PJSIP
        channel in, or None when that INVITE had none.

        Read with `PJSIP_HEADER(read,<name>)`. A function that fails (no such header, or
        not an inbound PJSIP channel) is not a 404: ARI answers 500 "Unable to read
        provided function" [10] (res/ari/resource_channels.c). A missing channel raises
        AriNotFound. `name` must be a plain header name (`config.models.readable_header`):
        `,` or `)` would change the function's arguments, a final `*` makes it a prefix.
        """
        if not readable_header(name):
            raise ValueError(f"not a SIP header name PJSIP_HEADER can read: {name!r}")
        try:
            value = await self.get_variable(channel_id, f"PJSIP_HEADER(read,{name})")
        except AriServerError as exc:
            if exc.status == 500 and "unable to read provided function" in exc.message.lower():
                return None
            raise
        return value or None

    async def snoop(
        self,
        channel_id: str,
        *,
        app: str,
        spy: SnoopDirection = "none",
        whisper: SnoopDirection = "none",
        app_args: Sequence[str] = (),
        snoop_id: str | None = None,
    ) -> Channel:
        """A Snoop channel on `channel_id`, in Stasis at once (its StasisStart can arrive
        before this answer [09]). It ends by itself when the spied channel hangs up."""
        params = {
            "spy": spy,
            "whisper": whisper,
            "app": app,
            "appArgs": ",".join(app_args) if app_args else None,
            "snoopId": snoop_id,
        }
        payload = await self.request("POST", ("channels", _seg(channel_id), "snoop"), params)
        return Channel.model_validate(payload)

    # --- bridges -------------------------------------------------------------------------

    async def list_bridges(self) -> list[Bridge]:
        return await self._get_models(Bridge, "bridges")

    async def get_bridge(self, bridge_id: str) -> Bridge:
        return await self._get_model(Bridge, "bridges", _seg(bridge_id))

    async def create_bridge(
        self, *, bridge_id: str | None = None, name: str | None = None, type: str = "mixing"
    ) -> Bridge:
        params = {"type": type, "bridgeId": bridge_id, "name": name}
        return Bridge.model_validate(await self.request("POST", ("bridges",), params))

    async def add_channels(self, bridge_id: str, channel_ids: Sequence[str]) -> None:
        await self.request(
            "POST", ("bridges", _seg(bridge_id), "addChannel"), {"channel": list(channel_ids)}
        )

    async def remove_channels(self, bridge_id: str, channel_ids: Sequence[str]) -> None:
        await self.request(
            "POST", ("bridges", _seg(bridge_id), "removeChannel"), {"channel": list(channel_ids)}
        )

    async def destroy_bridge(self, bridge_id: str) -> None:
        await self.request("DELETE", ("bridges", _seg(bridge_id)))

    async def start_bridge_moh(self, bridge_id: str, moh_class: str | None = None) -> None:
        await self.request("POST", ("bridges", _seg(bridge_id), "moh"), {"mohClass": moh_class})

    async def stop_bridge_moh(self, bridge_id: str) -> None:
        await self.request("DELETE", ("bridges", _seg(bridge_id), "moh"))

    async def record_bridge(
        self,
        bridge_id: str,
        *,
        name: str,
        format: str,
        if_exists: IfExists = "fail",
        max_duration_s: int | None = None,
        beep: bool | None = None,
    ) -> LiveRecording:
        """Record the bridge mix into `<spool>/recording/<name>.<format>`. The recording
        ends by itself when the last channel leaves the bridge [02]."""
        params = {
            "name": name,
            "format": format,
            "ifExists": if_exists,
            "maxDurationSeconds": max_duration_s,
            "beep": beep,
        }
        payload = await self.request("POST", ("bridges", _seg(bridge_id), "record"), params)
        return LiveRecording.model_validate(payload)

    # --- playbacks -----------------------------------------------------------------------

    async def get_playback(self, playback_id: str) -> Playback:
        return await self._get_model(Playback, "playbacks", _seg(playback_id))

    async def stop_playback(self, playback_id: str) -> None:
        # PlaybackFinished follows with state "done" [06].
        await self.request("DELETE", ("playbacks", _seg(playback_id)))

    # --- recordings ----------------------------------------------------------------------

    async def get_live_recording(self, name: str) -> LiveRecording:
        return await self._get_model(LiveRecording, "recordings", "live", _seg(name))

    async def stop_live_recording(self, name: str) -> None:
        await self.request("POST", ("recordings", "live", _seg(name), "stop"))

    async def list_stored_recordings(self) -> list[StoredRecording]:
        return await self._get_models(StoredRecording, "recordings", "stored")

    async def get_stored_recording(self, name: str) -> StoredRecording:
        return await self._get_model(StoredRecording, "recordings", "stored", _seg(name))

    # --- endpoints and device states -------------------------------------------------------

    async def list_endpoints(self, technology: str | None = None) -> list[Endpoint]:
        if technology is None:
            return await self._get_models(Endpoint, "endpoints")
        return await self._get_models(Endpoint, "endpoints", _seg(technology))

    async def get_endpoint(self, technology: str, resource: str) -> Endpoint:
        return await self._get_model(Endpoint, "endpoints", _seg(technology), _seg(resource))

    async def set_device_state(self, name: str, state: DeviceStateName) -> None:
        """Publish a `Stasis:<name>` device state (usable as a dialplan hint). The name
        must carry the `Stasis:` prefix, otherwise 409 [13]."""
        await self.request("PUT", ("deviceStates", _seg(name)), {"deviceState": state})
