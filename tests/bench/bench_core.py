"""The core at national scale: 553 centres, 5,000 agents, 10,000 calls waiting at once.

Every event goes through `Acd.handle` on a virtual clock advancing 1 ms per event, so the
core's own timers (escalations, periodic prompts for 10,000 waiting callers, wrap-ups) fire
inside the measured calls just as they would in production.
"""

from __future__ import annotations

import itertools
import random
import time

from acd.domain.core import Acd
from acd.domain.model import AgentState, CallState
from acd.people.simulate import Simulation
from acd.vocabulary import events as ev
from config.regions import load_regions
from tests.bench.national import national_day, national_flows

WAITING = 10_000
MEASURED_EVENTS = 200_000


def run_core() -> dict[str, float]:
    regions = load_regions()
    flows = national_flows(regions)
    offers = itertools.count(1)
    acd = Acd(flows, regions, ids=lambda: f"o{next(offers)}")
    rng = random.Random(117)
    now = 1_800_000_000.0
    codes = [r.code for r in regions.regencies()]
    agents = list(acd.agents)
    # Every agent logged in and paused: calls pile up.
    for a in agents:
        acd.handle(ev.AgentLoggedIn(a, f"PJSIP/{a}"), now)
        acd.handle(ev.AgentPaused(a, "briefing"), now)
    calls = itertools.count(1)

    def arrive(t: float) -> None:
        cid = f"c{next(calls)}"
        ingress = ev.Ingress(trunk="trunk-telkomsel",
                             headers=(("X-Cell-Region", rng.choice(codes)),))
        acd.handle(ev.CallArrived(cid, f"+628{rng.randrange(10**9, 10**10)}", ingress), t)
        acd.handle(ev.PromptFinished(cid, "welcome"), t)

    for _ in range(WAITING):
        arrive(now)
    print(f"  core: {len(acd.calls)} calls waiting, {len(agents)} agents, "
          f"{len(flows.centres)} centres")

    # Steady state: agents come back one by one and take calls; each answered call is
    # replaced by a new arrival, so about 10,000 keep waiting; some callers give up.
    latencies: list[int] = []
    events = 0
    start = time.perf_counter()
    while events < MEASURED_EVENTS:
        now += 0.001
        agent = acd.agents[rng.choice(agents)]
        t0 = time.perf_counter_ns()
        if agent.state is AgentState.PAUSED:
            acd.handle(ev.AgentUnpaused(agent.id), now)
        elif agent.state is AgentState.RINGING:
            acd.handle(ev.RingAnswered(agent.offer_id or ""), now)
        elif agent.state is AgentState.ON_CALL:
            acd.handle(ev.AgentHungUp(agent.call_id or ""), now)
        elif agent.state is AgentState.AFTER_CALL_WORK:
            acd.handle(ev.WrapUpDone(agent.id), now)
        elif agent.state is AgentState.AVAILABLE:
            acd.handle(ev.AgentPaused(agent.id, "break"), now)
        elif rng.random() < 0.5 and acd.calls:
            # a caller gives up (the oldest call is a fine choice: dicts keep order)
            victim = next(iter(acd.calls.values()))
            if victim.state is not CallState.CONNECTED:
                acd.handle(ev.CallerHungUp(victim.id), now)
        latencies.append(time.perf_counter_ns() - t0)
        events += 1
        if events % 50 == 0:  # top the queues back up to 10,000 waiting calls
            for _ in range(max(0, WAITING - len(acd.calls)) // 2):
                t0 = time.perf_counter_ns()
                arrive(now)  # two events: the arrival and the end of its welcome
                half = (time.perf_counter_ns() - t0) // 2
                latencies += (half, half)
                events += 2
    elapsed = time.perf_counter() - start
    latencies.sort()
    p99_us = latencies[int(len(latencies) * 0.99)] / 1000
    print(f"  core: {events} events in {elapsed:.2f} s, {len(acd.calls)} calls in the system")
    return {"events_per_s": round(events / elapsed), "p99_us": round(p99_us, 1)}


def run_day() -> dict[str, float]:
    regions = load_regions()
    sim = Simulation(national_flows(regions), regions, national_day(regions), seed=117)
    start = time.perf_counter()
    report = sim.run(24)
    elapsed = time.perf_counter() - start
    print(f"  national day: {report.offered} calls, {report.events} events, "
          f"service level {report.service_level_20s:.1%}, simulated in {elapsed:.1f} s")
    return {"sim_day_s": round(elapsed, 1), "sim_day_calls": report.offered}
