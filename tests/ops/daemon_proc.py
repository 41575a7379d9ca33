"""A daemon in a process of its own, for the tests that kill it with SIGKILL.

    python -m tests.ops.daemon_proc SETTINGS_JSON EVENTS_JSON RECORDS [CALLS]

Starts the daemon with the settings given (a telephony that connects nowhere and drops
commands), prints `URL <its HTTP address>`, posts the agent events — ["login", agent,
device], ["pause", agent, reason] —, prints `READY` once RECORDS records of this process
are fsync'd in the spool, then runs until it is killed. With CALLS, it then takes that
many calls, one every 20 ms, printing `CALL <id> <unix time>` as each is handled.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from acd.bootstrap import bootstrap
from acd.service.ports import TelephonyBase
from acd.service.settings import Settings
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev


class Quiet(TelephonyBase):
    async def execute(self, command: cmd.Command) -> None:
        pass


def event(spec: list[str]) -> ev.Event:
    kind, agent_id, value = spec
    return ev.AgentLoggedIn(agent_id, value) if kind == "login" else ev.AgentPaused(agent_id,
                                                                                    value)


async def main(argv: list[str]) -> None:
    settings = Settings.model_validate(json.loads(argv[0]))
    records = int(argv[2])
    daemon = bootstrap(settings, Quiet())  # type: ignore[arg-type]
    await daemon.start()
    print("URL", daemon.url, flush=True)
    for spec in json.loads(argv[1]):
        daemon.switchboard.post(event(spec))
    assert daemon.writer is not None
    while daemon.writer.spooled_total < records:
        await asyncio.sleep(0.01)
    print("READY", flush=True)
    for i in range(int(argv[3]) if len(argv) > 3 else 0):
        call_id = f"crash-{i:04d}"
        daemon.switchboard.post(ev.CallArrived(call_id, "+6281234567890"))
        handled = daemon.switchboard.events_handled
        while daemon.switchboard.events_handled == handled:
            await asyncio.sleep(0.001)
        print("CALL", call_id, time.time(), flush=True)
        await asyncio.sleep(0.02)
    await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
