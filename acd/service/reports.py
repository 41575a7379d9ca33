"""Historical reports from the store: calls per interval, hour, day or month (offered,
answered, abandoned with short abandons apart, service level, ASA, AHT, escalations by
tier), agent activity (logged in, available, talk, hold, after-call work, pause by
reason); transfers and classifications are in acd.service.breakdowns. Periods are local time
(WIB unless told otherwise); 15- and 30-minute intervals are aligned on the hour in every
Indonesian zone.

The call figures come from `call_intervals` (sql/003); the two that depend on a threshold,
answered within the service level and short abandons, from each call's wait in `calls`, so
the thresholds (ACD117_SERVICE_LEVEL_S, ACD117_SHORT_ABANDON_S) are chosen at query time.
Agent activity comes from `agent_states`, cut at period boundaries.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from acd.service.figures import abandon_rate, service_level
from acd.service.settings import SERVICE_LEVEL_S, SHORT_ABANDON_S
from acd.vocabulary.localtime import WIB, zone_of
from acd.vocabulary.tiers import Tier

Unit = Literal["15min", "30min", "hour", "day", "month"]
UNITS: tuple[Unit, ...] = ("15min", "30min", "hour", "day", "month")
STEP_S = {"15min": 900, "30min": 1800, "hour": 3600}


def parse_local(text: str | None, tz: str, default: datetime) -> datetime:
    if not text:
        return default
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=zone_of(tz))


def period_bounds(start: str | None, end: str | None, tz: str) -> tuple[datetime, datetime]:
    now = datetime.now(zone_of(tz))
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    a = parse_local(start, tz, midnight)
    b = parse_local(end, tz, now)
    if b <= a:
        raise ValueError("--to must be later than --from")
    return a, b


def period_start(at: datetime, unit: Unit, tz: str = WIB) -> datetime:
    local = at.astimezone(zone_of(tz))
    if unit in STEP_S:
        step = STEP_S[unit] // 60
        minute = (local.minute // step) * step if step < 60 else 0
        return local.replace(minute=minute, second=0, microsecond=0)
    if unit == "day":
        return local.replace(hour=0, minute=0, second=0, microsecond=0)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_period(start: datetime, unit: Unit) -> datetime:
    if unit in STEP_S:
        return start + timedelta(seconds=STEP_S[unit])
    if unit == "day":
        return (start + timedelta(days=1)).replace(hour=0)
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return start.replace(year=year, month=month, day=1)


# --- calls ------------------------------------------------------------------------------


@dataclass
class CallRow:
    period_start: datetime
    centre_id: str
    tier: str
    offered: int = 0
    escalated: int = 0  # left this queue for a higher tier
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0  # of the abandoned: hung up within the threshold
    blocked: int = 0
    # Answered within the service level threshold (the name is the reports' column name).
    answered_within_20s: int = 0
    answer_wait_s: float = 0.0
    talk_s: float = 0.0
    hold_s: float = 0.0
    wrap_up_s: float = 0.0

    def add(self, other: CallRow) -> None:
        for name in ("offered", "escalated", "answered", "abandoned", "short_abandoned",
                     "blocked", "answered_within_20s", "answer_wait_s", "talk_s", "hold_s",
                     "wrap_up_s"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def service_level(self) -> float | None:
        return service_level(self.answered, self.abandoned, self.short_abandoned,
                             self.answered_within_20s)

    @property
    def abandon_rate(self) -> float | None:
        return abandon_rate(self.answered, self.abandoned, self.short_abandoned)

    @property
    def asa_s(self) -> float | None:
        return self.answer_wait_s / self.answered if self.answered else None

    @property
    def aht_s(self) -> float | None:
        return (self.talk_s + self.wrap_up_s) / self.answered if self.answered else None

    def as_json(self) -> dict[str, Any]:
        return {
            "period_start": self.period_start.isoformat(), "centre_id": self.centre_id,
            "tier": self.tier, "offered": self.offered, "answered": self.answered,
            "abandoned": self.abandoned, "short_abandoned": self.short_abandoned,
            "blocked": self.blocked, "escalated": self.escalated,
            "answered_within_20s": self.answered_within_20s,
            "service_level": _r(self.service_level), "abandon_rate": _r(self.abandon_rate),
            "asa_s": _r(self.asa_s, 1), "aht_s": _r(self.aht_s, 1),
        }


def _r(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


_PERIOD_SQL = """CASE $1::text
        WHEN '15min' THEN {col}
        WHEN '30min' THEN date_bin('30 minutes', {col}, TIMESTAMPTZ '2000-01-01 00:00:00+00')
        ELSE date_trunc($1::text, {col}, $4::text) END"""

CALLS_SQL = f"""
WITH ci AS (
    SELECT {_PERIOD_SQL.format(col="interval_start")} AS period_start, centre_id, tier,
           sum(offered) AS offered, sum(escalated) AS escalated, sum(answered) AS answered,
           sum(abandoned) AS abandoned, sum(blocked) AS blocked,
           sum(answer_wait_s) AS answer_wait,
           sum(talk_s) AS talk, sum(hold_s) AS hold, sum(wrap_up_s) AS wrap
      FROM call_intervals
     WHERE interval_start >= $2 AND interval_start < $3
     GROUP BY 1, 2, 3
), waits AS (
    -- Counted where call_intervals counts the call's outcome (sql/003), so they add up.
    SELECT {_PERIOD_SQL.format(col="stats_interval")} AS period_start,
           stats_centre_id AS centre_id, stats_tier AS tier,
           count(*) FILTER (WHERE outcome = 'abandoned' AND wait_s < $5) AS short_abandoned,
           count(*) FILTER (WHERE outcome = 'answered' AND wait_s <= $6) AS within
      FROM calls
     WHERE outcome IN ('abandoned', 'answered')
       AND stats_interval >= $2 AND stats_interval < $3
     GROUP BY 1, 2, 3
)
SELECT ci.*, coalesce(waits.short_abandoned, 0) AS short_abandoned,
       coalesce(waits.within, 0) AS within
  FROM ci LEFT JOIN waits USING (period_start, centre_id, tier)
 ORDER BY period_start, tier, centre_id
