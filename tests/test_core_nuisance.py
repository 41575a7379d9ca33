"""The nuisance list a supervisor keeps at run time: effective from the number's next call,
beside the call flows' own list, until it expires or is taken off."""

from __future__ import annotations

from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from tests.support import Harness, of

PRANKSTER = "+6281399998888"


def caller_class(h: Harness, call_id: str) -> str:
    (started,) = of(h.call(call_id, caller=PRANKSTER), rec.CallStarted)
    return started.caller_class


def test_a_number_listed_at_run_time_is_a_nuisance_from_its_next_call_until_taken_off():
    h = Harness()
    h.login("1001")
    assert caller_class(h, "c1") != "nuisance"
    h.send(ev.NuisanceListed(PRANKSTER, h.now + 86400))
    assert caller_class(h, "c2") == "nuisance"
    h.acd.reconfigure(h.acd.flows, h.now)  # a reload of the call flows keeps it
    assert caller_class(h, "c3") == "nuisance"
    h.send(ev.NuisanceListed(PRANKSTER, None))
    assert caller_class(h, "c4") != "nuisance"


def test_a_listing_ends_when_it_expires():
    h = Harness()
    h.send(ev.NuisanceListed(PRANKSTER, h.now + 60))
    assert caller_class(h, "c1") == "nuisance"
    h.wait(61)
    assert caller_class(h, "c2") != "nuisance"
    h.send(ev.NuisanceListed(PRANKSTER, h.now - 1))  # restored after it ran out: nothing
    assert PRANKSTER not in h.acd.nuisance_listed
