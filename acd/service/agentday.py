"""The calls each agent answered today, for the supervisor's console: every time the
agent's phone rang for a 117 call and they answered it (a call handed on to them, or a
consultation another centre's agent brought them, included), each counted on the local day
of the agent's centre (acd.vocabulary.localtime).

Counted from the records (`OfferEnded` answered, the `call_offers` rows of the store), not
from the core's agents: a log-out and log-in again keeps the count, and `restore` gives it
what the store already holds at start, so a restart keeps it too. One counter per agent,
whatever the traffic; a new day starts each agent's count again at their centre's midnight.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from acd.vocabulary import records as rec
from acd.vocabulary.localtime import UTC_OFFSET_S, WIB, local_day, start_of_local_day

# The answered offers since the first midnight any Indonesian zone has had today, per
# agent and hour: the zones are whole hours from UTC, so an hour lies in one local day of
# each. `offered_at` bounds the scan by its index (an offer rings for seconds, not hours).
ANSWERED_SQL = """
SELECT agent_id, date_trunc('hour', ended_at AT TIME ZONE 'UTC') AS hour, count(*) AS calls
  FROM call_offers
 WHERE result = 'answered' AND offered_at >= $1::timestamptz - interval '1 hour'
   AND ended_at >= $1 AND ended_at < $2
 GROUP BY 1, 2
"""


@dataclass(slots=True)
class _Day:
    day: int
    calls: int = 0


class AnsweredToday:
    """agent id -> calls answered on their centre's local day; `zone_of(agent_id)` names
    the zone (WIB for an agent the call flows no longer have)."""

    def __init__(self, zone_of: Callable[[str], str] = lambda _agent: WIB) -> None:
        self._zone_of = zone_of
        self._days: dict[str, _Day] = {}

    def observe(self, r: rec.Record) -> None:
        if isinstance(r, rec.OfferEnded) and r.result == "answered":
            self.add(r.agent_id, r.ended_at)

    def add(self, agent_id: str, at: float, calls: int = 1) -> None:
        """`calls` answered at `at`; an earlier day than the one counted is past."""
        day = local_day(at, self._zone_of(agent_id))
        counted = self._days.get(agent_id)
        if counted is None or counted.day < day:
            counted = self._days[agent_id] = _Day(day)
        if counted.day == day:
            counted.calls += calls

    def today(self, agent_id: str, now: float) -> int:
        counted = self._days.get(agent_id)
        if counted is None or counted.day != local_day(now, self._zone_of(agent_id)):
            return 0
        return counted.calls

    def restore(self, hours: Iterable[tuple[str, float, int]]) -> None:
        """(agent, hour's start, calls) as `answered_since_midnight` reads them."""
        for agent_id, hour, calls in hours:
            self.add(agent_id, hour, calls)


def first_midnight(now: float) -> float:
    """The earliest of the midnights that began the current day in Indonesia's zones."""
    return min(start_of_local_day(now, zone) for zone in UTC_OFFSET_S)


async def answered_since_midnight(pool: Any, now: float) -> list[tuple[str, float, int]]:
    """The store's answered offers from `first_midnight(now)` until `now`, per agent and
    hour: what a restarted daemon counted today before it stopped."""
    rows = await pool.fetch(ANSWERED_SQL, datetime.fromtimestamp(first_midnight(now), UTC),
                            datetime.fromtimestamp(now, UTC), timeout=10.0)
    return [(r["agent_id"], r["hour"].replace(tzinfo=UTC).timestamp(), int(r["calls"]))
            for r in rows]
