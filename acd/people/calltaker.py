"""What a simulated call taker writes at wrap-up (the demo and `acd117 simulate` alike)."""

from __future__ import annotations

import random

from acd.vocabulary import events as ev
from config.wrapup import WrapUp

# Rough shares of what reaches an emergency line; a code the call flows name otherwise
# gets the weight of one.
SHARES = {"emergency": 55.0, "information": 25.0, "silent": 8.0, "prank": 7.0,
          "wrong_number": 4.0, "test": 1.0}
PLACES = ("Kelurahan Cibangkong, Kec. Batununggal", "Desa Lolu, Kec. Sigi Biromaru",
          "Kelurahan Talise, Kec. Mantikulore", "Desa Sukamaju, Kec. Cianjur")


def form_s(rng: random.Random) -> float:
    """How long the wrap-up form takes after the call (within the usual 30 s wrap-up)."""
    return rng.uniform(5.0, 25.0)


def classification(rng: random.Random, wrapup: WrapUp, agent_id: str,
                   call_id: str) -> ev.CallClassified | None:
    """The call taker's classification of the call, or None when the flows have none."""
    if not wrapup.classes:
        return None
    chosen = rng.choices(wrapup.classes,
                         [SHARES.get(c.code, 1.0) for c in wrapup.classes])[0]
    if not chosen.report:
        return ev.CallClassified(agent_id, call_id, chosen.code)
    kind = rng.choice(wrapup.emergency_types).code if wrapup.emergency_types else None
    return ev.CallClassified(agent_id, call_id, chosen.code, emergency_type=kind,
                             place=rng.choice(PLACES), people_affected=rng.randint(1, 40))
