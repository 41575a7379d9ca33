"""`make bench`: every benchmark, then one JSON line with all the figures (printed last).

Targets: events_per_s >= 20,000, p99_us < 1,000, rss_mb < 300 (the core at national
scale); sim_day_s < 60 (a 24-hour national day peaking at 10,000 calls/hour);
db_events_per_s >= 5,000 and db_down_peak_rss_mb < 400 (the record writer);
originate_p99_ms < 5 (StasisStart to the agent's originate at 100 new calls/s). On the real
Asterisk (tests/bench/answer_speed.py, when the sandbox and baresip are there): at 15
calls/s with a free agent, first_ring_p99_ms (arrival to the agent's ring) and
answer_to_bridge_p99_ms, acd117's cpu_per_call_ms, and app_queue on the same phones.
During a flood of 150 sign-ins (tests/bench/signin_flood.py): validate_during_flood_max_s
< 1, writer_backlog_max < 20, and crash_calls_settled_lost = 0 after a kill -9.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench import bench_core, bench_store
from tests.bench.asterisk_side import run_benchmark as run_asterisk_side


def script(name: str, keys: tuple[str, ...]) -> dict[str, float]:
    """A benchmark script in a process of its own; its last line is its JSON."""
    out = subprocess.run([sys.executable, str(Path(__file__).with_name(name))],
                         capture_output=True, text=True)
    lines = out.stdout.strip().splitlines()
    print("\n".join(lines[:-1]), out.stderr[-2000:] if out.returncode else "", sep="\n")
    try:
        result = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:  # skipped: the line says why
        print(lines[-1])
        return {}
    return {k: result[k] for k in keys if k in result}


def main() -> None:
    figures: dict[str, float] = {}
    print("core at national scale")
    figures.update(bench_core.run_core())
    figures["rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print("simulated national day")
    figures.update(bench_core.run_day())
    print("record writer into PostgreSQL")
    figures.update(bench_store.run())
    print("Asterisk side: StasisStart to originate at 100 new calls/s")
    asterisk = run_asterisk_side()
    figures.update({k: asterisk[k] for k in ("originate_p99_ms", "cpu_per_call_ms")})
    print("the real Asterisk: 117 callers to SIP phones, acd117 and app_queue")
    figures.update(script("answer_speed.py", (
        "first_ring_p99_ms", "answer_to_bridge_p99_ms", "real_asterisk_calls_per_s",
        "cpu_per_call_ms", "real_asterisk_lost_calls", "real_asterisk_double_offers")))
    print("sign-in flood: the call path beside 150 argon2 checks, and kill -9 in it")
    figures.update(script("signin_flood.py", (
        "validate_during_flood_max_s", "writer_backlog_max", "crash_calls_settled_lost")))
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
