"""Local time in Indonesia, one definition for every layer.

Indonesia has three zones, WIB (UTC+7), WITA (UTC+8) and WIT (UTC+9), whole hours from UTC
and without daylight saving time (none since 1964), so local time is a fixed offset: the
core computes it without reading the time zone database (no I/O), and the reports, the
wallboard's "today" and the opening hours agree on where a day begins. A zone outside
Indonesia (the reports' `tz` accepts any IANA name) comes from the zone database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Final
from zoneinfo import ZoneInfo

WIB: Final = "Asia/Jakarta"  # the default: the national centre's zone
WITA: Final = "Asia/Makassar"
WIT: Final = "Asia/Jayapura"
UTC_OFFSET_S: Final = {WIB: 7 * 3600, WITA: 8 * 3600, WIT: 9 * 3600}
_ABBREVIATION = {WIB: "WIB", WITA: "WITA", WIT: "WIT"}
DAY_S: Final = 86400


def utc_offset_s(zone: str = WIB) -> int:
    """Seconds east of UTC of an Indonesian zone."""
    return UTC_OFFSET_S[zone]


def zone_of(name: str = WIB) -> tzinfo:
    """The tzinfo of a zone: a fixed offset for Indonesia's, the zone database's otherwise."""
    if name in UTC_OFFSET_S:
        return timezone(timedelta(seconds=UTC_OFFSET_S[name]), _ABBREVIATION[name])
    return ZoneInfo(name)


def local_seconds(at: float, zone: str = WIB) -> float:
    """Seconds since 1970-01-01 00:00 local time: `at` (a UNIX time) on the local clock."""
    return at + UTC_OFFSET_S[zone]


def local_day(at: float, zone: str = WIB) -> int:
    """Days since 1970-01-01 in local time (a new day at local midnight)."""
    return int(local_seconds(at, zone) // DAY_S)


def start_of_local_day(at: float, zone: str = WIB) -> float:
    """The UNIX time of the local midnight that began the day `at` falls in."""
    return at - local_seconds(at, zone) % DAY_S


def local_datetime(at: float, zone: str = WIB) -> datetime:
    return datetime.fromtimestamp(at, zone_of(zone))


def end_of_local_day(day: date, zone: str = WIB) -> float:
    """The UNIX time at which `day` ends (the next local midnight)."""
    midnight = datetime.combine(day + timedelta(days=1), time.min, UTC)
    return midnight.timestamp() - UTC_OFFSET_S[zone]