"""


async def call_report(conn: Any, unit: Unit, start: datetime, end: datetime, *,
                      tz: str = WIB, short_abandon_s: float = SHORT_ABANDON_S,
                      service_level_s: float = SERVICE_LEVEL_S) -> list[CallRow]:
    """One row per period, centre and tier that saw calls."""
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}")
    rows = await conn.fetch(CALLS_SQL, unit, start, end, tz, short_abandon_s,
                            service_level_s)
    zone = zone_of(tz)
    out = [CallRow(r["period_start"].astimezone(zone), r["centre_id"], r["tier"],
                   int(r["offered"]), int(r["escalated"]), int(r["answered"]),
                   int(r["abandoned"]), int(r["short_abandoned"]), int(r["blocked"]),
                   int(r["within"]), float(r["answer_wait"]), float(r["talk"]),
                   float(r["hold"]), float(r["wrap"])) for r in rows]
    return sorted(out, key=lambda r: (r.period_start, tier_rank(r.tier), r.centre_id))


def tier_rank(tier: str) -> int:
    """Tiers in the order a call climbs them (kab/kota, province, national), not the
    alphabet's; an unknown name last."""
    names = [t.value for t in Tier]
    return names.index(tier) if tier in names else len(names)


def by_tier(rows: Iterable[CallRow]) -> list[CallRow]:
    """The same figures summed per period and tier (escalations by tier)."""
    out: dict[tuple[datetime, str], CallRow] = {}
    for r in rows:
        key = (r.period_start, r.tier)
        total = out.get(key)
        if total is None:
            total = out[key] = CallRow(r.period_start, "*", r.tier)
        total.add(r)
    return [out[k] for k in sorted(out, key=lambda k: (k[0], tier_rank(k[1])))]


