"""What a call's steps and an agent's day become in PostgreSQL: tier hops and offers with their
times, the tier an escalated call counts at, agent sessions, refused offers, recordings
found by number, date, agent and centre, transfers, corrected classifications and the mute
time."""

from __future__ import annotations

import dataclasses

import asyncpg

from acd.store.recordings import RecordingStored
from acd.vocabulary.records import (
    AgentStateChanged,
    CallEnded,
    CallStarted,
    CallTransferred,
    Classification,
    OfferEnded,
    TierHop,
)
from acd.vocabulary.tiers import Tier
from tests.store.db import counts, write
from tests.store.streams import T0, a_call, ts


async def test_tier_hops_and_offers_keep_every_step_with_its_time(migrated_dsn: str) -> None:
    at = T0 + 500
    records = [
        TierHop("c9", Tier.KABKOTA, "bpbd-32.73", "arrival", at),
        OfferEnded(
            "o1", "c9", "ag1", "bpbd-32.73", Tier.KABKOTA, "PJSIP/d1", at + 1, at + 16, "no_answer"
        ),
        TierHop("c9", Tier.PROVINCE, "bpbd-32", "timeout", at + 30),
        OfferEnded(
            "o2", "c9", "ag7", "bpbd-32", Tier.PROVINCE, "PJSIP/d7", at + 31, at + 33, "rejected"
        ),
        TierHop("c9", Tier.NATIONAL, "bnpb", "timeout", at + 90),
        OfferEnded(
            "o3", "c9", "ag9", "bnpb", Tier.NATIONAL, "PJSIP/d9", at + 91, at + 95, "answered"
        ),
        CallEnded(
            "c9",
            "answered",
            at,
            at + 95,
            at + 200,
            Tier.NATIONAL,
            "bnpb",
            "ag9",
            95.0,
            105.0,
            0.0,
            2,
        ),
    ]
    await write(migrated_dsn, records)
    conn = await asyncpg.connect(migrated_dsn)
    try:
        hops = await conn.fetch("SELECT tier, centre_id, reason, at FROM call_hops ORDER BY at")
        offers = await conn.fetch("SELECT offer_id, result FROM call_offers ORDER BY offered_at")
        intervals = {
            (r["centre_id"], r["tier"]): (r["offered"], r["escalated"], r["answered"])
            for r in await conn.fetch("SELECT * FROM call_intervals")
        }
    finally:
        await conn.close()
    assert [(h["tier"], h["reason"], h["at"]) for h in hops] == [
        ("kabkota", "arrival", ts(at)),
        ("province", "timeout", ts(at + 30)),
        ("national", "timeout", ts(at + 90)),
    ]
    assert [(o["offer_id"], o["result"]) for o in offers] == [
        ("o1", "no_answer"),
        ("o2", "rejected"),
        ("o3", "answered"),
    ]
    assert intervals == {
        ("bpbd-32.73", "kabkota"): (1, 1, 0),
        ("bpbd-32", "province"): (1, 1, 0),
        ("bnpb", "national"): (1, 0, 1),
    }


async def test_an_escalated_call_answered_by_a_lower_tier_agent_counts_there(
    migrated_dsn: str,
) -> None:
    at = T0 + 1000
    await write(
        migrated_dsn,
        [
            TierHop("c5", Tier.KABKOTA, "bpbd-32.73", "arrival", at),
            TierHop("c5", Tier.PROVINCE, "bpbd-32", "timeout", at + 30),
            OfferEnded(
                "o1",
                "c5",
                "ag1",
                "bpbd-32.73",
                Tier.KABKOTA,
                "PJSIP/d1",
                at + 31,
                at + 35,
                "answered",
            ),
            CallEnded(
                "c5",
                "answered",
                at,
                at + 35,
                at + 90,
                Tier.PROVINCE,
                "bpbd-32.73",
                "ag1",
                35.0,
                55.0,
                0.0,
                1,
            ),
        ],
    )
    conn = await asyncpg.connect(migrated_dsn)
    try:
        assert await conn.fetchval("SELECT answer_tier FROM calls") == "kabkota"
        answered = await conn.fetch(
            "SELECT centre_id, tier, answered FROM call_intervals WHERE answered > 0"
        )
    finally:
        await conn.close()
    assert [tuple(r) for r in answered] == [("bpbd-32.73", "kabkota", 1)]


