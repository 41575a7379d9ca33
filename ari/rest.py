"""The ARI REST connection: authentication, requests, typed errors.

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

import asyncio
import base64
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import aiohttp
from pydantic import BaseModel
from yarl import URL

log = logging.getLogger("ari.client")  # the client's lines, whichever part sends

M = TypeVar("M", bound=BaseModel)

CONNECTIONS = 48  # at most, to one Asterisk (asterisk/http.conf allows 200 sessions)
RETRIES_S = (0.05, 0.2)  # a request the connection dropped before it was read: sent again

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


def segment(value: str) -> str:
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


class AriRest:
    """The connection to one Asterisk's ARI: session, authentication, one request."""

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
        # Per read, and for getting a connection (the pool's queue included): under load,
        # requests wait their turn instead of failing while Asterisk still answers others.
        self.timeout = aiohttp.ClientTimeout(total=None, connect=2 * timeout,
                                             sock_read=timeout)
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
                # Asterisk serves each HTTP session with a thread and refuses sessions past
                # http.conf's `sessionlimit`: stay well below it, as a session given up on
                # by a client lives on in Asterisk until its request is done.
                connector=aiohttp.TCPConnector(limit=CONNECTIONS),
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
        for retry_in in (*RETRIES_S, None):
            if self._closed:
                raise AriTransportError(method, path, None, "client closed")
            try:
                async with self.session.request(
                    method, url, params=query or None, json=body, headers=self.auth_headers
                ) as resp:
                    text = await resp.text()
                    status = resp.status
                break
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                # Closed before any answer ("Server disconnected", "Can not write request
                # body"): a kept-alive connection Asterisk had let go, or a session refused
                # at its `sessionlimit`. Not served, so sent again (one served twice would
                # be refused: an existing id). A refused connection: Asterisk is not there.
                unread = isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientOSError)
                if not unread or isinstance(exc, aiohttp.ClientConnectorError) \
                        or retry_in is None:
                    raise AriTransportError(method, path, None,
                                            f"{type(exc).__name__}: {exc}") from exc
                await asyncio.sleep(retry_in)
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
