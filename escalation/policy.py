"""Tier policy: which centres a call climbs through, and whether a centre is open.

A call for regency/city 32.73 climbs: the 32.73 centre (kabkota tier), the 32 centre
(province), the national centre. A tier whose region has no centre is left out, so a call
for a region without a staffed centre goes to the next tier up at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from acd.vocabulary.localtime import local_seconds
from acd.vocabulary.tiers import Tier
from config.models import WEEKDAYS, CallFlows, Centre
from config.regions import NATIONAL_CODE, RegionTable


@dataclass(frozen=True, slots=True)
class Step:
    tier: Tier
    centre: Centre


class TierLadder:
    def __init__(self, flows: CallFlows, regions: RegionTable) -> None:
        self._by_region = {c.region: c for c in flows.centres}
        self._regions = regions
        self._cache: dict[str, tuple[Step, ...]] = {}

    def steps(self, region_code: str) -> tuple[Step, ...]:
        """The tiers a call for this region goes through, lowest first; never empty because
        a national centre always exists."""
        cached = self._cache.get(region_code)
        if cached is not None:
            return cached
        steps: list[Step] = []
        province = self._regions.province_of(region_code)
        if province is not None and province != region_code:
            self._add(steps, Tier.KABKOTA, region_code)
        if province is not None:
            self._add(steps, Tier.PROVINCE, province)
        self._add(steps, Tier.NATIONAL, NATIONAL_CODE)
        result = tuple(steps)
        self._cache[region_code] = result
        return result

    def _add(self, steps: list[Step], tier: Tier, code: str) -> None:
        centre = self._by_region.get(code)
        if centre is not None:
            steps.append(Step(tier, centre))


def is_open(centre: Centre, now: float) -> bool:
    if centre.hours == "always":
        return True
    local = local_seconds(now, centre.timezone)
    days, second_of_day = divmod(int(local), 86400)
    weekday = WEEKDAYS[(days + 3) % 7]  # 1970-01-01 was a Thursday
    minute = second_of_day // 60
    for span in centre.hours:
        if weekday in span.days:
            start = span.open.hour * 60 + span.open.minute
            end = span.close.hour * 60 + span.close.minute
            if start <= minute < end:
                return True
    return False