async def test_agent_sessions_run_from_first_state_to_logout_with_device_and_reason(
    migrated_dsn: str,
) -> None:
    t = T0
    states = [
        AgentStateChanged("ag1", "bpbd-32.73", "available", None, "PJSIP/d1", t),
        AgentStateChanged("ag1", "bpbd-32.73", "ringing", None, "PJSIP/d1", t + 10, "c1"),
        AgentStateChanged("ag1", "bpbd-32.73", "on_call", None, "PJSIP/d1", t + 12, "c1"),
        AgentStateChanged("ag1", "bpbd-32.73", "after_call_work", None, "PJSIP/d1", t + 99, "c1"),
        AgentStateChanged("ag1", "bpbd-32.73", "paused", "break", "PJSIP/d1", t + 120),
        AgentStateChanged("ag1", "bpbd-32.73", "logged_out", "agent", "PJSIP/d1", t + 900),
        # Free seating: the next login is at another desk.
        AgentStateChanged("ag1", "bpbd-32.73", "available", None, "PJSIP/d4", t + 1800),
    ]
    await write(migrated_dsn, states, batch=3)
    await write(migrated_dsn, states)  # a replay opens no new session
    conn = await asyncpg.connect(migrated_dsn)
    try:
        sessions = await conn.fetch("SELECT * FROM agent_sessions ORDER BY login_at")
        paused = await conn.fetchrow(
            "SELECT reason, device FROM agent_states WHERE state = 'paused'"
        )
        spans = await conn.fetch(
            "SELECT state, duration_s FROM agent_state_spans"
            " WHERE agent_id = 'ag1' ORDER BY started_at"
        )
    finally:
        await conn.close()
    assert [(s["login_at"], s["logout_at"], s["device"], s["logout_reason"]) for s in sessions] == [
        (ts(t), ts(t + 900), "PJSIP/d1", "agent"),
        (ts(t + 1800), None, "PJSIP/d4", None),
    ]
    assert tuple(paused) == ("break", "PJSIP/d1")
    assert [(s["state"], s["duration_s"]) for s in spans][:5] == [
        ("available", 10),
        ("ringing", 2),
        ("on_call", 87),
        ("after_call_work", 21),
        ("paused", 780),
    ]


async def test_two_refused_offers_at_the_same_instant_are_both_kept(migrated_dsn: str) -> None:
    # A simulated clock can put two state changes of one agent at the same instant.
    await write(
        migrated_dsn,
        [
            AgentStateChanged("ag1", "k", "ringing", None, "PJSIP/d1", T0, "c1"),
            AgentStateChanged("ag1", "k", "available", None, "PJSIP/d1", T0, "c1"),
            AgentStateChanged("ag1", "k", "ringing", None, "PJSIP/d1", T0, "c2"),
        ],
    )
    assert (await counts(migrated_dsn))["agent_states"] == 3


