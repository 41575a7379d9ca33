"""The room as the supervisor's console reads it (GET /api/state, /api/state/events): each
waiting call's place in its queue, and each agent's calls today."""

from __future__ import annotations

from acd.service.live import LiveFigures
from acd.vocabulary import events as ev
from tests.support import Harness, build_flows

LISTED = "+62222034567"


def positions(live: LiveFigures) -> dict[str, int | None]:
    return {c["id"]: c["position"] for c in live.state()["calls"]}


def test_waiting_calls_are_numbered_in_the_order_the_core_serves_them() -> None:
    flows = build_flows(callers={"classes": [
        {"name": "listed", "numbers": [LISTED]},
        {"name": "mobile", "line_type": "mobile"}]})
    h = Harness(flows)
    live = LiveFigures(h.acd, clock=lambda: h.now)
    h.login("1001")
    h.send(ev.AgentPaused("1001", "break"))
    h.call("m1", caller="+6281111111111")
    h.call("m2", caller="+6281222222222")
    h.call("L1", caller=LISTED)  # a listed number: the higher class, served first
    # Hearing the welcome, but already waiting (the phones ring during it): last in line.
    h.call("w", caller="+6281333333333", welcome_done=False)
    assert positions(live) == {"L1": 1, "m1": 2, "m2": 3, "w": 4}

    h.send(ev.AgentUnpaused("1001"))  # L1 rings 1001: out of the queue while it rings
    assert positions(live) == {"L1": None, "m1": 1, "m2": 2, "w": 3}
    h.answer("L1")
    h.send(ev.CallerHungUp("m1"))  # gave up: those behind move up
    assert positions(live) == {"L1": None, "m2": 1, "w": 2}
