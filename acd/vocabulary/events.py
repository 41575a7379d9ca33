"""Events: what the edges (Asterisk adapters, the simulator, the HTTP API) tell the core.

Each event is a small frozen value. Ids are strings chosen by the edge for calls (usually
the caller's channel id) and by the core for offers, so a late or duplicated event from
Asterisk can always be recognised as stale and ignored.
"""

from dataclasses import dataclass, field
from typing import Literal

from acd.vocabulary.tiers import Tier


@dataclass(frozen=True, slots=True)
class Ingress:
    """What arrived with a call, used to work out the caller's region."""

    trunk: str | None = None  # PJSIP endpoint (trunk) the call came in on
    did: str | None = None  # the dialled number / DID
    headers: tuple[tuple[str, str], ...] = ()  # SIP headers passed on by the dialplan

    def header(self, name: str) -> str | None:
        lname = name.lower()
        return next((v for k, v in self.headers if k.lower() == lname), None)


@dataclass(frozen=True, slots=True)
class CallArrived:
    call_id: str
    caller: str  # the caller's number as delivered (any format)
    ingress: Ingress = field(default_factory=Ingress)


@dataclass(frozen=True, slots=True)
class CallAdopted:
    """A call found in the Stasis app after acd117 restarted (or its connection to Asterisk
    came back and the call is unknown): its story, kept in channel variables, resumes.

    Waiting calls carry the tier they had reached and when they joined it, so deadlines
    stay what they were; a connected call carries its agent and the agent's device, a call
    handed to an outside number that answered carries that number's leg.
    """

    call_id: str
    caller: str
    ingress: Ingress
    arrived_at: float
    tier: Tier | None = None  # None: it was still hearing the welcome
    tier_since: float | None = None
    agent_id: str | None = None  # connected to this agent (with outside_leg: who had it)
    device: str | None = None
    answered_at: float | None = None
    outside_leg: str | None = None  # talking with the outside number handed the call


@dataclass(frozen=True, slots=True)
class PromptFinished:
    """A prompt played to a caller ended (or failed: a failed prompt must not stall a call)."""

    call_id: str
    prompt: str


@dataclass(frozen=True, slots=True)
class CallerHungUp:
    call_id: str


@dataclass(frozen=True, slots=True)
class CallHandedOff:
    """acd117 gave the call back to the dialplan's fallback (the national app_queue group)
    after a failure: someone else answers it, so it is neither answered nor abandoned here."""

    call_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class RingAnswered:
    """The agent picked up the phone rung for this offer."""

    offer_id: str


RingFailure = Literal["no_answer", "busy", "failed"]


@dataclass(frozen=True, slots=True)
class RingFailed:
    """The agent's phone could not be reached, was rejected, or rang out."""

    offer_id: str
    reason: RingFailure


@dataclass(frozen=True, slots=True)
class AgentHungUp:
    """The agent ended a connected call: the conversation is complete."""

    call_id: str


@dataclass(frozen=True, slots=True)
class PartyAgentHungUp:
    """Another centre's agent, rung for a consultation or conference on this call
    (`RingAgent.party`), hung up after answering."""

    call_id: str
    offer_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class HoldStarted:
    call_id: str


@dataclass(frozen=True, slots=True)
class HoldEnded:
    call_id: str


@dataclass(frozen=True, slots=True)
class TransferRequested:
    """The agent on a connected call hands it on to the transfer destination `code` (the
    phone's Transfer button, or the console)."""

    call_id: str
    agent_id: str
    code: str


@dataclass(frozen=True, slots=True)
class ConsultRequested:
    """The agent brings a destination into the call (a number, or an agent of another
    centre): a consultation (the caller on hold) or, with `conference`, a three-way
    call."""

    call_id: str
    agent_id: str
    code: str
    conference: bool = False


@dataclass(frozen=True, slots=True)
class ConsultEnded:
    """The agent completes a consultation (hands the caller to the number or the other
    centre's agent) or cancels it (the third party is hung up); either ends a
    conference's ringing or the third party."""

    call_id: str
    agent_id: str
    complete: bool


@dataclass(frozen=True, slots=True)
class HoldRequested:
    """The console's hold button: the caller hears music (on) or the agent again (off)."""

    call_id: str
    agent_id: str
    on: bool


@dataclass(frozen=True, slots=True)
class MuteRequested:
    """The console's mute button: the caller no longer hears the agent (on), or again."""

    call_id: str
    agent_id: str
    on: bool


@dataclass(frozen=True, slots=True)
class OutsideAnswered:
    """The outside number a call was transferred to (or that was consulted) answered."""

    leg_id: str


@dataclass(frozen=True, slots=True)
class OutsideFailed:
    """The outside number did not answer, was busy or could not be reached."""

    leg_id: str
    reason: RingFailure


@dataclass(frozen=True, slots=True)
class OutsideHungUp:
    """The outside party ended a call (or a consultation, a conference) it was in."""

    call_id: str


@dataclass(frozen=True, slots=True)
class AgentLoggedIn:
    """Free seating: an agent logs in at any device (an Asterisk dial string)."""

    agent_id: str
    device: str


@dataclass(frozen=True, slots=True)
class AgentLoginRestored:
    """acd117 restarted and this agent was logged in before it stopped (or crashed): they
    are logged in again at the same device, paused with `pause_reason` if they were paused,
    available otherwise (a call or wrap-up in progress is not restored: a connected call
    comes back with its adoption). The daemon reads who was logged in from the records
    (acd.store.logins); this event tells the core, before Asterisk is connected."""

    agent_id: str
    device: str
    pause_reason: str | None = None


@dataclass(frozen=True, slots=True)
class AgentLoggedOut:
    agent_id: str
    reason: str = "agent"  # agent, supervisor, device


@dataclass(frozen=True, slots=True)
class AgentPaused:
    agent_id: str
    reason: str  # an aux / reason code, e.g. "break", "briefing"


@dataclass(frozen=True, slots=True)
class AgentUnpaused:
    agent_id: str


@dataclass(frozen=True, slots=True)
class WrapUpDone:
    """The agent finished after-call work before the wrap-up time ran out."""

    agent_id: str


@dataclass(frozen=True, slots=True)
class CallClassified:
    """The agent classified the call they are on or wrapping up (the console's form);
    `ready`: and their wrap-up is over."""

    agent_id: str
    call_id: str
    code: str
    emergency_type: str | None = None
    place: str | None = None
    people_affected: int | None = None
    notes: str | None = None
    ready: bool = True


@dataclass(frozen=True, slots=True)
class NuisanceListed:
    """A supervisor put a number (E.164) on the nuisance list until `until` (epoch), or
    took it off (`until` None); at a restart, each listing still in force again."""

    number: str
    until: float | None


@dataclass(frozen=True, slots=True)
class DeviceStateChanged:
    """A phone registered (reachable) or went away (unregistered, unreachable)."""

    device: str
    reachable: bool


Event = (
    CallArrived
    | CallAdopted
    | PromptFinished
    | CallerHungUp
    | CallHandedOff
    | RingAnswered
    | RingFailed
    | AgentHungUp
    | PartyAgentHungUp
    | HoldStarted
    | HoldEnded
    | TransferRequested
    | ConsultRequested
    | ConsultEnded
    | HoldRequested
    | MuteRequested
    | OutsideAnswered
    | OutsideFailed
    | OutsideHungUp
    | AgentLoggedIn
    | AgentLoginRestored
    | AgentLoggedOut
    | AgentPaused
    | AgentUnpaused
    | WrapUpDone
    | CallClassified
    | NuisanceListed
    | DeviceStateChanged
)
