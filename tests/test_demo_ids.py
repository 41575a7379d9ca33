"""The demo's call ids are the calls table's key: a restart must never reuse one."""

from __future__ import annotations

import asyncio
import contextlib

from acd.people.demo import DemoTraffic, SimulatedTelephony
from acd.vocabulary import events as ev
from config.loader import load_flows
from tests.ops.support import until

FLOWS = load_flows("config/example")


async def call_ids_of_one_run(seed: int) -> list[str]:
    posted: list[ev.Event] = []
    phones = SimulatedTelephony(FLOWS, DemoTraffic(calls_per_hour=36_000.0), seed=seed,
                                time_scale=0.001)
    phones.attach(posted.append)
    task = asyncio.create_task(phones.run())
    await until(lambda: sum(isinstance(e, ev.CallArrived) for e in posted) >= 20)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return [e.call_id for e in posted if isinstance(e, ev.CallArrived)]


async def test_a_restarted_demo_with_the_same_seed_never_reuses_a_call_id() -> None:
    before = await call_ids_of_one_run(seed=7)
    after = await call_ids_of_one_run(seed=7)
    assert len(set(before)) == len(before)
    assert not set(before) & set(after)
