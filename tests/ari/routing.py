"""The routing core the Asterisk adapter tests drive: the real one (`acd.domain.core.Acd`)
behind the switchboard, as the daemon runs it, with small call flows.

Kota Bandung's centre `bdg` (agents 1001, 1002), Jawa Barat's `jabar` (2001) and the
national `bnpb` (3001); every call from `trunk-telkomsel` is for Kota Bandung (32.73).
Agent `<id>` logs in at `PJSIP/<id>`. Offers are numbered `<offer_prefix>-1`, `-2`, ...
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterable
from typing import Any

from acd.domain.core import Acd
from acd.service.switchboard import Switchboard
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from ari.adoption import AdapterCommand, SaveCallFacts
from config.models import CallFlows
from config.regions import load_regions
from tests.support import PROMPTS, agent, build_flows, centre, queue

WELCOME = "welcome-117"


def call_flows(*, ring_timeout_s: float = 2.0, after_s: float = 60.0,
               strategy: str = "longest_idle", recording_format: str = "wav",
               ring_during_welcome: bool = False) -> CallFlows:
    """Three tiers for Kota Bandung; a call waits `after_s` at a tier before it climbs.
    Phones ring once the welcome has played, unless `ring_during_welcome`."""
    q = [queue(ring_timeout_s=ring_timeout_s, wrap_up_s=0, strategy=strategy,
               ring_during_welcome=ring_during_welcome)]
    tier = {"after_s": after_s}
    return build_flows(
        centres=[centre("bdg", "32.73", queues=q), centre("jabar", "32", queues=q),
                 centre("bnpb", "ID", queues=q)],
        agents=[agent("1001", "bdg"), agent("1002", "bdg"), agent("2001", "jabar"),
                agent("3001", "bnpb")],
        ingress={"rules": [{"trunk": "trunk-telkomsel", "region": "32.73"}]},
        escalation={"kabkota": tier, "province": tier},
        announcements={
            "welcome": WELCOME, "periodic": "periodic",
            "escalated": {"province": "escalate-province", "national": "escalate-national"},
            "prompts": {**PROMPTS, **{name: {"file": f"acd117/{name}", "text": name} for name in
                                      (WELCOME, "escalate-province", "escalate-national")}}},
        recording={"format": recording_format},
    )


class RealCore:
    """The core on a switchboard: events in through `emit`, commands out to `executor`.

    The agents in `logged_in` are logged in at their phones before the first call. As in
    the daemon's telephony does, every tier hop is kept on the caller's channel
    (`keep_call_facts` -> `SaveCallFacts`).
    """

    def __init__(self, logged_in: Iterable[str] = ("1001",), *, flows: CallFlows | None = None,
                 offer_prefix: str = "offer", **flow_options: Any) -> None:
        counter = itertools.count(1)
        self.flows = flows or call_flows(**flow_options)
        self.acd = Acd(self.flows, load_regions(), ids=lambda: f"{offer_prefix}-{next(counter)}")
        self.board = Switchboard(self.acd, self, self)
        self.events: list[ev.Event] = []
        self.records: list[rec.Record] = []
        self.executor: Callable[[AdapterCommand], Any] | None = None
        self._facts: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.Task[None] | None = None
        for agent_id in logged_in:
            self.board.post(ev.AgentLoggedIn(agent_id, f"PJSIP/{agent_id}"))

    @property
    def outcomes(self) -> dict[str, str]:
        return {r.call_id: r.outcome for r in self.records if isinstance(r, rec.CallEnded)}

    def start(self) -> None:
        self._loop = asyncio.get_running_loop().create_task(self.board.run())

    def emit(self, event: ev.Event) -> None:
        self.events.append(event)
        self.board.post(event)

    async def execute(self, command: AdapterCommand) -> None:
        assert self.executor is not None, "no adapter to carry out the core's commands"
        await self.executor(command)

    def submit(self, record: rec.Record) -> None:
        self.records.append(record)

    def keep_call_facts(self, hop: rec.TierHop) -> None:
        task = asyncio.get_running_loop().create_task(
            self.execute(SaveCallFacts.from_tier_hop(hop)))
        self._facts.add(task)
        task.add_done_callback(self._facts.discard)

    async def drain(self) -> None:
        await asyncio.sleep(0.005)  # let the switchboard's loop take what was posted
        await self.board.drain()
        while self._facts:
            await asyncio.gather(*list(self._facts), return_exceptions=True)

    async def stop(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
        await self.drain()
