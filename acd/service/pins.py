"""Agents' phone-login PINs: stored in the call flows only as argon2 hashes.

`acd117 pin-hash` prints the hash of a PIN for an admin to paste into `agents.yaml`.
Checking one takes ~0.1 s of CPU by design, so it runs in a pool of its own (acd.service.hashing),
never on the event loop that carries the calls nor in the default executor that the record
journal's fsync uses; five wrong PINs in five minutes lock the agent's phone login for five
minutes (a 4-digit PIN would otherwise fall to a few thousand calls). An attempt is counted
before its check, so PINs keyed on several phones at once are held too.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from acd.service.hashing import HashPool
from config.models import CallFlows

_hasher = PasswordHasher()


def hash_pin(pin: str) -> str:
    if not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise ValueError("a PIN is 4 to 8 digits (keyed in on a phone)")
    return _hasher.hash(pin)


log = structlog.get_logger("acd117.pins")
MAX_FAILURES = 5
LOCKOUT_S = 300.0


def pin_checker(flows: Callable[[], CallFlows],
                clock: Callable[[], float] = time.monotonic,
                pool: HashPool | None = None) -> Callable[[str, str], Awaitable[bool]]:
    """verify(agent_id, pin) against the call flows in force (a reload takes effect at
    once); an agent without a PIN hash cannot log in from a phone."""
    failures: dict[str, list[float]] = {}
    hashes = pool or HashPool("argon2-pin", workers=1)

    async def verify(agent_id: str, pin: str) -> bool:
        now = clock()
        recent = [t for t in failures.get(agent_id, []) if now - t < LOCKOUT_S]
        if len(recent) >= MAX_FAILURES:
            log.warning("phone login refused: too many wrong PINs", agent_id=agent_id)
            return False
        failures[agent_id] = [*recent, now]  # counted before the check, given back if right
        stored = next((a.pin_hash for a in flows().agents if a.id == agent_id), None)
        ok = stored is not None and await hashes.run(_matches, stored, pin)
        if ok:
            failures.pop(agent_id, None)
            log.info("phone login accepted", agent_id=agent_id)
        else:
            log.warning("phone login refused: wrong agent id or PIN", agent_id=agent_id)
        return ok

    return verify


def _matches(stored: str, pin: str) -> bool:
    try:
        return _hasher.verify(stored, pin)
    except (VerificationError, InvalidHashError):
        return False
