"""Alerts: what the core raises for supervisors and ops, beside its commands and records.

Not a command: no telephony carries it out. The switchboard keeps the recent ones (the
`/api/alerts` list), logs them and counts them in the metrics (acd117_alerts_total).
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Alert:
    kind: str  # e.g. national_long_wait, centre_unstaffed, nuisance_call
    message: str
    at: float
    call_id: str | None = None
    centre_id: str | None = None
