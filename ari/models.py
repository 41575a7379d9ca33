"""Pydantic models of the ARI resources and events acd117 uses.

Field names follow Asterisk's ARI documents (`channels.json`, `bridges.json`, `events.json`,
...). Models ignore fields they do not know (newer Asterisk versions add some) and only
insist on the fields acd117 reads; everything else has a default so that Asterisk 20,
which lacks e.g. `Channel.protocol_id` in early releases, parses as well as 22.

`parse_event` turns one websocket message into a model. An event of a type acd117 does not
handle gives `None`; a malformed one is logged and gives `None` as well, so a bad message
never stops the event loop.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

log = logging.getLogger(__name__)


class AriModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


# --- resources -------------------------------------------------------------------------


class CallerID(AriModel):
    name: str = ""
    number: str = ""


class DialplanCEP(AriModel):
    context: str = ""
    exten: str = ""
    priority: int = 0
    app_name: str = ""
    app_data: str = ""


class Channel(AriModel):
    id: str
    name: str
    state: str
    protocol_id: str = ""
    caller: CallerID = CallerID()
    connected: CallerID = CallerID()
    accountcode: str = ""
    dialplan: DialplanCEP = DialplanCEP()
    creationtime: str = ""
    language: str = ""
    channelvars: dict[str, Any] | None = None

    @property
    def device(self) -> str:
        """The dial string of the endpoint behind this channel.

        Channel names are `<tech>/<resource>-<8 hex digits>`: `PJSIP/1001-00000003`,
        `PJSIP/trunk-telkomsel-00000007` [14], `Local/1001@agents-00000001;2`.
        """
        base = self.name.split(";", 1)[0]
        head, sep, tail = base.rpartition("-")
        if sep and len(tail) == 8 and all(c in "0123456789abcdef" for c in tail):
            return head
        return base


class Bridge(AriModel):
    id: str
    technology: str = ""
    bridge_type: str = ""
    bridge_class: str = ""
    creator: str = ""
    name: str = ""
    channels: list[str] = Field(default_factory=list)
    creationtime: str = ""


class Playback(AriModel):
    id: str
    media_uri: str = ""
    next_media_uri: str | None = None
    target_uri: str = ""
    language: str | None = None
    state: str = ""


class LiveRecording(AriModel):
    name: str
    format: str = ""
    target_uri: str = ""
    state: str = ""
    duration: int | None = None
    talking_duration: int | None = None
    silence_duration: int | None = None
    cause: str | None = None


class StoredRecording(AriModel):
    name: str
    format: str = ""


class Application(AriModel):
    name: str
    channel_ids: list[str] = Field(default_factory=list)
    bridge_ids: list[str] = Field(default_factory=list)
    endpoint_ids: list[str] = Field(default_factory=list)
    device_names: list[str] = Field(default_factory=list)


class Endpoint(AriModel):
    technology: str
    resource: str
    state: str | None = None
    channel_ids: list[str] = Field(default_factory=list)


class DeviceState(AriModel):
    name: str
    state: str


class Variable(AriModel):
    value: str


class SystemInfo(AriModel):
    version: str = ""
    entity_id: str = ""


class StatusInfo(AriModel):
    startup_time: str = ""
    last_reload_time: str = ""


class AsteriskInfo(AriModel):
    system: SystemInfo | None = None
    status: StatusInfo | None = None


class ContactInfo(AriModel):
    uri: str
    contact_status: str
    aor: str = ""
    roundtrip_usec: str | None = None


class Peer(AriModel):
    peer_status: str
    cause: str | None = None
    address: str | None = None
    port: str | None = None


# --- events ----------------------------------------------------------------------------


class AriEvent(AriModel):
    type: str
    application: str = ""
    timestamp: str = ""
    asterisk_id: str | None = None


class StasisStart(AriEvent):
    type: Literal["StasisStart"]
    args: list[str] = Field(default_factory=list)
    channel: Channel
    replace_channel: Channel | None = None


class StasisEnd(AriEvent):
    type: Literal["StasisEnd"]
    channel: Channel


class ChannelDestroyed(AriEvent):
    type: Literal["ChannelDestroyed"]
    cause: int = 0
    cause_txt: str = ""
    tech_cause: int | None = None
    channel: Channel


class ChannelHangupRequest(AriEvent):
    # `cause` is absent when a SIP caller sent BYE [14]; after an ARI DELETE it is always
    # 32 whatever reason was given [03] - never use it for an outcome.
    type: Literal["ChannelHangupRequest"]
    cause: int | None = None
    tech_cause: int | None = None
    soft: bool | None = None
    channel: Channel


class ChannelStateChange(AriEvent):
    type: Literal["ChannelStateChange"]
    channel: Channel


class Dial(AriEvent):
    type: Literal["Dial"]
    caller: Channel | None = None
    peer: Channel
    forward: str | None = None
    dialstring: str | None = None
    dialstatus: str = ""


class ChannelDtmfReceived(AriEvent):
    type: Literal["ChannelDtmfReceived"]
    digit: str
    duration_ms: int = 0
    channel: Channel


class ChannelHold(AriEvent):
    type: Literal["ChannelHold"]
    channel: Channel
    musicclass: str | None = None


class ChannelUnhold(AriEvent):
    type: Literal["ChannelUnhold"]
    channel: Channel


class ChannelEnteredBridge(AriEvent):
    type: Literal["ChannelEnteredBridge"]
    bridge: Bridge
    channel: Channel | None = None


class ChannelLeftBridge(AriEvent):
    type: Literal["ChannelLeftBridge"]
    bridge: Bridge
    channel: Channel


class BridgeDestroyed(AriEvent):
    type: Literal["BridgeDestroyed"]
    bridge: Bridge


class PlaybackStarted(AriEvent):
    type: Literal["PlaybackStarted"]
    playback: Playback


class PlaybackContinuing(AriEvent):
    type: Literal["PlaybackContinuing"]
    playback: Playback


class PlaybackFinished(AriEvent):
    type: Literal["PlaybackFinished"]
    playback: Playback


class RecordingStarted(AriEvent):
    type: Literal["RecordingStarted"]
    recording: LiveRecording


class RecordingFinished(AriEvent):
    type: Literal["RecordingFinished"]
    recording: LiveRecording


class RecordingFailed(AriEvent):
    type: Literal["RecordingFailed"]
    recording: LiveRecording


class ReferParam(AriModel):
    parameter_name: str
    parameter_value: str


class ReferDestination(AriModel):
    destination: str = ""  # the user part of Refer-To: what a blind transfer dialled
    protocol_id: str = ""  # the SIP Call-ID its Replaces names: an attended transfer
    # An attended transfer's Replaces tags: `from` and `to`.
    additional_protocol_params: list[ReferParam] = Field(default_factory=list)


class ReferTo(AriModel):
    requested_destination: ReferDestination = ReferDestination()
    # An attended transfer whose Replaces names a dialog of this Asterisk: that dialog's
    # channel, and (when it is in a bridge) the bridge and its one peer in a two-party
    # bridge (res_pjsip_refer.c refer_incoming_ari_request, main/refer.c
    # ast_refer_notify_transfer_request). Absent when the dialog is not Asterisk's.
    destination_channel: Channel | None = None
    connected_channel: Channel | None = None
    bridge: Bridge | None = None


class ReferredBy(AriModel):
    source_channel: Channel
    connected_channel: Channel | None = None
    bridge: Bridge | None = None


class ChannelTransfer(AriEvent):
    """A phone's SIP REFER on a channel whose transfers acd117 handles
    (PJSIP_TRANSFER_HANDLING=ari-only, Asterisk >= 20.13/21.8/22.3)."""

    type: Literal["ChannelTransfer"]
    # Absent on the phone's request; after each transfer_progress acd117 sends, Asterisk
    # reports it back in another ChannelTransfer with that state (`channel_declined`, ...).
    state: str = ""
    refer_to: ReferTo = ReferTo()
    referred_by: ReferredBy

    @property
    def channel(self) -> Channel:
        return self.referred_by.source_channel


class ApplicationReplaced(AriEvent):
    type: Literal["ApplicationReplaced"]


class DeviceStateChanged(AriEvent):
    type: Literal["DeviceStateChanged"]
    device_state: DeviceState


class EndpointStateChange(AriEvent):
    type: Literal["EndpointStateChange"]
    endpoint: Endpoint


class ContactStatusChange(AriEvent):
    type: Literal["ContactStatusChange"]
    endpoint: Endpoint
    contact_info: ContactInfo


class PeerStatusChange(AriEvent):
    type: Literal["PeerStatusChange"]
    endpoint: Endpoint
    peer: Peer


# Every event type acd117 parses. Others (ChannelVarset, ChannelConnectedLine,
# ChannelDialplan, ChannelCreated, ...) are dropped before any parsing work.
EVENT_MODELS: dict[str, type[AriEvent]] = {
    "StasisStart": StasisStart,
    "StasisEnd": StasisEnd,
    "ChannelDestroyed": ChannelDestroyed,
    "ChannelHangupRequest": ChannelHangupRequest,
    "ChannelStateChange": ChannelStateChange,
    "Dial": Dial,
    "ChannelDtmfReceived": ChannelDtmfReceived,
    "ChannelHold": ChannelHold,
    "ChannelUnhold": ChannelUnhold,
    "ChannelEnteredBridge": ChannelEnteredBridge,
    "ChannelLeftBridge": ChannelLeftBridge,
    "BridgeDestroyed": BridgeDestroyed,
    "PlaybackStarted": PlaybackStarted,
    "PlaybackContinuing": PlaybackContinuing,
    "PlaybackFinished": PlaybackFinished,
    "RecordingStarted": RecordingStarted,
    "RecordingFinished": RecordingFinished,
    "RecordingFailed": RecordingFailed,
    "ChannelTransfer": ChannelTransfer,
    "ApplicationReplaced": ApplicationReplaced,
    "DeviceStateChanged": DeviceStateChanged,
    "EndpointStateChange": EndpointStateChange,
    "ContactStatusChange": ContactStatusChange,
    "PeerStatusChange": PeerStatusChange,
}


def parse_event(raw: Any, types: frozenset[str] | None = None) -> AriEvent | None:
    """The model for one websocket message, or None when it is unknown or malformed.

    `types` limits parsing to the event types the caller handles.
    """
    if not isinstance(raw, dict):
        log.warning("ari event is not a JSON object: %.200r", raw)
        return None
    kind = raw.get("type")
    if not isinstance(kind, str) or (types is not None and kind not in types):
        return None
    model = EVENT_MODELS.get(kind)
    if model is None:
        return None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        log.warning("malformed ari %s event skipped: %s", kind, exc.errors(include_url=False))
        return None


def parse_ari_time(value: str) -> float | None:
    """Epoch seconds of an ARI timestamp such as `2026-11-22T20:49:15.534+0000`."""
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(value, fmt).timestamp()
        except ValueError:
            continue
    return None
