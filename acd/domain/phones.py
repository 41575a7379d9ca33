"""Who may sit at which phone: the policy the core applies to every login, by phone (*11)
or by the HTTP API, and to the phone a supervisor monitors from.

- A phone is a clean PJSIP endpoint name (`PJSIP/1001`): anything else (a dial string with
  a number, a Local channel, a newline) could divert 117 calls or a snoop anywhere.
- A trunk (an endpoint an ingress rule names) is never an agent's or a supervisor's phone.
- A centre's `phones` belong to it: only its agents sit at them, and they sit nowhere else.
  A centre listing none leaves its agents free seating at any phone no centre lists.
- One agent per phone: an occupied phone is refused, never taken over (taking over let any
  agent log out anyone, anywhere).
- A supervisor monitors from a phone some centre lists under `supervisor_phones` (when
  any centre lists them), never from an agent's phone or one an agent is logged in at.

Pure and synchronous, like the core that asks it.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

from config.models import CallFlows

ENDPOINT = re.compile(r"PJSIP/[A-Za-z0-9_.-]{1,64}")


def is_endpoint(device: str) -> bool:
    """Whether `device` is a clean PJSIP endpoint name (no number, channel or newline)."""
    return ENDPOINT.fullmatch(device) is not None


def _matches(device: str, patterns: list[str]) -> bool:
    return any(fnmatchcase(device, p) for p in patterns)


class PhonePolicy:
    def __init__(self, flows: CallFlows) -> None:
        self.trunks = frozenset(f"PJSIP/{r.trunk}" for r in flows.ingress.rules
                                if r.trunk is not None)
        self.phones = {c.id: list(c.phones) for c in flows.centres if c.phones}
        self.supervisor_phones = [p for c in flows.centres for p in c.supervisor_phones]

    def _common(self, device: str) -> str | None:
        if not is_endpoint(device):
            return "not a phone: a PJSIP endpoint name such as PJSIP/1001 is expected"
        if device in self.trunks:
            return f"{device} is a trunk, not a phone"
        return None

    def agent_refusal(self, centre_id: str, device: str) -> str | None:
        """Why an agent of `centre_id` may not sit at `device` (occupancy apart), or None."""
        if (why := self._common(device)) is not None:
            return why
        own = self.phones.get(centre_id)
        if own is not None:
            return None if _matches(device, own) else \
                f"{device} is not one of centre {centre_id}'s phones"
        owner = next((c for c, pats in self.phones.items() if _matches(device, pats)), None)
        return None if owner is None else f"{device} is a phone of centre {owner}"

    def supervisor_refusal(self, device: str) -> str | None:
        """Why a supervisor may not monitor from `device` (occupancy apart), or None."""
        if (why := self._common(device)) is not None:
            return why
        if self.supervisor_phones:
            if not _matches(device, self.supervisor_phones):
                return f"{device} is not a supervisor's phone"
        elif any(_matches(device, pats) for pats in self.phones.values()):
            return f"{device} is an agent's phone"
        return None
