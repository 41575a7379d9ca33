"""Calls that outlive acd117: what is kept on the caller's channel, and how it comes back.

Asterisk keeps a call in Stasis, in its bridge, while acd117 is away (websocket closed or
the daemon restarted [07]). acd117 keeps what the core needs to resume the call in channel
variables; at the next resync the Stasis adapter finds the call and emits
`acd.vocabulary.events.CallAdopted` with the original arrival time, the tier the call had reached
and since when (so deadlines stay what they were), or the agent it is connected to.

The adapter writes what it knows itself (arrival, answer, recording). The tier comes from
the core through one command that `acd.vocabulary.commands` does not have yet:

    SaveCallFacts(call_id, tier, tier_since)     core (or daemon) -> adapter

The daemon can make it from the core's `records.TierHop` (`SaveCallFacts.from_tier_hop`),
which the core emits whenever a call is queued at a tier or escalated.

Variables (strings; an empty value is the same as unset in Asterisk [10]):

| variable           | on        | value                                   | written on       |
|--------------------|-----------|-----------------------------------------|------------------|
| ACD117_ARRIVED_AT  | caller    | epoch s of StasisStart                  | first facts      |
| ACD117_TIER        | caller    | kabkota / province / national           | SaveCallFacts    |
| ACD117_TIER_SINCE  | caller    | epoch s the call joined that tier       | SaveCallFacts    |
| ACD117_ANSWERED_AT | caller    | epoch s the agent answered              | Bridge           |
| ACD117_ANSWERED_BY | caller    | the agent who answered (the CDR's, once | Bridge           |
|                    |           | the call was handed to a number)        |                  |
| ACD117_RECORDING   | caller    | name of the bridge recording            | StartRecording   |
| ACD117_CALL_ID     | agent leg | call id the leg was rung for            | RingAgent        |
| ACD117_AGENT_ID    | agent leg | agent id                                | RingAgent        |

An answered agent leg is also recognisable from its Stasis arguments
(`agent,<call_id>,<agent_id>`, the `dialplan.app_data` of GET /channels); its channel id
is the offer id.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from acd.vocabulary.commands import Command
from acd.vocabulary.events import Event
from acd.vocabulary.records import TierHop
from acd.vocabulary.tiers import Tier

ARRIVED_AT_VAR = "ACD117_ARRIVED_AT"
TIER_VAR = "ACD117_TIER"
TIER_SINCE_VAR = "ACD117_TIER_SINCE"
ANSWERED_AT_VAR = "ACD117_ANSWERED_AT"
ANSWERED_BY_VAR = "ACD117_ANSWERED_BY"
RECORDING_VAR = "ACD117_RECORDING"
AGENT_CALL_ID_VAR = "ACD117_CALL_ID"
AGENT_ID_VAR = "ACD117_AGENT_ID"

CALL_FACT_VARS = (ARRIVED_AT_VAR, TIER_VAR, TIER_SINCE_VAR, ANSWERED_AT_VAR, ANSWERED_BY_VAR,
                  RECORDING_VAR)


@dataclass(frozen=True, slots=True)
class SaveCallFacts:
    """Command: the call now waits at `tier`, which it joined at `tier_since` (epoch s)."""

    call_id: str
    tier: Tier
    tier_since: float

    @classmethod
    def from_tier_hop(cls, hop: TierHop) -> SaveCallFacts:
        return cls(hop.call_id, hop.tier, hop.at)

    def variables(self) -> dict[str, str]:
        return {TIER_VAR: self.tier.value, TIER_SINCE_VAR: epoch(self.tier_since)}


AdapterCommand = Command | SaveCallFacts
AdapterEvent = Event


def epoch(value: float) -> str:
    return f"{value:.3f}"


@dataclass(frozen=True, slots=True)
class KeptFacts:
    """What was found in a caller channel's variables (None: not set or unreadable)."""

    arrived_at: float | None = None
    tier: Tier | None = None
    tier_since: float | None = None
    answered_at: float | None = None
    answered_by: str | None = None
    recording: str | None = None


def _float(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def facts_from_variables(values: dict[str, str | None]) -> KeptFacts:
    """The facts kept in `values` (variable name -> value or None); bad values -> None."""
    tier: Tier | None = None
    raw_tier = values.get(TIER_VAR)
    if raw_tier:
        with contextlib.suppress(ValueError):
            tier = Tier(raw_tier)
    return KeptFacts(
        arrived_at=_float(values.get(ARRIVED_AT_VAR)),
        tier=tier,
        tier_since=_float(values.get(TIER_SINCE_VAR)),
        answered_at=_float(values.get(ANSWERED_AT_VAR)),
        answered_by=values.get(ANSWERED_BY_VAR) or None,
        recording=values.get(RECORDING_VAR) or None,
    )
