"""One local time (acd.vocabulary.localtime): the wallboard's "today", the reports' days, the
opening hours and the nuisance listings all turn the day at the same instant, local midnight,
in each of Indonesia's three zones."""

from __future__ import annotations

import typing
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from acd.domain.callers import CallerPolicy, parse_caller
from acd.service.live import LiveFigures
from acd.service.reports import period_start
from acd.vocabulary.localtime import UTC_OFFSET_S, WIB, end_of_local_day, local_day, zone_of
from config.models import Callers, Centre
from escalation.policy import is_open
from tests.support import Harness, queue

# 2027-01-01 (a Friday) 00:00 local time, as a UNIX time, per zone.
MIDNIGHT = {zone: datetime(2027, 1, 1, tzinfo=ZoneInfo(zone)).timestamp()
            for zone in UTC_OFFSET_S}


def test_the_zones_are_those_a_centre_may_name_and_the_zone_database_agrees() -> None:
    timezone_field = Centre.model_fields["timezone"].annotation
    assert set(typing.get_args(timezone_field)) == set(UTC_OFFSET_S)
    for zone, at in MIDNIGHT.items():
        assert datetime.fromtimestamp(at, zone_of(zone)) == \
            datetime.fromtimestamp(at, ZoneInfo(zone))
        assert end_of_local_day(date(2026, 12, 31), zone) == at


@pytest.mark.parametrize("zone", sorted(UTC_OFFSET_S))
def test_every_figure_turns_the_day_at_local_midnight(zone: str) -> None:
    before, after = MIDNIGHT[zone] - 1, MIDNIGHT[zone]
    live = LiveFigures(Harness().acd, zone=zone)
    assert live.local_day(after) == live.local_day(before) + 1 == local_day(after, zone)
    days = [period_start(datetime.fromtimestamp(t, UTC), "day", zone) for t in (before, after)]
    assert [d.date() for d in days] == [date(2026, 12, 31), date(2027, 1, 1)]
    fridays = Centre.model_validate({
        "id": "c", "name": "c", "region": "32.73", "timezone": zone,
        "hours": [{"days": ["fri"], "open": time(0, 0), "close": time(23, 59)}],
        "queues": [queue()]})
    assert (is_open(fridays, before), is_open(fridays, after)) == (False, True)
    if zone == WIB:  # nuisance listings end with their day in Jakarta
        policy = CallerPolicy(Callers(nuisance=[{"number": "+6285700000117",
                                                 "until": date(2026, 12, 31),
                                                 "reason": "pranks"}]))
        caller = parse_caller("+6285700000117")
        assert policy.classify(caller, before, None).nuisance
        assert not policy.classify(caller, after, None).nuisance
