"""The call figures' definitions, one each, for the wallboard, the metrics, the reports and
the simulator alike (sql/008's call_stats and the alert rules in ops/ say the same in SQL and
PromQL).

A short abandon (a misdial, a caller who hung up at once: a wait under
ACD117_SHORT_ABANDON_S) counts neither way; a call is answered in time when its caller
waited at most ACD117_SERVICE_LEVEL_S.
"""

from __future__ import annotations


def answered_in_time(wait_s: float, service_level_s: float) -> bool:
    return wait_s <= service_level_s


def short_abandon(wait_s: float, short_abandon_s: float) -> bool:
    return wait_s < short_abandon_s


def service_level(answered: int, abandoned: int, short: int, within: int) -> float | None:
    """Answered in time over answered + abandoned, short abandons left out; None without
    a call to count."""
    base = answered + abandoned - short
    return within / base if base > 0 else None


def abandon_rate(answered: int, abandoned: int, short: int) -> float | None:
    """Abandoned over answered + abandoned, short abandons left out of both; None without
    a call to count."""
    base = answered + abandoned - short
    return (abandoned - short) / base if base > 0 else None
