"""Live figures and metrics: from the core's state and the records as they flow."""

from __future__ import annotations

import json
import re

import pytest

from acd.http.metrics import Metrics
from acd.service.health import Health
from acd.service.live import LiveFigures, LiveSink
from acd.service.logs import bound_call, configure_logging
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from tests.support import Harness

# 2027-01-15 10:00 WIB (03:00 UTC)
MORNING = 1_800_000_000.0 - (1_800_000_000.0 % 86400) + 3 * 3600


class Fed:
    """A harness whose records feed live figures and metrics, as the daemon's sink does."""

    def __init__(self, start: float = MORNING) -> None:
        self.h = Harness(start=start)
        self.live = LiveFigures(self.h.acd, clock=lambda: self.h.now)
        self.metrics = Metrics(self.live, Health(), clock=lambda: self.h.now)
        self.sink = LiveSink(None, [self.live.observe, self.metrics.observe])
        self._seen = 0

    def pump(self) -> None:
        for out in self.h.log[self._seen:]:
            if isinstance(out, rec.CallStarted | rec.TierHop | rec.OfferEnded | rec.CallEnded
                          | rec.AgentStateChanged | rec.WrapUpEnded):
                self.sink.submit(out)
        self._seen = len(self.h.log)

    def centre(self, centre_id: str) -> dict:  # type: ignore[type-arg]
        self.pump()
        return next(c for c in self.live.snapshot()["centres"] if c["id"] == centre_id)


def metric(text: str, name: str, **labels: str) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{re.escape(name)}{{{re.escape(want)}}} (\S+)$" if labels else \
        rf"^{re.escape(name)} (\S+)$"
    found = re.search(pattern, text, re.M)
    assert found, f"{name} {labels} not in the exposition"
    return float(found.group(1))


def test_service_level_and_abandon_rate_today_count_each_call_where_it_ended() -> None:
    f = Fed()
    f.h.login("1001")
    f.h.call("fast")  # rung at once
    f.h.answer("fast")  # answered within 20 s
    f.h.call("slow")
    f.h.wait(25)  # waits at kabkota, escalated to the province (nobody logged in there)
    f.h.send(ev.AgentHungUp("fast"))
    f.h.wait(10)  # 1001's wrap-up ends and the waiting call (widened) rings them
    f.h.answer("slow")
    f.h.call("gone")
    f.h.send(ev.CallerHungUp("gone"), after=8)  # not a short abandon (5 s threshold)
    bdg = f.centre("bdg")
    assert bdg["answered_today"] == 2  # "slow" counts when answered, still talking
    snap = f.live.snapshot()
    total = snap["total"]
    assert total["answered_today"] == 2 and total["abandoned_today"] == 1
    assert total["service_level_today"] == pytest.approx(1 / 3, abs=1e-3)
    assert total["abandon_rate_today"] == pytest.approx(1 / 3, abs=1e-3)


def test_calls_waiting_longest_wait_and_agents_come_from_the_core_now() -> None:
    f = Fed()
    f.h.login("1001", "1002")
    f.h.send(ev.AgentPaused("1002", "break"))
    f.h.call("c1")  # rings 1001
    f.h.call("c2", welcome_done=True)
    f.h.wait(3)
    bdg = f.centre("bdg")
    assert bdg["waiting"] == 2  # one ringing, one queued
    assert bdg["longest_wait_s"] == pytest.approx(3.0)
    assert bdg["agents"]["ringing"] == 1 and bdg["agents"]["paused"] == 1
    assert bdg["agents"]["logged_in"] == 2


def test_escalations_count_for_one_hour() -> None:
    f = Fed()
    f.h.login("1001", "2001")
    f.h.send(ev.AgentPaused("1001", "break"))
    f.h.call("c1")
    f.h.wait(21)  # escalated to the province after 20 s
    assert f.centre("jabar")["escalations_1h"] == 1
    tiers = {t["tier"]: t for t in f.live.snapshot()["tiers"]}
    assert tiers["province"]["escalations_1h"] == 1
    f.h.wait(3600)
    assert f.centre("jabar")["escalations_1h"] == 0


