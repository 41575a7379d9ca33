"""Benchmark of the Asterisk side: StasisStart -> agent originate latency, CPU per call.

    python -m tests.bench.asterisk_side [--calls 1000] [--rate 100]

prints `{"originate_p99_ms": ..., "originate_p50_ms": ..., "cpu_per_call_ms": ...}`.

The simulated Asterisk (tests.fakes.asterisk.FakeAsterisk, without request validation) runs in a
child process and offers `rate` new calls per second; acd117 as `acd117 run` wires it (the
routing core, the switchboard, the Asterisk adapters) runs in this process. The welcome
prompt takes no time in the simulated Asterisk, so the latency is acd117's own: measured
inside the child, from the moment StasisStart is written to the websocket, through the
answer, the prompt and its PlaybackFinished, to the moment the originate request (POST
/channels) arrives: both on one clock. CPU is this process's CPU time divided by the number
of calls, for whole calls (answer, prompt, ring, bridge, record, hang-up, clean-up).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import time
from multiprocessing.connection import Connection
from typing import Any


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _peer_main(conn: Connection, calls: int, rate: float, agents: int, talk_s: float) -> None:
    asyncio.run(_peer(conn, calls, rate, agents, talk_s))


async def _peer(conn: Connection, calls: int, rate: float, agents: int, talk_s: float) -> None:
    from tests.fakes.asterisk import FakeAsterisk

    async with FakeAsterisk(docs=None, playback_s=0.0) as peer:
        for n in range(agents):
            peer.register(f"PJSIP/{7000 + n}")
        conn.send({"ari_url": peer.ari_url, "user": peer.ari_user,
                   "password": peer.ari_password, "ami_port": peer.ami_port,
                   "ami_user": peer.ami_user, "ami_secret": peer.ami_secret})
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, conn.recv)  # acd117's side is connected
        ids: list[str] = []
        start = time.perf_counter()
        for n in range(calls):
            due = start + n / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            call = await peer.incoming_call(f"+62812{n:07d}")
            if call is not None:
                ids.append(call)
                asyncio.get_running_loop().call_later(talk_s, _hang_up_later, peer, call)
        deadline = time.monotonic() + 10 + talk_s
        while time.monotonic() < deadline and (
            len(peer.originate_at) < len(ids)
            or any(not peer.channels[c].gone for c in ids if c in peer.channels)
        ):
            await asyncio.sleep(0.05)
        latencies = [
            (peer.originate_at[c] - peer.stasis_start_at[c]) * 1000.0
            for c in ids
            if c in peer.originate_at and c in peer.stasis_start_at
        ]
        conn.send({"latencies_ms": latencies, "calls": len(ids),
                   "rejected": len(peer.rejected)})
        await loop.run_in_executor(None, conn.recv)  # acd117's side has stopped


_hangups: set[asyncio.Task[None]] = set()


def _hang_up_later(peer: Any, call: str) -> None:
    task = asyncio.ensure_future(peer.caller_hangs_up(call))
    _hangups.add(task)
    task.add_done_callback(_hangups.discard)


def _flows(agents: int) -> Any:
    from config.models import CallFlows

    q = [{"service": "darurat", "skills": {"darurat": 1}, "ring_timeout_s": 10,
          "wrap_up_s": 0}]
    return CallFlows.model_validate({
        "centres": [{"id": "bnpb", "name": "Pusdalops BNPB", "region": "ID", "queues": q}],
        "agents": [{"id": str(7000 + n), "name": "agent", "centre": "bnpb",
                    "skills": {"darurat": 5}} for n in range(agents)],
        "announcements": {"welcome": "welcome", "periodic": "periodic", "prompts": {
            p: {"file": f"acd117/{p}", "text": p} for p in ("welcome", "periodic")}},
    })


class _NoRecords:
    def submit(self, record: Any) -> None:
        pass


async def _acd117_side(conn: Connection, agents: int) -> dict[str, Any]:
    import itertools

    from acd.domain.core import Acd
    from acd.service.switchboard import Switchboard
    from acd.vocabulary.events import AgentLoggedIn
    from ari.runtime import AsteriskSettings
    from ari.telephony import AsteriskTelephony
    from config.regions import load_regions

    info = conn.recv()
    settings = AsteriskSettings(ari_url=info["ari_url"], ari_user=info["user"],
                                ari_password=info["password"], ami_port=info["ami_port"],
                                ami_user=info["ami_user"], ami_secret=info["ami_secret"])
    flows = _flows(agents)
    telephony = AsteriskTelephony(settings, lambda: flows)
    ids = itertools.count(1)
    board = Switchboard(Acd(flows, load_regions(), ids=lambda: f"o{next(ids)}"), telephony,
                        _NoRecords())
    telephony.attach(board.post)
    tasks = [asyncio.create_task(board.run()), asyncio.create_task(telephony.run())]
    await asyncio.wait_for(telephony.side.stream.connected.wait(), 5)
    for n in range(agents):
        board.post(AgentLoggedIn(str(7000 + n), f"PJSIP/{7000 + n}"))
    cpu0 = time.process_time()
    conn.send("go")
    loop = asyncio.get_running_loop()
    result: dict[str, Any] = await loop.run_in_executor(None, conn.recv)
    await board.drain()
    cpu = time.process_time() - cpu0
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    conn.send("done")
    result["cpu_s"] = cpu
    return result

def run_benchmark(
    calls: int = 1000, rate: float = 100.0, agents: int = 200, talk_s: float = 1.0
) -> dict[str, float]:
    """Run the benchmark; returns the figures `make bench` reports."""
    ctx = multiprocessing.get_context("spawn")
    here, there = ctx.Pipe()
    child = ctx.Process(target=_peer_main, args=(there, calls, rate, agents, talk_s))
    child.start()
    try:
        result = asyncio.run(_acd117_side(here, agents))
    finally:
        child.join(30)
        if child.is_alive():
            child.kill()
    latencies: list[float] = result["latencies_ms"]
    n = max(1, result["calls"])
    return {
        "originate_p99_ms": round(_percentile(latencies, 0.99), 3),
        "originate_p50_ms": round(statistics.median(latencies), 3) if latencies else float("nan"),
        "cpu_per_call_ms": round(result["cpu_s"] * 1000.0 / n, 3),
        "calls": float(result["calls"]),
        "originated": float(len(latencies)),
        "rejected_requests": float(result["rejected"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.asterisk_side",
                                     description=__doc__)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0, help="new calls per second")
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--talk", type=float, default=1.0, help="seconds per conversation")
    args = parser.parse_args(argv)
    print(json.dumps(run_benchmark(args.calls, args.rate, args.agents, args.talk)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
