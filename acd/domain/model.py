"""The core's mutable state: calls, agents and offers. Only `acd.domain.core.Acd` changes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from acd.vocabulary.records import TransferMode
from acd.vocabulary.tiers import Tier
from escalation.policy import Step

QueueKey = tuple[str, str]  # (centre id, service)


class CallState(StrEnum):
    ANNOUNCING = "announcing"  # answered, hearing the welcome (or nuisance) prompt
    QUEUED = "queued"  # waiting for an agent at one or more tiers
    OFFERED = "offered"  # an agent's phone is ringing (several with ring-all)
    CONNECTED = "connected"
    OUTSIDE = "outside"  # transferred to an outside number: ringing it, or connected to it
    ENDED = "ended"


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    AFTER_CALL_WORK = "after_call_work"
    PAUSED = "paused"


@dataclass(frozen=True, slots=True)
class Hop:
    tier: Tier
    centre_id: str
    at: float
    reason: str


@dataclass(slots=True, eq=False)
class OutsideTransfer:
    """A call handed to an outside number, while it rings and once it answered."""

    leg_id: str
    code: str
    number: str
    agent_id: str
    from_centre: str | None
    requested_at: float
    connected: bool = False
    mode: TransferMode = "blind"


@dataclass(slots=True, eq=False)
class AgentParty:
    """An agent of another centre consulted or conferenced on a connected call: rung as an
    offer of that centre's queue (one agent at a time, each at most once), then talking
    with the call's agent (and the caller, in a conference). Completed, the call is theirs
    and its story goes on at their centre."""

    code: str
    centre_id: str
    queue: QueueKey
    agent_id: str  # the agent who asked
    from_centre: str | None
    requested_at: float
    mode: TransferMode
    offer: Offer | None = None  # the agent there, ringing or (connected) talking
    connected: bool = False
    tried: set[str] = field(default_factory=set)


@dataclass(slots=True, eq=False)
class Call:
    id: str
    caller: str
    caller_e164: str | None
    caller_class: str
    priority: int
    nuisance: bool
    region: str
    region_name: str
    service: str
    arrived_at: float
    seq: int  # arrival order: FIFO within a priority class
    line_type: str = "unknown"  # mobile, fixed or unknown (acd.domain.callers)
    region_source: str = ""  # how the region was found: an ingress rule, "area_code:22", ...
    state: CallState = CallState.ANNOUNCING
    step: int = -1  # index into the call's tier ladder; -1 while announcing
    queues: list[QueueKey] = field(default_factory=list)  # lowest tier first
    hops: list[Hop] = field(default_factory=list)
    deadline: float | None = None  # escalation deadline at the current tier
    # Bumped whenever the call joins a tier (climb, re-adoption, transfer) or starts
    # waiting: its escalation and prompt timers from before are then stale.
    tier_token: int = 0
    wait_token: int = 0
    queue_token: int = 0  # bumped whenever the call leaves or re-enters waiting
    offers: set[str] = field(default_factory=set)  # pending offer ids
    missed: set[str] = field(default_factory=set)  # agents who let it ring out or rejected it
    answered_at: float | None = None  # the first answer (a transferred call is answered again)
    answers: int = 0
    agent_id: str | None = None
    hold_started: float | None = None
    hold_s: float = 0.0
    mute_started: float | None = None  # the agent muted from the console
    mute_s: float = 0.0
    prompt: str | None = None  # the prompt heard while announcing
    # Queued while the welcome still plays: offered only where the queue rings during it.
    welcome_playing: bool = False
    answered_queue: QueueKey | None = None
    # The tier ladder as it was when the call arrived: a config reload changes the ladder
    # of later calls, never the steps (indexed by `step`) of a call in flight.
    ladder: tuple[Step, ...] = ()
    outside: OutsideTransfer | None = None  # handed to a number (state OUTSIDE)
    # A third party consulted or conferenced (CONNECTED): a number or another centre's agent.
    party: OutsideTransfer | AgentParty | None = None
    refused_at: float | None = None  # the agent's last transfer was refused then

    @property
    def centre_id(self) -> str | None:
        """The answering centre."""
        return self.answered_queue[0] if self.answered_queue else None


@dataclass(slots=True, eq=False)
class Agent:
    id: str
    centre_id: str
    skills: dict[str, int]
    queues: tuple[QueueKey, ...]  # queues at the agent's centre whose skills they meet
    state: AgentState = AgentState.LOGGED_OUT
    device: str | None = None
    token: int = 0  # bumped on every change; stale index entries and timers see it
    idle_since: float = 0.0
    calls_answered: int = 0
    last_offer_seq: int = 0
    call_id: str | None = None  # the call ringing, connected or in wrap-up
    offer_id: str | None = None
    pause_reason: str | None = None
    pending: str | None = None  # "logout" or "pause:<reason>" once the current call is done
    logout_reason: str = "agent"  # of a pending logout: who asked (agent, supervisor, ...)
    state_since: float = 0.0
    classified_call: str | None = None  # the call the agent last classified
    wrap_up_until: float = 0.0  # when the wrap-up time of the last call runs out


@dataclass(slots=True, eq=False)
class Offer:
    id: str
    call_id: str
    agent_id: str
    queue: QueueKey
    tier: Tier
    device: str
    at: float
