"""Records: facts the core reports for the CDR, agent-state and statistics store.

They are emitted alongside commands, in the order things happened, and carry everything
the writer needs so that it never has to look at core state. Times are epoch seconds.
A record is identified by its natural key (call id, offer id, agent id + time) so a writer
can store it idempotently.
"""

from dataclasses import dataclass
from typing import Literal

from acd.vocabulary.tiers import Tier

# handed_off: given back to the dialplan's fallback queue after a failure in acd117.
Outcome = Literal["answered", "abandoned", "blocked", "handed_off"]
OfferResult = Literal["answered", "no_answer", "rejected", "failed", "cancelled"]
# transfer: an agent handed the call to that centre; transfer_failed: back from an outside
# number that did not answer.
HopReason = Literal["arrival", "timeout", "unstaffed", "closed", "no_centre", "transfer",
                    "transfer_failed"]
# queued: waiting at the destination centre; connected: the outside number answered;
# failed: it did not (the call came back); abandoned: the caller left before either;
# refused: not a destination, or it could not take the call (the call stayed);
# cancelled: the agent took a consultation or conference back (or hung up while it rang).
TransferResult = Literal["queued", "connected", "failed", "abandoned", "refused",
                         "cancelled"]
TransferKind = Literal["centre", "number"]
# blind: handed on at once; attended: the agent talked to the number first (a consult);
# conference: the number joined the caller and the agent.
TransferMode = Literal["blind", "attended", "conference"]


@dataclass(frozen=True, slots=True)
class CallStarted:
    call_id: str
    caller: str  # as delivered
    caller_e164: str | None  # None when the number could not be parsed
    caller_class: str  # priority class name, "nuisance" for a listed nuisance number
    line_type: str  # mobile, fixed, unknown
    priority: int  # 0 is served first
    region_code: str
    region_source: str  # which ingress rule (or fallback) gave the region
    service: str
    trunk: str | None
    did: str | None
    arrived_at: float


@dataclass(frozen=True, slots=True)
class TierHop:
    """The call was queued at a tier (on arrival) or escalated to it."""

    call_id: str
    tier: Tier
    centre_id: str
    reason: HopReason
    at: float


@dataclass(frozen=True, slots=True)
class OfferEnded:
    offer_id: str
    call_id: str
    agent_id: str
    centre_id: str
    tier: Tier
    device: str
    offered_at: float
    ended_at: float
    result: OfferResult


AgentStateName = Literal[
    "logged_out", "available", "ringing", "on_call", "on_hold", "after_call_work", "paused"
]


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    agent_id: str
    centre_id: str
    state: AgentStateName
    reason: str | None  # pause reason code, logout reason
    device: str | None
    at: float
    call_id: str | None = None


@dataclass(frozen=True, slots=True)
class CallEnded:
    call_id: str
    outcome: Outcome
    arrived_at: float
    answered_at: float | None
    ended_at: float
    tier: Tier  # the highest tier the call reached
    centre_id: str | None  # answering centre, or the last centre it waited at
    agent_id: str | None
    wait_s: float  # arrival to answer (or to hang-up when unanswered)
    talk_s: float  # answer to end, hold included
    hold_s: float
    escalations: int
    answered_tier: Tier | None = None  # with `widen` a lower tier may answer after escalation
    mute_s: float = 0.0  # the agents' microphones muted from the console


@dataclass(frozen=True, slots=True)
class CallTransferred:
    """An agent handed a call on (one record per transfer, written when its result is
    known). `target` is the centre id or the number dialled."""

    call_id: str
    agent_id: str
    from_centre: str | None
    code: str
    kind: TransferKind
    target: str
    requested_at: float
    result: TransferResult
    at: float
    mode: TransferMode = "blind"


@dataclass(frozen=True, slots=True)
class WrapUpEnded:
    call_id: str
    agent_id: str
    wrap_up_s: float
    at: float


@dataclass(frozen=True, slots=True)
class Classification:
    """What the agent who took the call says it was (`wrapup:` codes of the call flows);
    given again, the later one stands."""

    call_id: str
    agent_id: str
    code: str
    at: float
    emergency_type: str | None = None
    place: str | None = None
    people_affected: int | None = None
    notes: str | None = None


Record = (CallStarted | TierHop | OfferEnded | AgentStateChanged | CallEnded | CallTransferred
          | WrapUpEnded | Classification)
