"""The room as the supervisor's console reads it (GET /api/state, /api/state/events): each
waiting call's place in its queue, and each agent's calls today."""

from __future__ import annotations

import time
from pathlib import Path

from acd.service.agentday import AnsweredToday
from acd.service.live import LiveFigures, LiveSink
from acd.service.ports import TelephonyBase
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from acd.vocabulary.localtime import WIB, WIT, start_of_local_day
from acd.vocabulary.tiers import Tier
from tests.ops.support import serving, settings
from tests.store.db import write
from tests.support import Harness, build_flows

LISTED = "+62222034567"
# 2027-01-15 10:00 WIB (03:00 UTC)
MORNING = 1_800_000_000.0 - (1_800_000_000.0 % 86400) + 3 * 3600


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


def calls_today(live: LiveFigures) -> dict[str, int]:
    return {a["id"]: a["calls_today"] for a in live.state()["agents"]
            if a["calls_today"] or a["state"] != "logged_out"}


def test_calls_today_survive_a_new_login_and_a_transfer_counts_for_who_answered() -> None:
    h = Harness(start=MORNING)
    live = LiveFigures(h.acd, clock=lambda: h.now)
    sink = LiveSink(None, [live.observe])
    h.login("1001")
    for call_id in ("c1", "c2"):
        h.call(call_id)
        h.answer(call_id)
        h.send(ev.AgentHungUp(call_id), after=30)
        h.send(ev.WrapUpDone("1001"))
    h.send(ev.AgentLoggedOut("1001"))
    h.login("1001")  # a new shift at the same desk: the core's count starts again
    for out in h.log:
        if isinstance(out, rec.Record):
            sink.submit(out)
    (agent,) = [a for a in live.state()["agents"] if a["id"] == "1001"]
    assert (agent["calls_answered"], agent["calls_today"]) == (0, 2)
    h.wait(14 * 3600)  # midnight in Jakarta has passed: a new day
    assert calls_today(live) == {"1001": 0}


def test_each_agent_counts_the_day_of_their_centres_zone() -> None:
    zones = {"wit": WIT, "wib": WIB}
    day = AnsweredToday(lambda agent: zones[agent])
    late = MORNING + 13.5 * 3600  # 23:30 WIB, 01:30 WIT the next day
    for agent in zones:
        day.add(agent, late - 7200)  # 21:30 WIB, 23:30 WIT
    assert (day.today("wib", late), day.today("wit", late)) == (1, 0)
    day.add("wit", late)
    assert day.today("wit", late) == 1


async def test_a_restart_goes_on_counting_from_what_the_store_holds(
        tmp_path: Path, migrated_dsn: str) -> None:
    now = time.time()
    midnight = start_of_local_day(now, WIB)
    today = now - min(600.0, (now - midnight) / 2)  # earlier today, whatever the hour

    def answered(offer: str, agent: str, at: float, result: str = "answered") -> rec.OfferEnded:
        return rec.OfferEnded(offer, f"call-{offer}", agent, "bpbd-kota-bandung",
                              Tier.KABKOTA, f"PJSIP/{agent}", at - 5, at, result)  # type: ignore[arg-type]

    await write(migrated_dsn, [
        answered("o1", "1001", today), answered("o2", "1001", today),
        answered("o3", "1001", today, "no_answer"),  # rang and was not answered
        answered("o4", "1001", midnight - 60),  # yesterday
        answered("o5", "1002", today)])
    async with serving(settings(tmp_path, migrated_dsn), simulate=False,
                       telephony=TelephonyBase()) as daemon:
        assert calls_today(daemon.live) == {"1001": 2, "1002": 1}
        daemon.live.observe(answered("o6", "1001", daemon.live.clock()))
        assert calls_today(daemon.live)["1001"] == 3
