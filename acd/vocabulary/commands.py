"""Commands: what the core asks the telephony edge to do.

The adapters turn each into Asterisk requests (the simulator into virtual actions). While a
call waits between prompts the adapter keeps music on hold going on the caller's channel;
that is transport detail, not a decision, so it has no command of its own.
"""

from dataclasses import dataclass
from typing import Literal

from acd.vocabulary.tiers import Tier


@dataclass(frozen=True, slots=True)
class Answer:
    call_id: str


@dataclass(frozen=True, slots=True)
class PlayPrompt:
    """Play a named prompt from the announcements config; `number` is said after it."""

    call_id: str
    prompt: str
    number: int | None = None


@dataclass(frozen=True, slots=True)
class RingAgent:
    """Ring an agent's device for a call. The agent's display shows caller and region."""

    call_id: str
    offer_id: str
    agent_id: str
    device: str
    caller: str
    region_code: str
    region_name: str
    tier: Tier
    timeout_s: float
    # Rung to be consulted (or conferenced) by the call's agent, not to take the call:
    # its hang-up is the third party's, until the call is handed to it (`LeaveCall`).
    party: bool = False


StopReason = Literal["answered_elsewhere", "no_answer", "caller_left", "logged_out",
                     "cancelled"]


@dataclass(frozen=True, slots=True)
class StopRinging:
    offer_id: str
    reason: StopReason


@dataclass(frozen=True, slots=True)
class Bridge:
    """Connect the caller with the agent leg that answered this offer."""

    call_id: str
    offer_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class StartRecording:
    call_id: str
    name: str  # file name without extension, derived from the call id
    format: str
    agent_id: str
    centre_id: str
    tier: Tier


@dataclass(frozen=True, slots=True)
class HangUp:
    """End one leg of a call whose other side already ended the conversation."""

    call_id: str
    leg: Literal["caller", "agent", "outside"]


@dataclass(frozen=True, slots=True)
class Requeue:
    """The connected agent handed the call on: release the agent's leg (telling a phone
    that asked with its Transfer button that the transfer went through) and let the caller
    wait again, hearing music on hold; the recording carries on."""

    call_id: str


@dataclass(frozen=True, slots=True)
class TransferRefused:
    """A transfer the agent asked for cannot be made: the call stays with the agent."""

    call_id: str
    agent_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class DialOut:
    """Ring an outside number (`dial`: an Asterisk dial string) for a waiting caller."""

    call_id: str
    leg_id: str
    dial: str
    caller: str
    timeout_s: float


@dataclass(frozen=True, slots=True)
class ConnectOutside:
    """Put the outside leg that answered into the call: with the caller (a transfer), or
    with whoever is in the call now (a consultation: the agent; a conference: both)."""

    call_id: str
    leg_id: str
    with_caller: bool = True


@dataclass(frozen=True, slots=True)
class HoldCaller:
    """The caller waits on music, out of the conversation (hold, a consultation)."""

    call_id: str


@dataclass(frozen=True, slots=True)
class ResumeCaller:
    call_id: str


@dataclass(frozen=True, slots=True)
class JoinCall:
    """Put the agent leg of a third party (another centre's agent who answered a
    consultation or conference) into the call, with whoever is in it now."""

    call_id: str
    offer_id: str


@dataclass(frozen=True, slots=True)
class LeaveCall:
    """The agent's leg leaves a call that goes on without them: to the number they
    consulted or conferenced, or (`to_offer`) to the agent of that offer, who now has the
    call."""

    call_id: str
    to_offer: str | None = None


@dataclass(frozen=True, slots=True)
class MuteAgent:
    """The caller stops hearing the agent (on), or hears them again."""

    call_id: str
    on: bool


@dataclass(frozen=True, slots=True)
class Fallback:
    """Send the caller back to the dialplan's fallback (a national app_queue group).

    The core never decides this; the daemon does when the core or an adapter failed on a
    call, so that no caller is ever left stuck in acd117."""

    call_id: str
    reason: str


Command = (Answer | PlayPrompt | RingAgent | StopRinging | Bridge | StartRecording | HangUp
           | Requeue | TransferRefused | DialOut | ConnectOutside | HoldCaller | ResumeCaller
           | JoinCall | LeaveCall | MuteAgent | Fallback)
