"""Synthetic, realistic record streams for the store's tests and benchmark.

A call is what the routing core would emit for it: CallStarted, its tier hops (queued at
the caller's kabupaten/kota, sometimes escalated to the province and the national centre),
the offers to agents with their results, the agents' state changes, CallEnded, WrapUpEnded
and the recording's metadata. Seeded, so a failing test can be replayed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass

from acd.store.codec import StoreRecord
from acd.store.recordings import RecordingStored
from acd.vocabulary.records import (
    AgentStateChanged,
    CallEnded,
    CallStarted,
    Classification,
    OfferEnded,
    TierHop,
    WrapUpEnded,
)
from acd.vocabulary.tiers import Tier

# A few regencies/cities of Jawa Barat (32) and Jawa Tengah (33) with their provinces.
REGIONS = [("32.73", "32"), ("32.04", "32"), ("32.17", "32"), ("33.74", "33"), ("33.72", "33")]
NATIONAL_CENTRE = "bnpb"


@dataclass(frozen=True)
class Agent:
    agent_id: str
    centre_id: str
    tier: Tier
    device: str


def centre_of(tier: Tier, region: str, province: str) -> str:
    if tier is Tier.KABKOTA:
        return f"bpbd-{region}"
    if tier is Tier.PROVINCE:
        return f"bpbd-{province}"
    return NATIONAL_CENTRE


def make_agents(per_centre: int = 4) -> dict[str, list[Agent]]:
    centres: dict[str, Tier] = {}
    for region, province in REGIONS:
        centres[centre_of(Tier.KABKOTA, region, province)] = Tier.KABKOTA
        centres[centre_of(Tier.PROVINCE, region, province)] = Tier.PROVINCE
    centres[NATIONAL_CENTRE] = Tier.NATIONAL
    out: dict[str, list[Agent]] = {}
    n = 0
    for centre, tier in centres.items():
        out[centre] = []
        for _ in range(per_centre):
            n += 1
            out[centre].append(Agent(f"ag{n:04d}", centre, tier, f"PJSIP/desk{n:04d}"))
    return out


def logins(agents: dict[str, list[Agent]], at: float) -> list[StoreRecord]:
    return [
        AgentStateChanged(a.agent_id, a.centre_id, "available", None, a.device, at)
        for group in agents.values()
        for a in group
    ]


def logouts(agents: dict[str, list[Agent]], at: float) -> list[StoreRecord]:
    return [
        AgentStateChanged(a.agent_id, a.centre_id, "logged_out", "agent", a.device, at)
        for group in agents.values()
        for a in group
    ]


def call(
    rng: random.Random,
    n: int,
    arrived_at: float,
    agents: dict[str, list[Agent]],
    prefix: str = "",
) -> list[StoreRecord]:
    """Every record of one call, in the order the core emits them."""
    call_id = f"{prefix}c{n:08d}"
    region, province = rng.choice(REGIONS)
    number = f"+62812{rng.randrange(10**7):07d}"
    blocked = rng.random() < 0.02
    out: list[StoreRecord] = [
        CallStarted(
            call_id,
            number.replace("+62", "0"),
            number,
            "nuisance" if blocked else "standard",
            "mobile",
            1,
            region,
            "trunk",
            "117",
            "telkomsel-1",
            "117",
            arrived_at,
        )
    ]
    if blocked:
        out.append(
            CallEnded(
                call_id,
                "blocked",
                arrived_at,
                None,
                arrived_at + 0.5,
                Tier.KABKOTA,
                None,
                None,
                0.5,
                0.0,
                0.0,
                0,
            )
        )
        return out

    # Tier hops: arrival at the regency/city, escalation after 30 s (and 60 s more).
    hops = [(Tier.KABKOTA, "arrival", arrived_at)]
    r = rng.random()
    if r < 0.25:
        hops.append((Tier.PROVINCE, "timeout", arrived_at + 30.0))
        if r < 0.06:
            hops.append((Tier.NATIONAL, "timeout", arrived_at + 90.0))
    hop_records = [
        TierHop(call_id, tier, centre_of(tier, region, province), reason, at)
        for tier, reason, at in hops
    ]

    outcome = "answered" if rng.random() < 0.87 else "abandoned"
    last_tier, _, entered = hops[-1]
    centre = centre_of(last_tier, region, province)
    events: list[StoreRecord] = list(hop_records)
    t = entered + rng.uniform(0.5, 4.0)
    for k in range(rng.randint(0, 2)):  # offers that failed before the last one
        agent = rng.choice(agents[centre])
        offered, ended = t, t + rng.uniform(2.0, 8.0)
        result = rng.choice(["no_answer", "rejected"])
        events += [
            AgentStateChanged(
                agent.agent_id, centre, "ringing", None, agent.device, offered, call_id
            ),
            OfferEnded(
                f"{call_id}-o{k}",
                call_id,
                agent.agent_id,
                centre,
                last_tier,
                agent.device,
                offered,
                ended,
                result,
            ),
            AgentStateChanged(
                agent.agent_id, centre, "available", None, agent.device, ended, call_id
            ),
        ]
        t = ended + 0.2
    agent = rng.choice(agents[centre])
    if outcome == "answered":
        answered = t + rng.uniform(1.0, 6.0)
        talk = rng.uniform(30.0, 400.0)
        hold = rng.choice([0.0, 0.0, rng.uniform(5.0, 40.0)])
        ended_at = answered + talk
        wrap = rng.uniform(10.0, 90.0)
        events += [
            AgentStateChanged(agent.agent_id, centre, "ringing", None, agent.device, t, call_id),
            OfferEnded(
                f"{call_id}-o9",
                call_id,
                agent.agent_id,
                centre,
                last_tier,
                agent.device,
                t,
                answered,
                "answered",
            ),
            AgentStateChanged(
                agent.agent_id, centre, "on_call", None, agent.device, answered, call_id
            ),
            AgentStateChanged(
                agent.agent_id, centre, "after_call_work", None, agent.device, ended_at, call_id
            ),
            CallEnded(
                call_id,
                "answered",
                arrived_at,
                answered,
                ended_at,
                last_tier,
                centre,
                agent.agent_id,
                answered - arrived_at,
                talk,
                hold,
                len(hops) - 1,
            ),
            Classification(call_id, agent.agent_id, "emergency", ended_at + wrap / 2, "flood",
                           "Desa Sukamaju", rng.randrange(50), "air naik"),
            WrapUpEnded(call_id, agent.agent_id, wrap, ended_at + wrap),
            AgentStateChanged(
                agent.agent_id, centre, "available", None, agent.device, ended_at + wrap, call_id
            ),
            RecordingStored(
                call_id,
                agent.agent_id,
                centre,
                f"/var/spool/acd117/rec/{call_id}.wav",
                "wav",
                answered,
                talk,
                int(talk * 16000),
                hashlib.sha256(call_id.encode()).hexdigest(),
            ),
        ]
    else:
        ended_at = t + rng.uniform(1.0, 20.0)
        events.append(
            CallEnded(
                call_id,
                "abandoned",
                arrived_at,
                None,
                ended_at,
                last_tier,
                centre,
                None,
                ended_at - arrived_at,
                0.0,
                0.0,
                len(hops) - 1,
            )
        )
    return out + events


def stream(
    calls: int,
    seed: int = 117,
    start: float = 1_767_225_600.0,
    rate_per_s: float = 2.0,
    agents_per_centre: int = 4,
    prefix: str = "",
) -> Iterator[StoreRecord]:
    """Agents log in, `calls` calls arrive at `rate_per_s`, agents log out."""
    rng = random.Random(seed)
    agents = make_agents(agents_per_centre)
    yield from logins(agents, start - 60.0)
    t = start
    for n in range(calls):
        yield from call(rng, n, t, agents, prefix)
        t += rng.expovariate(rate_per_s)
    yield from logouts(agents, t + 3600.0)


# A fixed start and one answered call at the regency, for the tests of single rows.
T0 = 1_767_225_600.0  # 2026-01-01 00:00 UTC


def ts(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def a_call(call_id: str = "c1", at: float = T0 + 100.0) -> list:  # type: ignore[type-arg]
    return [
        CallStarted(
            call_id,
            "0812345678",
            "+62812345678",
            "standard",
            "mobile",
            1,
            "32.73",
            "trunk",
            "117",
            "telkomsel-1",
            "117",
            at,
        ),
        TierHop(call_id, Tier.KABKOTA, "bpbd-32.73", "arrival", at),
        OfferEnded(
            f"{call_id}-o1",
            call_id,
            "ag1",
            "bpbd-32.73",
            Tier.KABKOTA,
            "PJSIP/d1",
            at + 2,
            at + 8,
            "answered",
        ),
        CallEnded(
            call_id,
            "answered",
            at,
            at + 8,
            at + 128,
            Tier.KABKOTA,
            "bpbd-32.73",
            "ag1",
            8.0,
            120.0,
            10.0,
            0,
        ),
        WrapUpEnded(call_id, "ag1", 30.0, at + 158),
    ]