# --- agents -----------------------------------------------------------------------------

@dataclass
class AgentRow:
    period_start: datetime
    agent_id: str
    centre_id: str
    logged_in_s: float = 0.0
    available_s: float = 0.0
    ringing_s: float = 0.0
    talk_s: float = 0.0
    hold_s: float = 0.0
    after_call_work_s: float = 0.0
    paused_s: float = 0.0
    pause_by_reason_s: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["period_start"] = self.period_start.isoformat()
        for k, v in list(d.items()):
            if isinstance(v, float):
                d[k] = round(v, 1)
        d["pause_by_reason_s"] = {k: round(v, 1) for k, v in self.pause_by_reason_s.items()}
        return d


_STATE_FIELD = {"available": "available_s", "ringing": "ringing_s", "on_call": "talk_s",
                "on_hold": "hold_s", "after_call_work": "after_call_work_s",
                "paused": "paused_s"}

AGENT_STATES_SQL = """
(SELECT DISTINCT ON (agent_id) agent_id, centre_id, at, state, reason, seq
   FROM agent_states WHERE at < $1 ORDER BY agent_id, at DESC, seq DESC)
UNION ALL
(SELECT agent_id, centre_id, at, state, reason, seq
   FROM agent_states WHERE at >= $1 AND at < $2)
ORDER BY agent_id, at, seq
"""


async def agent_report(conn: Any, unit: Unit, start: datetime, end: datetime, *,
                       tz: str = WIB, now: datetime | None = None) -> list[AgentRow]:
    rows = await conn.fetch(AGENT_STATES_SQL, start, end)
    states = [(r["agent_id"], r["centre_id"], r["at"], r["state"], r["reason"]) for r in rows]
    until = min(end, now or datetime.now(start.tzinfo))
    return agent_activity(states, unit, start, until, tz=tz)


def agent_activity(states: Sequence[tuple[str, str, datetime, str, str | None]], unit: Unit,
                   start: datetime, end: datetime, *, tz: str = WIB) -> list[AgentRow]:
    """Time in each state per agent and period, from state changes ordered by agent and
    time; each state lasts until the agent's next change (or `end`), cut at `start`, `end`
    and the period boundaries."""
    out: dict[tuple[datetime, str], AgentRow] = {}
    for i, (agent_id, centre_id, at, state, reason) in enumerate(states):
        nxt = states[i + 1] if i + 1 < len(states) else None
        until = nxt[2] if nxt is not None and nxt[0] == agent_id else end
        a, b = max(at, start), min(until, end)
        if b <= a or state == "logged_out":
            continue
        p = period_start(a, unit, tz)
        while p < b:
            q = next_period(p, unit)
            seconds = (min(b, q) - max(a, p)).total_seconds()
            if seconds > 0:
                row = out.get((p, agent_id))
                if row is None:
                    row = out[(p, agent_id)] = AgentRow(p, agent_id, centre_id)
                row.logged_in_s += seconds
                name = _STATE_FIELD.get(state)
                if name is not None:
                    setattr(row, name, getattr(row, name) + seconds)
                if state == "paused":
                    key = reason or "unspecified"
                    row.pause_by_reason_s[key] = row.pause_by_reason_s.get(key, 0.0) + seconds
            p = q
    return [out[k] for k in sorted(out)]


# --- output -----------------------------------------------------------------------------

CALL_COLUMNS = ("period_start", "centre_id", "tier", "offered", "answered", "abandoned",
                "short_abandoned", "blocked", "escalated", "answered_within_20s",
                "service_level", "abandon_rate", "asa_s", "aht_s")
AGENT_COLUMNS = ("period_start", "agent_id", "centre_id", "logged_in_s", "available_s",
                 "ringing_s", "talk_s", "hold_s", "after_call_work_s", "paused_s",
                 "pause_by_reason_s")
