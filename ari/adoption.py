"""Calls that outlive acd117: what is kept on the caller's channel, and how it comes back.

Asterisk keeps a call in Stasis, in its bridge, while acd117 is away (websocket closed or
the daemon restarted [07]). acd117 keeps the core's per-call facts in channel variables so
that a new process can carry on with the original arrival time, tier and deadline:

    command  SaveCallFacts   core -> adapter   whenever a call is queued or escalated
    event    CallReadopted   adapter -> core   for each call found in Stasis at resync

Neither exists in `acd.commands` / `acd.events` yet; they are defined here, and the
adapters accept and emit them (`AdapterCommand`, `AdapterEvent`).

Variables (all strings; an empty value is the same as unset in Asterisk [10]):

| variable             | on        | value                                  | set by         |
|----------------------|-----------|----------------------------------------|----------------|
| ACD117_ARRIVED_AT    | caller    | epoch seconds when the call arrived    | SaveCallFacts  |
| ACD117_TIER          | caller    | kabkota / province / national          | SaveCallFacts  |
| ACD117_TIER_DEADLINE | caller    | epoch s when it leaves the tier        | SaveCallFacts  |
| ACD117_REGION        | caller    | Kemendagri code, e.g. 32.73            | SaveCallFacts  |
| ACD117_CENTRE        | caller    | centre id the call waits at            | SaveCallFacts  |
| ACD117_PRIORITY      | caller    | priority class, 0 first                | SaveCallFacts  |
| ACD117_RECORDING     | caller    | name of the bridge recording           | StartRecording |
| ACD117_CALL_ID       | agent leg | call id the leg was rung for           | RingAgent      |
| ACD117_AGENT_ID      | agent leg | agent id                               | RingAgent      |

Agent legs are also recognisable from their Stasis arguments once answered
(`agent,<call_id>,<agent_id>`, visible as `dialplan.app_data` in GET /channels), and their
channel id is the offer id.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from acd.commands import Command
from acd.events import Event, Ingress
from acd.tiers import Tier

ARRIVED_AT_VAR = "ACD117_ARRIVED_AT"
TIER_VAR = "ACD117_TIER"
TIER_DEADLINE_VAR = "ACD117_TIER_DEADLINE"
REGION_VAR = "ACD117_REGION"
CENTRE_VAR = "ACD117_CENTRE"
PRIORITY_VAR = "ACD117_PRIORITY"
RECORDING_VAR = "ACD117_RECORDING"
AGENT_CALL_ID_VAR = "ACD117_CALL_ID"
AGENT_ID_VAR = "ACD117_AGENT_ID"

CALL_FACT_VARS = (
    ARRIVED_AT_VAR,
    TIER_VAR,
    TIER_DEADLINE_VAR,
    REGION_VAR,
    CENTRE_VAR,
    PRIORITY_VAR,
    RECORDING_VAR,
)


@dataclass(frozen=True, slots=True)
class SaveCallFacts:
    """Command: keep what the core needs to re-adopt this call on its channel."""

    call_id: str
    arrived_at: float
    tier: Tier
    tier_deadline: float | None  # epoch s when the call leaves this tier; None: never
    region_code: str | None = None
    centre_id: str | None = None
    priority: int | None = None

    def variables(self) -> dict[str, str]:
        return {
            ARRIVED_AT_VAR: f"{self.arrived_at:.3f}",
            TIER_VAR: self.tier.value,
            TIER_DEADLINE_VAR: "" if self.tier_deadline is None else f"{self.tier_deadline:.3f}",
            REGION_VAR: self.region_code or "",
            CENTRE_VAR: self.centre_id or "",
            PRIORITY_VAR: "" if self.priority is None else str(self.priority),
        }


@dataclass(frozen=True, slots=True)
class ConnectedAgent:
    """The agent leg a re-adopted call is bridged with."""

    offer_id: str  # = the agent leg's channel id
    agent_id: str
    device: str


@dataclass(frozen=True, slots=True)
class CallReadopted:
    """Event: a call found in Stasis after a restart or reconnect that acd117 did not know.

    `tier` is None when the core never saved facts for it (it crashed before queuing the
    call, or the call arrived during the reconnect): treat it as a new arrival at
    `arrived_at`. With `agent` set the call is connected and talking; otherwise it waits
    (queued at `tier` until `tier_deadline`).
    """

    call_id: str
    caller: str
    ingress: Ingress
    arrived_at: float
    tier: Tier | None
    tier_deadline: float | None
    region_code: str | None
    centre_id: str | None
    priority: int | None
    agent: ConnectedAgent | None = None
    recording: str | None = None


AdapterCommand = Command | SaveCallFacts
AdapterEvent = Event | CallReadopted


def _float(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class KeptFacts:
    """What was found in a caller channel's variables (None: not set)."""

    arrived_at: float | None = None
    tier: Tier | None = None
    tier_deadline: float | None = None
    region_code: str | None = None
    centre_id: str | None = None
    priority: int | None = None
    recording: str | None = None


def facts_from_variables(values: dict[str, str | None]) -> KeptFacts:
    """The facts kept in `values` (variable name -> value or None); bad values -> None."""
    tier: Tier | None = None
    raw_tier = values.get(TIER_VAR)
    if raw_tier:
        with contextlib.suppress(ValueError):
            tier = Tier(raw_tier)
    priority: int | None = None
    raw_priority = values.get(PRIORITY_VAR)
    if raw_priority:
        with contextlib.suppress(ValueError):
            priority = int(raw_priority)
    return KeptFacts(
        arrived_at=_float(values.get(ARRIVED_AT_VAR)),
        tier=tier,
        tier_deadline=_float(values.get(TIER_DEADLINE_VAR)),
        region_code=values.get(REGION_VAR) or None,
        centre_id=values.get(CENTRE_VAR) or None,
        priority=priority,
        recording=values.get(RECORDING_VAR) or None,
    )
