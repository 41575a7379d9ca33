"""A small typed aiohttp client for the ARI REST endpoints acd117 uses.

The connection and the typed errors are in `ari.rest`, the channel requests in
`ari.channels`; here the rest: applications, bridges, playbacks, recordings, endpoints
and device states. Every request this module can send is checked against Asterisk's ARI
documents by the test peer (`tests/fakes/asterisk`).
"""

from __future__ import annotations

from collections.abc import Sequence

from ari.channels import ChannelRequests
from ari.models import (
    Application,
    AsteriskInfo,
    Bridge,
    Endpoint,
    LiveRecording,
    Playback,
    StoredRecording,
)
from ari.rest import (
    AllocationFailed,
    AriBadRequest,
    AriConflict,
    AriError,
    AriNotFound,
    AriPreconditionFailed,
    AriServerError,
    AriTransportError,
    AriUnauthorized,
    AriUnavailable,
    AriUnprocessable,
    DeviceStateName,
    HangupReason,
    IfExists,
    SnoopDirection,
    VariablesUnsupported,
    segment,
)

__all__ = [
    "AllocationFailed", "AriBadRequest", "AriClient", "AriConflict", "AriError", "AriNotFound",
    "AriPreconditionFailed", "AriServerError", "AriTransportError", "AriUnauthorized",
    "AriUnavailable", "AriUnprocessable", "DeviceStateName", "HangupReason", "IfExists",
    "SnoopDirection", "VariablesUnsupported",
]


class AriClient(ChannelRequests):
    """REST client for one Asterisk. Create it inside the running event loop."""

        # --- asterisk ----------------------------------------------------------------------

    async def asterisk_info(self) -> AsteriskInfo:
        return await self._get_model(AsteriskInfo, "asterisk", "info")

    # --- applications --------------------------------------------------------------------

    async def list_applications(self) -> list[Application]:
        return await self._get_models(Application, "applications")

    async def get_application(self, app: str) -> Application:
        return await self._get_model(Application, "applications", segment(app))

    async def subscribe(self, app: str, sources: Sequence[str]) -> Application:
        payload = await self.request(
            "POST", ("applications", segment(app), "subscription"), {"eventSource": list(sources)}
        )
        return Application.model_validate(payload)

    async def unsubscribe(self, app: str, sources: Sequence[str]) -> Application:
        payload = await self.request(
            "DELETE", ("applications", segment(app), "subscription"), {"eventSource": list(sources)}
        )
        return Application.model_validate(payload)

    # --- bridges -------------------------------------------------------------------------

    async def list_bridges(self) -> list[Bridge]:
        return await self._get_models(Bridge, "bridges")

    async def get_bridge(self, bridge_id: str) -> Bridge:
        return await self._get_model(Bridge, "bridges", segment(bridge_id))

    async def create_bridge(
        self, *, bridge_id: str | None = None, name: str | None = None, type: str = "mixing"
    ) -> Bridge:
        params = {"type": type, "bridgeId": bridge_id, "name": name}
        return Bridge.model_validate(await self.request("POST", ("bridges",), params))

    async def add_channels(self, bridge_id: str, channel_ids: Sequence[str]) -> None:
        await self.request(
            "POST", ("bridges", segment(bridge_id), "addChannel"), {"channel": list(channel_ids)}
        )

    async def remove_channels(self, bridge_id: str, channel_ids: Sequence[str]) -> None:
        await self.request(
            "POST", ("bridges", segment(bridge_id), "removeChannel"), {"channel": list(channel_ids)}
        )

    async def destroy_bridge(self, bridge_id: str) -> None:
        await self.request("DELETE", ("bridges", segment(bridge_id)))

    async def start_bridge_moh(self, bridge_id: str, moh_class: str | None = None) -> None:
        await self.request("POST", ("bridges", segment(bridge_id), "moh"), {"mohClass": moh_class})

    async def stop_bridge_moh(self, bridge_id: str) -> None:
        await self.request("DELETE", ("bridges", segment(bridge_id), "moh"))

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
        payload = await self.request("POST", ("bridges", segment(bridge_id), "record"), params)
        return LiveRecording.model_validate(payload)

    # --- playbacks -----------------------------------------------------------------------

    async def get_playback(self, playback_id: str) -> Playback:
        return await self._get_model(Playback, "playbacks", segment(playback_id))

    async def stop_playback(self, playback_id: str) -> None:
        # PlaybackFinished follows with state "done" [06].
        await self.request("DELETE", ("playbacks", segment(playback_id)))

    # --- recordings ----------------------------------------------------------------------

    async def get_live_recording(self, name: str) -> LiveRecording:
        return await self._get_model(LiveRecording, "recordings", "live", segment(name))

    async def stop_live_recording(self, name: str) -> None:
        await self.request("POST", ("recordings", "live", segment(name), "stop"))

    async def list_stored_recordings(self) -> list[StoredRecording]:
        return await self._get_models(StoredRecording, "recordings", "stored")

    async def get_stored_recording(self, name: str) -> StoredRecording:
        return await self._get_model(StoredRecording, "recordings", "stored", segment(name))

    # --- endpoints and device states -------------------------------------------------------

    async def list_endpoints(self, technology: str | None = None) -> list[Endpoint]:
        if technology is None:
            return await self._get_models(Endpoint, "endpoints")
        return await self._get_models(Endpoint, "endpoints", segment(technology))

    async def get_endpoint(self, technology: str, resource: str) -> Endpoint:
        return await self._get_model(Endpoint, "endpoints", segment(technology), segment(resource))

    async def set_device_state(self, name: str, state: DeviceStateName) -> None:
        """Publish a `Stasis:<name>` device state (usable as a dialplan hint). The name
        must carry the `Stasis:` prefix, otherwise 409 [13]."""
        await self.request("PUT", ("deviceStates", segment(name)), {"deviceState": state})
