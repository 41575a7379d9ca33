"""An audit line on its way to `audit_log`, through the writer's spool like a call record.

Written by the HTTP API (`Users.audit`) with `StoreWriter.submit`: journalled at once, so an
action taken during a database outage is answered honestly and its audit line is written
when PostgreSQL is back, never lost and never holding up the answer. `entry_id` is the
natural key: a replayed line is written once.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class AuditEntry:
    entry_id: str  # unique per line (a UUID): replays of the spool write it once
    at: float  # epoch seconds, when it happened (not when the database got it)
    username: str | None
    role: str | None
    action: str
    target: str | None
    outcome: str
    remote: str | None
    detail: str | None  # JSON text, or None


def audit_entry(username: str | None, role: str | None, action: str, outcome: str, *,
                target: str | None = None, remote: str | None = None,
                detail: dict[str, Any] | None = None, at: float | None = None) -> AuditEntry:
    return AuditEntry(uuid.uuid4().hex, time.time() if at is None else at, username, role,
                      action, target, outcome, remote,
                      json.dumps(detail, default=str) if detail is not None else None)
