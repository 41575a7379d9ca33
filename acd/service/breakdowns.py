"""Reports that break calls down by a code, per period (local time, as acd.service.reports):
transfers by destination and result, and classifications by class and emergency type (the
tender's "which options are used")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal

from acd.service.reports import Unit, period_start
from acd.vocabulary.localtime import WIB

# --- transfers --------------------------------------------------------------------------

TransferResult = Literal["queued", "connected", "failed", "abandoned", "refused",
                         "cancelled"]
TRANSFER_RESULTS: tuple[TransferResult, ...] = ("queued", "connected", "failed", "abandoned",
                                                "refused", "cancelled")


@dataclass
class TransferRow:
    COLUMNS: ClassVar[tuple[str, ...]] = ("period_start", "from_centre", "kind", "target",
                                          "transferred", *TRANSFER_RESULTS)
    period_start: datetime
    from_centre: str
    kind: str  # centre, number
    target: str  # the centre id or the number
    results: dict[str, int] = field(default_factory=dict)

    @property
    def transferred(self) -> int:
        """Handed on: every request but those refused or taken back."""
        return sum(n for r, n in self.results.items() if r not in ("refused", "cancelled"))

    def as_json(self) -> dict[str, Any]:
        return {"period_start": self.period_start.isoformat(), "from_centre": self.from_centre,
                "kind": self.kind, "target": self.target, "transferred": self.transferred,
                **{r: self.results.get(r, 0) for r in TRANSFER_RESULTS}}


async def transfer_report(conn: Any, unit: Unit, start: datetime, end: datetime, *,
                          tz: str = WIB) -> list[TransferRow]:
    rows = await conn.fetch(
        "SELECT requested_at, from_centre, kind, target, result FROM call_transfers"
        " WHERE requested_at >= $1 AND requested_at < $2", start, end)
    out: dict[tuple[datetime, str, str, str], TransferRow] = {}
    for r in rows:
        key = (period_start(r["requested_at"], unit, tz), r["from_centre"] or "", r["kind"],
               r["target"])
        row = out.get(key) or out.setdefault(key, TransferRow(*key))
        row.results[r["result"]] = row.results.get(r["result"], 0) + 1
    return [out[k] for k in sorted(out)]


def transfer_table(rows: Sequence[TransferRow]) -> str:
    head = (f"{'period (local)':<17} {'from centre':<22} {'to':<24} {'xfer':>5} "
            + " ".join(f"{r[:6]:>6}" for r in TRANSFER_RESULTS))
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r.period_start:%Y-%m-%d %H:%M} {r.from_centre or '(none)':<22.22} "
                     f"{r.kind + ' ' + r.target:<24.24} {r.transferred:>5} "
                     + " ".join(f"{r.results.get(x, 0):>6}" for x in TRANSFER_RESULTS))
    return "\n".join(lines)


# --- classifications --------------------------------------------------------------------

@dataclass
class ClassRow:
    """Calls of one class (and emergency type) per period and centre, by the call's arrival;
    the classification that stands for each call (`call_classes`, sql/012)."""

    COLUMNS: ClassVar[tuple[str, ...]] = ("period_start", "centre_id", "code",
                                          "emergency_type", "calls", "people_affected")
    period_start: datetime
    centre_id: str
    code: str
    emergency_type: str
    calls: int = 0
    people_affected: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"period_start": self.period_start.isoformat(), "centre_id": self.centre_id,
                "code": self.code, "emergency_type": self.emergency_type or None,
                "calls": self.calls, "people_affected": self.people_affected}


CLASS_SQL = """
SELECT coalesce(c.arrived_at, k.classified_at) AS at, c.centre_id, k.code,
       k.emergency_type, k.people_affected
  FROM call_classes k LEFT JOIN calls c USING (call_id)
 WHERE coalesce(c.arrived_at, k.classified_at) >= $1
   AND coalesce(c.arrived_at, k.classified_at) < $2
"""


async def classification_report(conn: Any, unit: Unit, start: datetime, end: datetime, *,
                                tz: str = WIB) -> list[ClassRow]:
    out: dict[tuple[datetime, str, str, str], ClassRow] = {}
    for r in await conn.fetch(CLASS_SQL, start, end):
        key = (period_start(r["at"], unit, tz), r["centre_id"] or "", r["code"],
               r["emergency_type"] or "")
        row = out.get(key) or out.setdefault(key, ClassRow(*key))
        row.calls += 1
        row.people_affected += r["people_affected"] or 0
    return [out[k] for k in sorted(out)]


def classification_table(rows: Sequence[ClassRow]) -> str:
    head = (f"{'period (local)':<17} {'centre':<22} {'class':<14} {'type':<16} {'calls':>6} "
            f"{'people':>7}")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r.period_start:%Y-%m-%d %H:%M} {r.centre_id or '(none)':<22.22} "
                     f"{r.code:<14.14} {r.emergency_type or '-':<16.16} {r.calls:>6} "
                     f"{r.people_affected:>7}")
    return "\n".join(lines)
