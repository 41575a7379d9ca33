"""How each record type becomes rows: one set-based statement per type and batch.

A batch is a slice of the record stream, written in one transaction. Within it the
statements run in causal order (a call's hops and offers before its end, its end before its
wrap-up), so every row a trigger looks at is already there. Each statement passes its
columns as arrays and unnests them server-side: one round trip per record type, whatever
the batch size.

Idempotency comes from the natural keys: call_id for calls, (call_id, tier, at) for hops,
(call_id, requested_at) for transfers,
offer_id for offers, (agent_id, at, state, call_id) for agent states, path for recordings.
Rows that only ever get one record use ON CONFLICT DO NOTHING. The calls row is built from
three records (CallStarted, CallEnded, WrapUpEnded), each owning its own columns and
setting them only while they are still empty, so the row ends up the same whatever order
the records arrive in, however often they are replayed, and whether or not its
CallStarted survived a crash.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from acd.store.codec import StoreRecord
from acd.store.recordings import RecordingStored
from acd.vocabulary.audit import AuditEntry
from acd.vocabulary.records import (
    AgentStateChanged,
    CallEnded,
    CallStarted,
    CallTransferred,
    Classification,
    OfferEnded,
    TierHop,
    WrapUpEnded,
)

if TYPE_CHECKING:
    import asyncpg

# The newest migration (sql/NNN_*.sql) the daemon is written for (014: mute time in the
# CDR); the writer refuses to write into an older schema.
SCHEMA_VERSION = 14


def _unnest(columns: Sequence[tuple[str, str]], ordinality: bool = False) -> str:
    arrays = ", ".join(f"${i}::{pgtype}[]" for i, (_name, pgtype) in enumerate(columns, start=1))
    names = ", ".join(name for name, _ in columns)
    if ordinality:
        return f"unnest({arrays}) WITH ORDINALITY AS t({names}, ord)"
    return f"unnest({arrays}) AS t({names})"


@dataclass(frozen=True, slots=True)
class _Statement:
    record_type: type[Any]
    sql: str
    columns: tuple[Callable[[Any], Any], ...]  # one extractor per array parameter
    # Statements that upsert (DO UPDATE) may not touch a row twice in one command, so
    # duplicates of a key inside a batch are dropped first (they are identical replays).
    key: Callable[[Any], object] | None = None


_CALL_STARTED_COLS = (
    ("call_id", "text"),
    ("caller", "text"),
    ("caller_e164", "text"),
    ("caller_class", "text"),
    ("line_type", "text"),
    ("priority", "int4"),
    ("region_code", "text"),
    ("region_source", "text"),
    ("service", "text"),
    ("trunk", "text"),
    ("did", "text"),
    ("arrived_at", "float8"),
)
CALL_STARTED = _Statement(
    CallStarted,
    f"""
    INSERT INTO calls AS c (call_id, caller, caller_e164, caller_class, line_type, priority,
                            region_code, region_source, service, trunk, did, arrived_at)
    SELECT call_id, caller, caller_e164, caller_class, line_type, priority, region_code,
           region_source, service, trunk, did, to_timestamp(arrived_at)
      FROM {_unnest(_CALL_STARTED_COLS)}
    ON CONFLICT (call_id) DO UPDATE SET
        caller = EXCLUDED.caller, caller_e164 = EXCLUDED.caller_e164,
        caller_class = EXCLUDED.caller_class, line_type = EXCLUDED.line_type,
        priority = EXCLUDED.priority, region_code = EXCLUDED.region_code,
        region_source = EXCLUDED.region_source, service = EXCLUDED.service,
        trunk = EXCLUDED.trunk, did = EXCLUDED.did, arrived_at = EXCLUDED.arrived_at
     WHERE c.caller IS NULL
    """,
    tuple(attrgetter(name) for name, _ in _CALL_STARTED_COLS),
    key=lambda r: r.call_id,
)

_HOP_COLS = (
    ("call_id", "text"),
    ("tier", "text"),
    ("centre_id", "text"),
    ("reason", "text"),
    ("at", "float8"),
)
TIER_HOP = _Statement(
    TierHop,
    f"""
    INSERT INTO call_hops (call_id, tier, centre_id, reason, at)
    SELECT call_id, tier, centre_id, reason, to_timestamp(at)
      FROM {_unnest(_HOP_COLS, ordinality=True)}
     ORDER BY ord
    ON CONFLICT DO NOTHING
    """,
    (
        lambda r: r.call_id,
        lambda r: str(r.tier),
        lambda r: r.centre_id,
        lambda r: r.reason,
        lambda r: r.at,
    ),
)

_OFFER_COLS = (
    ("offer_id", "text"),
    ("call_id", "text"),
    ("agent_id", "text"),
    ("centre_id", "text"),
    ("tier", "text"),
    ("device", "text"),
    ("offered_at", "float8"),
    ("ended_at", "float8"),
    ("result", "text"),
)
OFFER_ENDED = _Statement(
    OfferEnded,
    f"""
    INSERT INTO call_offers (offer_id, call_id, agent_id, centre_id, tier, device,
                             offered_at, ended_at, result)
    SELECT offer_id, call_id, agent_id, centre_id, tier, device,
           to_timestamp(offered_at), to_timestamp(ended_at), result
      FROM {_unnest(_OFFER_COLS)}
    ON CONFLICT DO NOTHING
    """,
    (
        lambda r: r.offer_id,
        lambda r: r.call_id,
        lambda r: r.agent_id,
        lambda r: r.centre_id,
        lambda r: str(r.tier),
        lambda r: r.device,
        lambda r: r.offered_at,
        lambda r: r.ended_at,
        lambda r: r.result,
    ),
)

_STATE_COLS = (
    ("agent_id", "text"),
    ("at", "float8"),
    ("state", "text"),
    ("centre_id", "text"),
    ("reason", "text"),
    ("device", "text"),
    ("call_id", "text"),
)
# ORDER BY ord: the session trigger must see an agent's states in the order they happened.
AGENT_STATE = _Statement(
    AgentStateChanged,
    f"""
    INSERT INTO agent_states (agent_id, at, state, centre_id, reason, device, call_id)
    SELECT agent_id, to_timestamp(at), state, centre_id, reason, device, call_id
      FROM {_unnest(_STATE_COLS, ordinality=True)}
     ORDER BY ord
    ON CONFLICT DO NOTHING
    """,
    (
        lambda r: r.agent_id,
        lambda r: r.at,
        lambda r: r.state,
        lambda r: r.centre_id,
        lambda r: r.reason,
        lambda r: r.device,
        lambda r: r.call_id,
    ),
)

_ENDED_COLS = (
    ("call_id", "text"),
    ("outcome", "text"),
    ("arrived_at", "float8"),
    ("answered_at", "float8"),
    ("ended_at", "float8"),
    ("tier", "text"),
    ("answer_tier", "text"),
    ("centre_id", "text"),
    ("agent_id", "text"),
    ("wait_s", "float8"),
    ("talk_s", "float8"),
    ("hold_s", "float8"),
    ("escalations", "int4"),
    ("mute_s", "float8"),
)
CALL_ENDED = _Statement(
    CallEnded,
    f"""
    INSERT INTO calls AS c (call_id, outcome, arrived_at, answered_at, ended_at, tier,
                            answer_tier, centre_id, agent_id, wait_s, talk_s, hold_s,
                            escalations, mute_s)
    SELECT call_id, outcome, to_timestamp(arrived_at), to_timestamp(answered_at),
           to_timestamp(ended_at), tier, answer_tier, centre_id, agent_id, wait_s, talk_s,
           hold_s, escalations, mute_s
      FROM {_unnest(_ENDED_COLS)}
    ON CONFLICT (call_id) DO UPDATE SET
        outcome = EXCLUDED.outcome,
        arrived_at = coalesce(c.arrived_at, EXCLUDED.arrived_at),
        answered_at = EXCLUDED.answered_at, ended_at = EXCLUDED.ended_at,
        tier = EXCLUDED.tier, answer_tier = EXCLUDED.answer_tier,
        centre_id = EXCLUDED.centre_id,
        agent_id = coalesce(EXCLUDED.agent_id, c.agent_id),
        wait_s = EXCLUDED.wait_s, talk_s = EXCLUDED.talk_s, hold_s = EXCLUDED.hold_s,
        escalations = EXCLUDED.escalations, mute_s = EXCLUDED.mute_s
     WHERE c.outcome IS NULL
    """,
    (
        lambda r: r.call_id,
        lambda r: r.outcome,
        lambda r: r.arrived_at,
        lambda r: r.answered_at,
        lambda r: r.ended_at,
        lambda r: str(r.tier),
        lambda r: str(r.answered_tier) if r.answered_tier else None,
        lambda r: r.centre_id,
        lambda r: r.agent_id,
        lambda r: r.wait_s,
        lambda r: r.talk_s,
        lambda r: r.hold_s,
        lambda r: r.escalations,
        lambda r: r.mute_s,
    ),
    key=lambda r: r.call_id,
)

_WRAP_COLS = (("call_id", "text"), ("agent_id", "text"), ("wrap_up_s", "float8"), ("at", "float8"))
WRAP_UP_ENDED = _Statement(
    WrapUpEnded,
    f"""
    INSERT INTO calls AS c (call_id, agent_id, wrap_up_s, wrap_up_ended_at)
    SELECT call_id, agent_id, wrap_up_s, to_timestamp(at)
      FROM {_unnest(_WRAP_COLS)}
    ON CONFLICT (call_id) DO UPDATE SET
        wrap_up_s = EXCLUDED.wrap_up_s, wrap_up_ended_at = EXCLUDED.wrap_up_ended_at,
        agent_id = coalesce(c.agent_id, EXCLUDED.agent_id)
     WHERE c.wrap_up_s IS NULL
    """,
    (lambda r: r.call_id, lambda r: r.agent_id, lambda r: r.wrap_up_s, lambda r: r.at),
    key=lambda r: r.call_id,
)

_TRANSFER_COLS = (
    ("call_id", "text"),
    ("requested_at", "float8"),
    ("agent_id", "text"),
    ("from_centre", "text"),
    ("code", "text"),
    ("kind", "text"),
    ("target", "text"),
    ("result", "text"),
    ("at", "float8"),
    ("mode", "text"),
)
CALL_TRANSFERRED = _Statement(
    CallTransferred,
    f"""
    INSERT INTO call_transfers (call_id, requested_at, agent_id, from_centre, code, kind,
                                target, result, at, mode)
    SELECT call_id, to_timestamp(requested_at), agent_id, from_centre, code, kind, target,
           result, to_timestamp(at), mode
      FROM {_unnest(_TRANSFER_COLS)}
    ON CONFLICT DO NOTHING
    """,
    tuple(attrgetter(name) for name, _ in _TRANSFER_COLS),
)

_CLASS_COLS = (
    ("call_id", "text"),
    ("at", "float8"),
    ("agent_id", "text"),
    ("code", "text"),
    ("emergency_type", "text"),
    ("place", "text"),
    ("people_affected", "int4"),
    ("notes", "text"),
)
CLASSIFICATION = _Statement(
    Classification,
    f"""
    INSERT INTO call_classifications (call_id, classified_at, agent_id, code, emergency_type,
                                      place, people_affected, notes)
    SELECT call_id, to_timestamp(at), agent_id, code, emergency_type, place,
           people_affected, notes
      FROM {_unnest(_CLASS_COLS)}
    ON CONFLICT DO NOTHING
    """,
    tuple(attrgetter(name) for name, _ in _CLASS_COLS),
)

_RECORDING_COLS = (
    ("path", "text"),
    ("call_id", "text"),
    ("agent_id", "text"),
    ("centre_id", "text"),
    ("format", "text"),
    ("started_at", "float8"),
    ("duration_s", "float8"),
    ("size_bytes", "int8"),
    ("sha256", "text"),
)
RECORDING_STORED = _Statement(
    RecordingStored,
    f"""
    INSERT INTO recordings (path, call_id, agent_id, centre_id, format, started_at,
                            duration_s, size_bytes, sha256)
    SELECT path, call_id, agent_id, centre_id, format, to_timestamp(started_at), duration_s,
           size_bytes, sha256
      FROM {_unnest(_RECORDING_COLS)}
    ON CONFLICT DO NOTHING
    """,
    tuple(attrgetter(name) for name, _ in _RECORDING_COLS),
)

_AUDIT_COLS = (
    ("entry_id", "text"),
    ("at", "float8"),
    ("username", "text"),
    ("role", "text"),
    ("action", "text"),
    ("target", "text"),
    ("outcome", "text"),
    ("remote", "text"),
    ("detail", "text"),
)
AUDIT_ENTRY = _Statement(
    AuditEntry,
    f"""
    INSERT INTO audit_log (entry_id, at, username, role, action, target, outcome, remote,
                           detail)
    SELECT entry_id, to_timestamp(at), username, role, action, target, outcome, remote,
           detail::jsonb
      FROM {_unnest(_AUDIT_COLS)}
    ON CONFLICT (entry_id) DO NOTHING
    """,
    tuple(attrgetter(name) for name, _ in _AUDIT_COLS),
)

# Causal order inside one transaction.
STATEMENTS: tuple[_Statement, ...] = (
    CALL_STARTED,
    TIER_HOP,
    OFFER_ENDED,
    AGENT_STATE,
    CALL_ENDED,
    CALL_TRANSFERRED,
    WRAP_UP_ENDED,
    CLASSIFICATION,
    RECORDING_STORED,
    AUDIT_ENTRY,
)


def group(records: Sequence[StoreRecord]) -> list[tuple[_Statement, list[StoreRecord]]]:
    """Split a batch by statement, keeping stream order within each, in causal order."""
    buckets: dict[type[Any], list[StoreRecord]] = {}
    for record in records:
        buckets.setdefault(type(record), []).append(record)
    out: list[tuple[_Statement, list[StoreRecord]]] = []
    for statement in STATEMENTS:
        rows = buckets.get(statement.record_type)
        if not rows:
            continue
        if statement.key is not None:
            seen: set[object] = set()
            unique: list[StoreRecord] = []
            for record in rows:
                k = statement.key(record)
                if k not in seen:
                    seen.add(k)
                    unique.append(record)
            rows = unique
        out.append((statement, rows))
    return out


async def apply_batch(conn: asyncpg.Connection, records: Sequence[StoreRecord]) -> None:
    """Write one batch in one transaction; replaying it later changes nothing."""
    async with conn.transaction():
        for statement, rows in group(records):
            args = [[extract(r) for r in rows] for extract in statement.columns]
            await conn.execute(statement.sql, *args)
