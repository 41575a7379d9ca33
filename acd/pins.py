"""Agents' phone-login PINs: stored in the call flows only as argon2 hashes.

`acd117 pin-hash` prints the hash of a PIN for an admin to paste into `agents.yaml`.
"""

from __future__ import annotations

from collections.abc import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from config.models import CallFlows

_hasher = PasswordHasher()


def hash_pin(pin: str) -> str:
    if not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise ValueError("a PIN is 4 to 8 digits (keyed in on a phone)")
    return _hasher.hash(pin)


def pin_checker(flows: CallFlows) -> Callable[[str, str], bool]:
    """verify(agent_id, pin): an agent without a PIN hash cannot log in from a phone."""
    hashes = {a.id: a.pin_hash for a in flows.agents if a.pin_hash}

    def verify(agent_id: str, pin: str) -> bool:
        stored = hashes.get(agent_id)
        if stored is None:
            return False
        try:
            return _hasher.verify(stored, pin)
        except (VerificationError, InvalidHashError):
            return False

    return verify
