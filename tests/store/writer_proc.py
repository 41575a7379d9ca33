"""A store writer in a process of its own, for the tests that kill it.

    python -m tests.store.writer_proc DSN SPOOL_DIR CALLS SEED [BATCH] [PACE]

Submits the seeded stream of CALLS calls (none for 0: it only replays the spool), then
keeps running. Every 10 ms it prints `PROGRESS {"spooled": ..., "committed": ..., ...}`.
PACE > 0 sleeps that many seconds every 100 records, so a kill lands mid-submission.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from acd.store.writer import StoreWriter, WriterConfig
from tests.store.streams import stream


async def main(argv: list[str]) -> None:
    dsn, spool_dir, calls, seed = argv[0], Path(argv[1]), int(argv[2]), int(argv[3])
    batch = int(argv[4]) if len(argv) > 4 else 1000
    pace = float(argv[5]) if len(argv) > 5 else 0.0
    writer = StoreWriter(
        WriterConfig(
            dsn=dsn,
            spool_dir=spool_dir,
            batch_size=batch,
            retry_initial_s=0.05,
            retry_max_s=0.2,
            connect_timeout_s=1.0,
            batch_max_age_s=0.005,
        )
    )
    await writer.start()

    async def report() -> None:
        while True:
            s = writer.stats
            line = {
                "spooled": writer.spooled_total,
                "committed": s.committed_records,
                "pending": s.spool_records,
                "connected": s.connected,
            }
            print("PROGRESS " + json.dumps(line), flush=True)
            await asyncio.sleep(0.01)

    reporter = asyncio.create_task(report())
    if calls:
        for i, record in enumerate(stream(calls, seed=seed)):
            writer.submit(record)
            if i % 100 == 99:
                await asyncio.sleep(pace)
    await reporter  # runs until the process is killed


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
