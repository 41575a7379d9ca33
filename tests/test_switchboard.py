"""The runtime around the core: events in order, timers on time, commands in order per
call, nothing lost when the core or a command fails, failed tasks restarted."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from acd.domain.core import Acd
from acd.service.ports import TelephonyBase
from acd.service.supervisor import Supervisor
from acd.service.switchboard import Switchboard
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from config.regions import load_regions
from tests.support import build_flows, from_region


class FakePhones(TelephonyBase):
    """Plays Asterisk: takes commands (slowly for the first call), remembers the order."""

    def __init__(self) -> None:
        self.done: list[cmd.Command] = []
        self.fail_on: type | None = None

    async def execute(self, command: cmd.Command) -> None:
        if isinstance(command, cmd.Answer) and command.call_id == "slow":
            await asyncio.sleep(0.05)
        if self.fail_on and isinstance(command, self.fail_on):
            raise RuntimeError("ARI said 500")
        self.done.append(command)


class Records:
    def __init__(self) -> None:
        self.got: list[rec.Record] = []

    def submit(self, record: rec.Record) -> None:
        self.got.append(record)


@contextlib.asynccontextmanager
async def running(**escalation: object):
    flows = build_flows(escalation=escalation or {"kabkota": {"after_s": 0.2},
                                                  "province": {"after_s": 0.2}})
    ids = iter(range(1, 10**6))
    phones, records = FakePhones(), Records()
    board = Switchboard(Acd(flows, load_regions(), ids=lambda: f"o{next(ids)}"), phones, records)
    task = asyncio.create_task(board.run())
    try:
        yield board, phones, records
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await board.drain()


async def settle(seconds: float = 0.05) -> None:
    await asyncio.sleep(seconds)


async def test_commands_for_one_call_keep_their_order_while_other_calls_go_ahead():
    async with running() as (board, phones, _records):
        board.post(ev.CallArrived("slow", "+6281111111111", from_region("32.73")))
        board.post(ev.CallArrived("fast", "+6282222222222", from_region("32.73")))
        await settle(0.1)
        order = [(type(c).__name__, getattr(c, "call_id", "")) for c in phones.done]
        assert order.index(("Answer", "fast")) < order.index(("Answer", "slow"))
        assert order.index(("Answer", "slow")) < order.index(("PlayPrompt", "slow"))


async def test_the_core_timers_fire_on_the_wall_clock():
    async with running() as (board, _phones, records):
        board.post(ev.AgentLoggedIn("1001", "PJSIP/1001"))
        board.post(ev.AgentPaused("1001", "break"))
        board.post(ev.CallArrived("c1", "+6281111111111", from_region("32.73")))
        board.post(ev.PromptFinished("c1", "welcome"))
        await settle(0.35)
        hops = [(r.tier.value, r.reason) for r in records.got if isinstance(r, rec.TierHop)]
        # Waits at kabkota (1001 is logged in but paused) until the deadline; the province
        # has nobody logged in, so it lands at national for that reason.
        assert hops == [("kabkota", "arrival"), ("national", "unstaffed")]


async def test_records_reach_the_writer_and_alerts_are_kept_for_supervisors():
    async with running() as (board, _phones, records):
        board.post(ev.AgentLoggedIn("7777", "PJSIP/x"))
        board.post(ev.AgentLoggedIn("1001", "PJSIP/1001"))
        await settle()
        assert any(isinstance(r, rec.AgentStateChanged) for r in records.got)
        assert [a.kind for a in board.alerts] == ["login_rejected"]


async def test_a_core_failure_on_a_new_call_sends_it_back_to_the_dialplan(monkeypatch):
    async with running() as (board, phones, _records):
        def broken(*_args: object) -> None:
            raise ValueError("bug")
        monkeypatch.setitem(board.acd._handlers, ev.CallArrived, broken)
        board.post(ev.CallArrived("c1", "+6281111111111", from_region("32.73")))
        await settle()
        assert phones.done == [cmd.Fallback("c1", "internal error")]
        board.post(ev.AgentLoggedIn("1001", "PJSIP/1001"))  # and the loop carries on
        await settle()
        assert "1001" in [a.id for a in board.acd.agents.values() if a.device]


async def test_a_failing_command_does_not_stop_the_next_ones():
    async with running() as (board, phones, _records):
        phones.fail_on = cmd.Answer
        board.post(ev.CallArrived("c1", "+6281111111111", from_region("32.73")))
        await settle()
        assert [type(c) for c in phones.done] == [cmd.PlayPrompt]


async def test_the_supervisor_restarts_a_failed_task_and_stops_everything_on_cancel():
    runs: list[str] = []

    async def flaky() -> None:
        runs.append("flaky")
        if len(runs) < 3:
            raise ConnectionError("Asterisk went away")
        await asyncio.sleep(3600)

    async def steady() -> None:
        await asyncio.sleep(3600)

    sup = Supervisor(backoff_s=0.001)
    sup.add("ami", flaky)
    sup.add("switchboard", steady)
    task = asyncio.create_task(sup.run())
    async with asyncio.timeout(5):  # three starts, however busy the machine
        while len(runs) < 3:
            await asyncio.sleep(0.01)
    await settle(0.05)
    assert runs == ["flaky"] * 3 and sup.restarts("ami") == 2
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_record_the_writer_refuses_does_not_hold_up_the_callers_commands():
    class BrokenWriter:
        def submit(self, record: rec.Record) -> None:
            raise RuntimeError("disk full")

    ids = iter(range(1, 100))
    phones = FakePhones()
    board = Switchboard(Acd(build_flows(), load_regions(), ids=lambda: f"o{next(ids)}"),
                        phones, BrokenWriter())
    task = asyncio.create_task(board.run())
    try:
        board.post(ev.CallArrived("c1", "+6281111111111", from_region("32.73")))
        await settle()
        assert [type(c) for c in phones.done] == [cmd.Answer, cmd.PlayPrompt]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_events_posted_before_shutdown_still_reach_the_core_and_the_writer():
    ids = iter(range(1, 100))
    phones, records = FakePhones(), Records()
    board = Switchboard(Acd(build_flows(), load_regions(), ids=lambda: f"o{next(ids)}"),
                        phones, records)
    board.post(ev.CallArrived("c1", "+6281111111111", from_region("32.73")))
    board.post(ev.CallerHungUp("c1"))  # the loop has already stopped: nothing ran these
    board.flush()
    await board.drain()
    assert [r.outcome for r in records.got if isinstance(r, rec.CallEnded)] == ["abandoned"]
    assert board.acd.calls == {}