async def test_recordings_are_found_by_number_date_agent_and_centre(migrated_dsn: str) -> None:
    records = []
    for i, (number, agent, centre) in enumerate(
        [
            ("+62811000001", "ag1", "bpbd-32.73"),
            ("+62811000002", "ag2", "bpbd-32.73"),
            ("+62811000001", "ag3", "bpbd-32"),
        ]
    ):
        at = T0 + 86400 * i
        call_id = f"r{i}"
        records += [
            CallStarted(
                call_id,
                number,
                number,
                "standard",
                "mobile",
                1,
                "32.73",
                "trunk",
                "117",
                None,
                None,
                at,
            ),
            RecordingStored(
                call_id,
                agent,
                centre,
                f"/rec/{call_id}.wav",
                "wav",
                at + 5,
                60.0,
                960_000,
                f"{i:064x}",
            ),
        ]
    await write(migrated_dsn, records)
    await write(migrated_dsn, records)
    conn = await asyncpg.connect(migrated_dsn)

    async def paths(where: str, *args: object) -> list[str]:
        rows = await conn.fetch(
            f"SELECT path FROM recording_search WHERE {where} ORDER BY path", *args
        )
        return [r["path"] for r in rows]

    try:
        assert await paths("caller_e164 = $1", "+62811000001") == ["/rec/r0.wav", "/rec/r2.wav"]
        assert await paths(
            "started_at >= $1 AND started_at < $2", ts(T0 + 86400), ts(T0 + 2 * 86400)
        ) == ["/rec/r1.wav"]
        assert await paths("agent_id = $1", "ag2") == ["/rec/r1.wav"]
        assert await paths("centre_id = $1", "bpbd-32.73") == ["/rec/r0.wav", "/rec/r1.wav"]
        indexed = {
            r["indexdef"].split(" USING btree ")[1]
            for r in await conn.fetch(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()"
                " AND tablename IN ('recordings', 'calls')"
            )
        }
        assert {
            "(started_at)",
            "(agent_id, started_at)",
            "(centre_id, started_at)",
            "(caller_e164, arrived_at)",
            "(call_id)",
        } <= indexed
    finally:
        await conn.close()


async def test_a_transferred_call_keeps_its_transfers_and_is_no_escalation(
    migrated_dsn: str,
) -> None:
    at = T0 + 100.0
    start, arrival, offer, end, wrap = a_call()
    records = [
        start, arrival, offer,
        CallTransferred("c1", "ag1", "bpbd-32.73", "113", "number", "113", at + 20, "failed",
                        at + 50),
        TierHop("c1", Tier.KABKOTA, "bpbd-32.73", "transfer_failed", at + 50),
        CallTransferred("c1", "ag2", "bpbd-32.73", "3200", "centre", "bpbd-32", at + 60,
                        "queued", at + 60),
        TierHop("c1", Tier.PROVINCE, "bpbd-32", "transfer", at + 60),
        end, wrap,
    ]
    await write(migrated_dsn, records + records)
    conn = await asyncpg.connect(migrated_dsn)
    try:
        transfers = await conn.fetch(
            "SELECT agent_id, kind, target, result, requested_at FROM call_transfers"
            " ORDER BY requested_at")
        intervals = {
            (r["centre_id"], r["tier"]): (r["offered"], r["escalated"])
            for r in await conn.fetch("SELECT * FROM call_intervals")
        }
    finally:
        await conn.close()
    assert [tuple(t) for t in transfers] == [
        ("ag1", "number", "113", "failed", ts(at + 20)),
        ("ag2", "centre", "bpbd-32", "queued", ts(at + 60)),
    ]
    assert intervals == {("bpbd-32.73", "kabkota"): (1, 0), ("bpbd-32", "province"): (1, 0)}


async def test_a_corrected_classification_keeps_both_and_the_later_one_stands(
    migrated_dsn: str,
) -> None:
    start, arrival, offer, end, wrap = a_call()
    first = Classification("c1", "ag1", "prank", T0 + 200, notes="tertawa")
    later = Classification("c1", "ag1", "emergency", T0 + 210, "flood", "Desa Lolu", 4)
    await write(migrated_dsn, [start, arrival, offer, end, first, later, wrap] * 2)
    conn = await asyncpg.connect(migrated_dsn)
    try:
        given = await conn.fetch("SELECT code FROM call_classifications ORDER BY classified_at")
        stands = await conn.fetchrow("SELECT * FROM call_classes WHERE call_id = 'c1'")
    finally:
        await conn.close()
    assert [r["code"] for r in given] == ["prank", "emergency"], "each once, replays ignored"
    assert (stands["code"], stands["emergency_type"], stands["people_affected"]) == (
        "emergency", "flood", 4)


async def test_the_cdr_keeps_the_mute_time(migrated_dsn: str) -> None:
    start, arrival, offer, end, wrap = a_call()
    muted = dataclasses.replace(end, mute_s=7.5)
    await write(migrated_dsn, [start, arrival, offer, muted, wrap])
    conn = await asyncpg.connect(migrated_dsn)
    try:
        assert await conn.fetchval("SELECT mute_s FROM calls WHERE call_id = 'c1'") == 7.5
    finally:
        await conn.close()
