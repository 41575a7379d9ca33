"""What the simulated Asterisk is made of: channels, bridges, playbacks, recordings,
endpoints, and the causes and time stamps Asterisk writes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

ASTERISK_ID = "02:fc:00:00:00:01"

P = dict[str, str]  # path parameters / query
B = dict[str, Any]  # JSON body
R = tuple[int, Any]  # status, JSON (or HTML text) body
Handler = Callable[[P, P, B], R]
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
    protocol_id: str = ""  # a PJSIP channel's SIP Call-ID, where a test needs one

    def snapshot(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "protocol_id": self.protocol_id,
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



@dataclass
class Failure:
    method: str
    path_end: str
    status: int
    message: str
    times: int


class HttpError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status = status
        self.body = body




def parse_caller_id(value: str) -> tuple[str, str]:
    """`"Budi Santoso" <+6281234567890>` -> (name, number)."""
    value = value.strip()
    if "<" in value and value.endswith(">"):
        name, _, number = value[:-1].rpartition("<")
        return name.strip().strip('"'), number.strip()
    return "", value

