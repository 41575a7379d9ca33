"""Store benchmark: how fast records reach PostgreSQL, and how much memory acd117 needs
while PostgreSQL is down.

    db_events_per_s      records per second committed into local PostgreSQL, through the
                         whole writer (queue, spool, batches), from first submit until the
                         backlog is empty (target: at least 5,000)
    db_down_peak_rss_mb  peak resident memory of a process that runs 10 simulated minutes of
                         100 calls/s into a writer whose database is unreachable, everything
                         going to the spool (target: under 400)

`run()` returns both; tests/bench/run.py merges them into the benchmark's JSON line. Run
alone: `.venv/bin/python tests/bench/bench_store.py`. The database is the server on
127.0.0.1:5432 (database `test`) when it accepts connections, else an embedded `pgserver`.
"""

from __future__ import annotations

import asyncio
import json
import resource
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from acd.store.server import local_or_embedded  # noqa: E402
from acd.store.writer import StoreWriter, WriterConfig  # noqa: E402
from tests.store.streams import stream  # noqa: E402

THROUGHPUT_CALLS = 10_000  # about 125,000 records
DOWN_MINUTES = 10
DOWN_CALLS_PER_S = 100


def _say(line: str) -> None:
    print(f"bench_store: {line}", flush=True)


async def _throughput(server_dsn: str) -> float:
    import asyncpg

    from acd.store.migrate import migrate_dsn

    records = list(stream(THROUGHPUT_CALLS, seed=117, rate_per_s=3.0, agents_per_centre=20))
    schema = f"acd117_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(server_dsn)
    await admin.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in server_dsn else "?"
    dsn = f"{server_dsn}{sep}search_path={schema}"
    try:
        await migrate_dsn(dsn)
        with tempfile.TemporaryDirectory(prefix="acd117-bench-spool-") as spool_dir:
            writer = StoreWriter(WriterConfig(dsn=dsn, spool_dir=Path(spool_dir)))
            await writer.start()
            started = time.perf_counter()
            for i, record in enumerate(records):
                writer.submit(record)
                if i % 1000 == 999:
                    await asyncio.sleep(0)  # the call path yields, as the daemon's loop does
            while writer.stats.backlog:
                await asyncio.sleep(0.005)
            elapsed = time.perf_counter() - started
            stats = writer.stats
            await writer.stop()
        if stats.committed_records != len(records) or stats.rejected_records:
            raise RuntimeError(f"benchmark lost records: {stats}")
        stored = await admin.fetchval(f"SELECT count(*) FROM {schema}.calls")
        if stored != THROUGHPUT_CALLS:
            raise RuntimeError(f"{stored} calls stored, {THROUGHPUT_CALLS} expected")
    finally:
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()
    rate = len(records) / elapsed
    _say(
        f"{len(records)} records ({THROUGHPUT_CALLS} calls) committed in {elapsed:.2f} s: "
        f"{rate:,.0f} records/s"
    )
    return rate


def db_events_per_s() -> float:
    with local_or_embedded() as server:
        return asyncio.run(_throughput(server.dsn))


async def _database_down() -> dict[str, float]:
    with socket.socket() as s:  # a port nothing listens on: the database is unreachable
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    calls = DOWN_MINUTES * 60 * DOWN_CALLS_PER_S
    with tempfile.TemporaryDirectory(prefix="acd117-bench-down-") as spool_dir:
        writer = StoreWriter(
            WriterConfig(
                dsn=f"postgresql://postgres@127.0.0.1:{port}/test",
                spool_dir=Path(spool_dir),
                retry_max_s=5.0,
            )
        )
        await writer.start()
        started = time.perf_counter()
        submitted = 0
        next_second = 1_767_225_600.0 + 1.0
        # Lazily generated, one simulated second at a time, so the generator holds nothing.
        for record in stream(calls, seed=7, rate_per_s=DOWN_CALLS_PER_S, agents_per_centre=50):
            writer.submit(record)
            submitted += 1
            at = getattr(record, "arrived_at", None)
            if at is not None and at >= next_second:
                next_second += 1.0
                await asyncio.sleep(0)
        while writer.spooled_total < submitted:
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - started
        stats = writer.stats
        await writer.stop(drain_timeout_s=0)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {
        "records": float(submitted),
        "spool_mb": stats.spool_bytes / 2**20,
        "spool_records": float(stats.spool_records),
        "elapsed_s": elapsed,
        "peak_rss_mb": peak_mb,
        "connected": float(stats.connected),
    }


def db_down_peak_rss_mb() -> float:
    # In a process of its own: peak RSS is a high-water mark over a process's whole life.
    out = subprocess.run(
        [sys.executable, __file__, "--db-down"],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["spool_records"] != result["records"] or result["connected"]:
        raise RuntimeError(f"database-down run did not spool everything: {result}")
    _say(
        f"database down for {DOWN_MINUTES} simulated minutes at {DOWN_CALLS_PER_S} calls/s: "
        f"{result['records']:,.0f} records spooled ({result['spool_mb']:.0f} MiB) in "
        f"{result['elapsed_s']:.1f} s, peak RSS {result['peak_rss_mb']:.1f} MiB"
    )
    return float(result["peak_rss_mb"])


def run() -> dict[str, float]:
    return {
        "db_events_per_s": round(db_events_per_s(), 1),
        "db_down_peak_rss_mb": round(db_down_peak_rss_mb(), 1),
    }


if __name__ == "__main__":
    if sys.argv[1:] == ["--db-down"]:
        import logging

        import structlog

        # Quiet: the only stdout line is the result (the writer logs its outage once).
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
        print(json.dumps(asyncio.run(_database_down())))
    else:
        print(json.dumps(run()))