def to_csv(rows: Sequence[Any]) -> str:
    """Any report's rows; a row type may name its own `COLUMNS` (acd.service.breakdowns)."""
    buf = io.StringIO()
    agents = bool(rows) and isinstance(rows[0], AgentRow)
    columns = AGENT_COLUMNS if agents else (
        getattr(rows[0], "COLUMNS", CALL_COLUMNS) if rows else CALL_COLUMNS)
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        data = row.as_json()
        if agents:
            data["pause_by_reason_s"] = ";".join(
                f"{k}={v}" for k, v in sorted(data["pause_by_reason_s"].items()))
        writer.writerow(["" if data[c] is None else data[c] for c in columns])
    return buf.getvalue()


def call_table(rows: Sequence[CallRow], service_level_s: float = SERVICE_LEVEL_S) -> str:
    sl_head = f"SL{service_level_s:g}"
    head = (f"{'period (local)':<17} {'centre':<22} {'tier':<9} {'offer':>6} {'ans':>6} "
            f"{'aband':>6} {'short':>6} {'esc':>5} {sl_head:>6} {'ASA':>6} {'AHT':>6}")
    lines = [head, "-" * len(head)]
    for r in rows:
        sl = "-" if r.service_level is None else f"{r.service_level:.0%}"
        asa = "-" if r.asa_s is None else f"{r.asa_s:.0f}s"
        aht = "-" if r.aht_s is None else f"{r.aht_s:.0f}s"
        lines.append(f"{r.period_start:%Y-%m-%d %H:%M} {r.centre_id or '(none)':<22.22} "
                     f"{r.tier:<9} {r.offered:>6} {r.answered:>6} {r.abandoned:>6} "
                     f"{r.short_abandoned:>6} {r.escalated:>5} {sl:>6} {asa:>6} {aht:>6}")
    return "\n".join(lines)


def agent_table(rows: Sequence[AgentRow]) -> str:
    def m(s: float) -> str:
        return f"{s / 60:.0f}m"

    head = (f"{'period (local)':<17} {'agent':<8} {'centre':<22} {'login':>6} {'avail':>6} "
            f"{'talk':>6} {'hold':>6} {'acw':>6} {'pause':>6}  pause reasons")
    lines = [head, "-" * len(head)]
    for r in rows:
        reasons = ", ".join(f"{k} {m(v)}" for k, v in sorted(r.pause_by_reason_s.items()))
        lines.append(f"{r.period_start:%Y-%m-%d %H:%M} {r.agent_id:<8} {r.centre_id:<22.22} "
                     f"{m(r.logged_in_s):>6} {m(r.available_s):>6} {m(r.talk_s):>6} "
                     f"{m(r.hold_s):>6} {m(r.after_call_work_s):>6} {m(r.paused_s):>6}  "
                     f"{reasons}")
    return "\n".join(lines)


async def history_for_forecast(conn: Any, unit: Unit, start: datetime, end: datetime, *,
                               tz: str = WIB, centre_id: str | None = None
                               ) -> list[tuple[datetime, int, int, float]]:
    """(local period start, offered, answered, talk + wrap-up) per period, all tiers of
    one centre (or every centre) together: the forecast's input."""
    rows = await conn.fetch(
        f"SELECT {_PERIOD_SQL.format(col='interval_start')} AS p, sum(offered) AS offered, "
        "sum(answered) AS answered, sum(talk_s + wrap_up_s) AS handle FROM call_intervals "
        "WHERE interval_start >= $2 AND interval_start < $3 "
        "AND ($5::text IS NULL OR centre_id = $5) GROUP BY 1 ORDER BY 1",
        unit, start, end, tz, centre_id)
    zone = zone_of(tz)
    return [(r["p"].astimezone(zone), int(r["offered"]), int(r["answered"]),
             float(r["handle"])) for r in rows]
