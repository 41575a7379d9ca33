"""How fast a 117 caller reaches an agent on the real Asterisk: acd117 and, on the same
phones with the same welcome, app_queue.

    .venv/bin/python tests/bench/answer_speed.py [--phones 60] [--seconds 20] [--rates 2,15,30]
        [--talk 2] [--patience S] [--no-app-queue]

The soak (more callers than phones can take, for five minutes; callers give up after 30 s):

    .venv/bin/python tests/bench/answer_speed.py --seconds 300 --rates 30 --patience 30 \
        --no-app-queue

Callers arrive at a steady rate; every phone answers at once; a caller hangs up `talk_s`
after being bridged. Every time comes from Asterisk's own AMI event `Timestamp`s:

- entry: the caller's channel is created (`Newchannel`);
- first ring request: the agent's channel that was bridged with the caller is created
  (acd117's originate, or app_queue's dial);
- agent answer: that channel goes `Up` (`Newstate`);
- bridged: both are in one bridge (the later `BridgeEnter`).

A call never bridged within the run and its drain is counted lost, unless its caller gave up
(`--patience`); then acd117's database must say so. After each acd117 run the bench reads
what acd117 wrote: a call without its row, or with an outcome other than what Asterisk
showed (answered if bridged, abandoned if its caller gave up), is lost too; a phone rung for
two calls at once, a call ringing two phones at once or answered twice is a double offer.
acd117's CPU is read from /proc for its process: CPU seconds over the run per call.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.asterisk_bed import (
    APP_QUEUE_CONTEXT,
    PHONE_PREFIX,
    PhoneRack,
    add_users,
    create_bed,
    log_in_agents,
    start_rack,
    write_bench_flows,
)
from tests.integration.ami import Ami, Message
from tests.integration.asterisk import (
    TEST_AMI_SECRET,
    TEST_AMI_USER,
    Sandbox,
    asterisk_ports,
    missing,
)
from tests.integration.daemon import BANDUNG_DID, Acd117


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))], 1)


@dataclass
class Timeline:
    """What the AMI events say of each call, folded as they come."""

    calls: set[str] = field(default_factory=set)
    created: dict[str, float] = field(default_factory=dict)  # uniqueid -> Newchannel time
    up: dict[str, float] = field(default_factory=dict)  # uniqueid -> first Up
    channel: dict[str, str] = field(default_factory=dict)  # uniqueid -> channel name
    members: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    entered: dict[tuple[str, str], float] = field(default_factory=dict)
    bridged: dict[str, tuple[str, float]] = field(default_factory=dict)  # call -> agent, t
    gave_up: set[str] = field(default_factory=set)  # callers who hung up, never bridged
    waiting: dict[str, asyncio.Future[None]] = field(default_factory=dict)

    def feed(self, e: Message) -> None:
        kind, uid = e.get("Event"), e.get("Uniqueid", "")
        t = float(e.get("Timestamp") or e["_t"])
        if kind == "Newchannel":
            self.created.setdefault(uid, t)
            self.channel[uid] = e.get("Channel", "")
        elif kind == "Newstate" and e.get("ChannelStateDesc") == "Up":
            self.up.setdefault(uid, t)
        elif kind == "BridgeEnter":
            bridge = e.get("BridgeUniqueid", "")
            self.members[bridge].add(uid)
            self.entered[(bridge, uid)] = t
            self._check(bridge)
        elif kind == "BridgeLeave":
            self.members[e.get("BridgeUniqueid", "")].discard(uid)

    def _check(self, bridge: str) -> None:
        inside = self.members[bridge]
        callers = [u for u in inside if u in self.calls and u not in self.bridged]
        agents = [u for u in inside if self.channel.get(u, "").startswith(f"PJSIP/{PHONE_PREFIX}")]
        for call in callers:
            if agents:
                agent = agents[0]
                self.bridged[call] = (agent, max(self.entered[(bridge, call)],
                                                 self.entered[(bridge, agent)]))
                fut = self.waiting.pop(call, None)
                if fut is not None and not fut.done():
                    fut.set_result(None)

    def figures(self) -> dict[str, Any]:
        first_ring, answer_to_bridge, entry_to_bridge = [], [], []
        slowest: list[tuple[float, str]] = []  # (answer -> bridged, call): where to look
        for call, (agent, at) in self.bridged.items():
            entry = self.created.get(call)
            ring = self.created.get(agent)
            answered = self.up.get(agent)
            if entry is None or ring is None:
                continue
            first_ring.append((ring - entry) * 1000)
            entry_to_bridge.append((at - entry) * 1000)
            if answered is not None:
                answer_to_bridge.append((at - answered) * 1000)
                slowest.append(((at - answered) * 1000, call))
        return {
            "calls": len(self.calls), "bridged": len(self.bridged),
            "gave_up": len(self.gave_up),
            "lost": len(self.calls - set(self.bridged) - self.gave_up),
            "first_ring_p50_ms": pct(first_ring, 50), "first_ring_p99_ms": pct(first_ring, 99),
            "answer_to_bridge_p50_ms": pct(answer_to_bridge, 50),
            "answer_to_bridge_p99_ms": pct(answer_to_bridge, 99),
            "entry_to_bridge_p50_ms": pct(entry_to_bridge, 50),
            "entry_to_bridge_p99_ms": pct(entry_to_bridge, 99),
            "slowest_answer_to_bridge": [c for _, c in sorted(slowest, reverse=True)[:3]],
            "never_bridged": sorted(self.calls - set(self.bridged) - self.gave_up)[:5],
        }


async def follow(ami: Ami, timeline: Timeline) -> None:
    """Folds the AMI events into the timeline and drops them (a long run would keep
    hundreds of thousands)."""
    while True:
        async with ami._changed:
            await ami._changed.wait_for(lambda: bool(ami.events))
            batch, ami.events[:] = list(ami.events), []
        for e in batch:
            timeline.feed(e)


async def caller(ami: Ami, timeline: Timeline, call_id: str, context: str, talk_s: float,
                 patience_s: float, gives_up: bool) -> None:
    """One caller: dials, waits to be bridged (at most `patience_s`), talks, hangs up.
    A caller who `gives_up` is counted so (the daemon must record an abandoned call);
    one who does not was lost when never bridged."""
    timeline.calls.add(call_id)
    bridged = timeline.waiting[call_id] = asyncio.get_running_loop().create_future()
    await ami.originate_caller(number=BANDUNG_DID, caller_id=f'"Bench" <+62812{call_id[-7:]}>',
                               channel_id=call_id, context=context)
    try:
        await asyncio.wait_for(bridged, patience_s)
        await asyncio.sleep(talk_s)
    except TimeoutError:
        if gives_up and call_id not in timeline.bridged:  # not bridged as the wait ran out
            timeline.gave_up.add(call_id)
    caller_side = timeline.channel.get(f"c-{call_id}")
    if caller_side:
        # gone already, or Asterisk too busy to answer the action in time (it is still
        # carried out): a caller is not left waiting for the bench's bookkeeping
        with contextlib.suppress(AssertionError, TimeoutError):
            await ami.hangup(caller_side)


async def load(ami: Ami, context: str, rate: float, seconds: float, talk_s: float,
               patience_s: float, gives_up: bool = False) -> Timeline:
    timeline = Timeline()
    follower = asyncio.create_task(follow(ami, timeline))
    try:
        async with asyncio.TaskGroup() as tasks:
            start = time.monotonic()
            n = int(rate * seconds)
            for i in range(n):
                await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
                call_id = f"bn-{uuid.uuid4().hex[:10]}"
                tasks.create_task(caller(ami, timeline, call_id, context, talk_s, patience_s,
                                         gives_up))
        await asyncio.sleep(2)  # the last hang-ups' events
    finally:
        follower.cancel()
    return timeline


async def quiesce(box: Sandbox, timeout: float = 60.0) -> None:
    """Until Asterisk has no channel left (the agents' wrap-up over too), hanging up what
    is still there after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (await asyncio.to_thread(box.cli, "core show channels count")).startswith(
                "0 active channels"):
            await asyncio.sleep(2)  # wrap-up after the last call
            return
        await asyncio.sleep(0.5)
    box.hang_up_everything()
    await asyncio.sleep(3)


async def ledger(dsn: str, timeline: Timeline, timeout: float = 120.0) -> dict[str, Any]:
    """What acd117 wrote of the run's calls, against what Asterisk showed: every call has
    its row, answered if it was bridged, abandoned if its caller gave up (or answered, if
    an agent picked up as the caller left) (`unrecorded`, `misrecorded`); no phone rung for
    two calls at once, no call ringing two phones at once (the bench's queue rings one
    agent at a time), no call answered twice (`double_offers`)."""
    import asyncpg

    ids = sorted(timeline.calls)
    conn = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + timeout
        while True:  # the writer journals first and flushes in batches
            rows = await conn.fetch("SELECT call_id, outcome FROM calls WHERE call_id = ANY($1)"
                                    " AND outcome IS NOT NULL", ids)
            if len(rows) == len(ids) or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        outcome = {r["call_id"]: r["outcome"] for r in rows}
        picked_up = {r["call_id"] for r in await conn.fetch(
            "SELECT DISTINCT call_id FROM call_offers WHERE call_id = ANY($1)"
            " AND result = 'answered'", ids)}

        def recorded_right(call: str) -> bool:
            if call in timeline.bridged:
                return outcome[call] == "answered"
            # A caller who gave up as an agent picked up was answered, in acd117's books
            # as in app_queue's; the agent's answered offer must say so.
            return outcome[call] == "abandoned" or (
                outcome[call] == "answered" and call in picked_up)

        wrong = [f"{c}: {outcome[c]}" for c in ids if c in outcome and not recorded_right(c)]
        overlapping = """
            SELECT count(*) FROM call_offers a JOIN call_offers b
              ON a.{same} = b.{same} AND a.offer_id < b.offer_id
             AND a.offered_at < b.ended_at AND b.offered_at < a.ended_at
             WHERE a.call_id = ANY($1)"""
        phone_twice = await conn.fetchval(overlapping.format(same="agent_id"), ids)
        call_twice = await conn.fetchval(overlapping.format(same="call_id"), ids)
        answered_twice = await conn.fetchval(
            "SELECT count(*) FROM (SELECT call_id FROM call_offers WHERE call_id = ANY($1)"
            " AND result = 'answered' GROUP BY call_id HAVING count(*) > 1) t", ids)
    finally:
        await conn.close()
    return {"unrecorded": len(ids) - len(outcome), "misrecorded": len(wrong),
            "misrecorded_calls": wrong[:5],
            "double_offers": phone_twice + call_twice + answered_twice}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def bench(phones: int, seconds: float, rates: list[float], talk_s: float,
                dsn: str, app_queue: bool, patience_s: float | None) -> dict[str, Any]:
    with asterisk_ports():  # waits for any test run using the machine's Asterisk ports
        return await _bench(phones, seconds, rates, talk_s, dsn, app_queue, patience_s)


async def _bench(phones: int, seconds: float, rates: list[float], talk_s: float,
                 dsn: str, app_queue: bool, patience_s: float | None) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="acd117-bench-"))
    box = create_bed(work, phones)
    await box.start()
    audio = work / "voice.wav"
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(audio), "synth",
                    "600", "sine", "440", "vol", "0.1"], check=True)
    rack: PhoneRack | None = None
    ami = Ami("127.0.0.1", 5038, TEST_AMI_USER, TEST_AMI_SECRET)
    out: dict[str, Any] = {"phones": phones, "seconds_per_rate": seconds, "talk_s": talk_s,
                           "patience_s": patience_s}
    # Without a patience, callers wait out the run and its drain: any never bridged is lost.
    patience, gives_up = (seconds + 60, False) if patience_s is None else (patience_s, True)
    acd = Acd117(work, box, dsn, write_bench_flows(work / "flows", phones),
                 ACD117_LOG_LEVEL="info")
    try:  # whatever fails, nothing is left running (Asterisk's ports are fixed)
        rack = await start_rack(box, work / "rack", audio, phones)
        await ami.connect()
        await add_users(dsn, phones)
        await acd.start()
        await log_in_agents(acd, phones)
        for rate in rates:  # each system on a quiet bed: no channel left from the last run
            await quiesce(box)
            assert acd.proc is not None
            cpu0 = cpu_seconds(acd.proc.pid)
            timeline = await load(ami, "acd117-from-trunk", rate, seconds, talk_s, patience,
                                  gives_up)
            figures = {**timeline.figures(), **await ledger(dsn, timeline)}
            figures["cpu_per_call_ms"] = round(
                (cpu_seconds(acd.proc.pid) - cpu0) * 1000 / max(1, figures["calls"]), 2)
            out[f"acd117@{rate:g}"] = figures
            print(f"acd117 {rate:g} calls/s: {json.dumps(figures)}", flush=True)
            if app_queue:  # acd117 stays up, idle: app_queue's calls never enter Stasis
                await quiesce(box)
                timeline = await load(ami, APP_QUEUE_CONTEXT, rate, seconds, talk_s, patience,
                                      gives_up)
                out[f"app_queue@{rate:g}"] = figures = timeline.figures()
                print(f"app_queue {rate:g} calls/s: {json.dumps(figures)}", flush=True)
    finally:
        await acd.stop()
        await ami.close()
        if rack is not None:
            await rack.stop()
        await box.stop()
        if not os.environ.get("ACD117_BENCH_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
    return out


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """The keys `make bench` prints last: at 15 calls/s where it ran, else the highest."""
    runs = [k for k in result if k.startswith("acd117@")]
    if not runs:
        return {}
    key = "acd117@15" if "acd117@15" in runs else runs[-1]
    r = result[key]
    return {"first_ring_p99_ms": r["first_ring_p99_ms"],
            "answer_to_bridge_p99_ms": r["answer_to_bridge_p99_ms"],
            "real_asterisk_calls_per_s": float(key.split("@")[1]),
            "cpu_per_call_ms": r["cpu_per_call_ms"],
            "real_asterisk_lost_calls": sum(
                result[k]["lost"] + result[k]["unrecorded"] + result[k]["misrecorded"]
                for k in runs),
            "real_asterisk_double_offers": sum(result[k]["double_offers"] for k in runs)}


async def with_database(args: argparse.Namespace) -> dict[str, Any]:
    """A database of its own, as the tests have: a fresh schema on the server at
    127.0.0.1:5432 (database `test`), else on an embedded one."""
    import asyncpg

    from acd.store.migrate import migrate_dsn
    from acd.store.server import local_or_embedded

    with local_or_embedded() as server:
        schema = f"acd117_bench_{uuid.uuid4().hex[:8]}"
        conn = await asyncpg.connect(server.dsn)
        await conn.execute(f"CREATE SCHEMA {schema}")
        try:
            dsn = server.dsn_for_schema(schema)
            await migrate_dsn(dsn)
            return await bench(args.phones, args.seconds, args.rates, args.talk, dsn,
                               not args.no_app_queue, args.patience)
        finally:
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
            await conn.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--phones", type=int, default=60)
    p.add_argument("--seconds", type=float, default=20.0, help="of arrivals per rate")
    p.add_argument("--rates", type=lambda s: [float(x) for x in s.split(",")],
                   default=[2.0, 15.0, 30.0])
    p.add_argument("--talk", type=float, default=2.0, help="seconds a bridged call lasts")
    p.add_argument("--patience", type=float, default=None,
                   help="seconds a caller waits before giving up (default: never)")
    p.add_argument("--no-app-queue", action="store_true")
    args = p.parse_args()
    lacking = missing()
    if lacking:
        print(f"answer-speed bench skipped: {lacking}")
        return
    result = asyncio.run(with_database(args))
    print(json.dumps({**result, **summary(result)}))


if __name__ == "__main__":
    main()