def test_todays_figures_start_again_at_midnight_in_jakarta() -> None:
    evening = MORNING + 13.5 * 3600  # 23:30 WIB
    f = Fed(start=evening)
    f.h.login("1001")
    f.h.call("late")
    f.h.answer("late")
    f.h.send(ev.AgentHungUp("late"), after=60)
    assert f.centre("bdg")["answered_today"] == 1
    f.h.wait(1800)  # 00:30 WIB
    assert f.centre("bdg")["answered_today"] == 0


def test_metrics_expose_counters_gauges_and_health_per_daemon() -> None:
    f = Fed()
    f.h.login("1001")
    f.h.call("c1")
    f.h.answer("c1")
    f.h.send(ev.AgentHungUp("c1"), after=30)
    f.h.call("c2")
    f.h.wait(4)
    f.pump()
    f.metrics.health.set("ari", True)
    text = f.metrics.exposition().decode()
    assert metric(text, "acd117_calls_offered_total", centre="bdg", tier="kabkota") == 2
    assert metric(text, "acd117_calls_answered_total", centre="bdg", tier="kabkota") == 1
    assert metric(text, "acd117_calls_waiting", centre="bdg", tier="kabkota") == 1
    assert metric(text, "acd117_longest_wait_seconds", centre="bdg", tier="kabkota") == 4
    assert metric(text, "acd117_agents", centre="bdg", state="after_call_work") == 1
    assert metric(text, "acd117_agents_logged_in", centre="bdg") == 1
    assert metric(text, "acd117_service_level_ratio", centre="bdg") == 1.0
    assert metric(text, "acd117_component_up", component="ari") == 1
    assert metric(text, "acd117_component_up", component="ami") == 0
    assert metric(text, "acd117_call_wait_seconds_count", outcome="answered",
                  tier="kabkota") == 1
    other = Fed()  # a second daemon in the same process has its own registry
    assert metric(other.metrics.exposition().decode(), "acd117_calls_answered_total",
                  centre="bdg", tier="kabkota") == 0


async def test_event_loop_lag_is_measured() -> None:
    import asyncio
    import time

    f = Fed()
    task = asyncio.create_task(f.metrics.watch_loop_lag(every_s=0.01))
    await asyncio.sleep(0.02)
    time.sleep(0.1)  # block the loop
    await asyncio.sleep(0.05)
    task.cancel()
    assert f.metrics.loop_lag_s >= 0.05


def test_a_failing_observer_does_not_cost_the_store_its_record() -> None:
    got: list[rec.Record] = []

    class Store:
        def submit(self, r: rec.Record) -> None:
            got.append(r)

    def broken(_r: rec.Record) -> None:
        raise ZeroDivisionError

    sink = LiveSink(Store(), [broken])
    record = rec.WrapUpEnded("c", "1001", 3.0, 1.0)
    sink.submit(record)
    assert got == [record]


def test_logs_are_json_lines_with_the_call_id_bound(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json")
    try:
        bound_call("c-42", channel="PJSIP/trunk-0001").info("call queued", tier="kabkota")
        line = capsys.readouterr().err.strip().splitlines()[-1]
        data = json.loads(line)
        assert data["call_id"] == "c-42" and data["channel"] == "PJSIP/trunk-0001"
        assert data["event"] == "call queued" and data["level"] == "info"
    finally:
        import structlog

        structlog.reset_defaults()


async def test_adapter_log_lines_carry_the_call_id_of_the_command(
        capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    import structlog

    from acd.service.ports import TelephonyBase
    from acd.service.switchboard import Switchboard
    from acd.vocabulary import commands as cmd

    class Adapter(TelephonyBase):
        async def execute(self, command: cmd.Command) -> None:
            structlog.get_logger("acd117.ari").info("channel answered")

    configure_logging("json")
    try:
        h = Harness()
        board = Switchboard(h.acd, Adapter(), LiveSink(None, []))
        task = asyncio.create_task(board.run())
        board.post(ev.CallArrived("c-77", "+6281234567890", ev.Ingress()))
        await asyncio.sleep(0.05)
        task.cancel()
        await board.drain()
        lines = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
        assert any(x["event"] == "channel answered" and x["call_id"] == "c-77" for x in lines)
    finally:
        structlog.reset_defaults()
