"""Simulated telephony in real time: callers and agents without Asterisk.

`SimulatedTelephony` stands where the Asterisk adapters will: it takes the core's commands
(`Telephony.execute`) and hands them to the people behind the phones (acd.people.behaviour,
the model `acd117 simulate` plays on its virtual clock), whose events it posts back to the
switchboard some seconds later — an agent picks up after a few seconds of ringing (or lets
it ring out now and then), a conversation lasts its handle time, a caller who waits too
long hangs up. Its `run()` brings callers at a steady rate, logs part of the roster in and
sends an agent on a short break now and then.

Every delay is multiplied by `time_scale`, so tests can play minutes in a second.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from acd.people.behaviour import Manner, People
from acd.service.health import Health
from acd.service.ports import TelephonyBase
from acd.service.supervision import RecordingSupervision
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from config.models import CallFlows

log = structlog.get_logger("acd117.demo")

# Callers of the example call flows by region code (Kemendagri), with their weight.
DEFAULT_REGIONS: dict[str, float] = {
    "32.73": 30, "32.03": 15, "32.04": 10, "32": 5, "72.71": 15, "72.10": 5, "31.71": 10,
    "ID": 10,
}


@dataclass(frozen=True, slots=True)
class DemoTraffic:
    calls_per_hour: float = 360.0
    region_weights: tuple[tuple[str, float], ...] = tuple(DEFAULT_REGIONS.items())
    trunk: str = "trunk-telkomsel"
    region_header: str = "X-Cell-Region"
    welcome_s: float = 4.0
    answer_delay_s: tuple[float, float] = (2.0, 6.0)
    no_answer_share: float = 0.03
    talk_mean_s: float = 45.0
    talk_sd_s: float = 25.0
    patience_mean_s: float = 90.0
    unpause_after_s: float = 30.0
    logged_in_share: float = 0.8  # of each centre's roster, logged in at start
    break_every_s: float = 120.0  # now and then an available agent takes a short break
    break_s: float = 40.0


class SimulatedTelephony(TelephonyBase):
    """A `Telephony` (acd.service.ports); `attach()` it to the switchboard's `post`.
    Its connections are none: `run()` reports ari and ami up, simulated."""

    def __init__(self, flows: CallFlows, traffic: DemoTraffic | None = None, *,
                 seed: int | None = None, time_scale: float = 1.0,
                 health: Health | None = None) -> None:
        self.flows = flows
        self.traffic = tr = traffic or DemoTraffic()
        self.rng = random.Random(seed)
        self.time_scale = time_scale
        self.health = health
        self._post: Callable[[ev.Event], None] | None = None
        self._handles: set[asyncio.TimerHandle] = set()
        manner = Manner(
            trunk=tr.trunk, region_header=tr.region_header, welcome_s=tr.welcome_s,
            answer_delay_s=tr.answer_delay_s, no_answer_share=tr.no_answer_share,
            talk_mean_s=tr.talk_mean_s, talk_sd_s=tr.talk_sd_s,
            patience_mean_s=tr.patience_mean_s, patience_after_welcome=True,
            unpause_after_s=tr.unpause_after_s)
        self.people = People(manner, self.rng, lambda: flows.wrapup, self)
        self._seq = 0
        # Call ids are the calls table's key: a counter alone would start again at 1 after a
        # restart on the same database and merge new calls into old rows. Not from `rng`,
        # so a seeded run still plays the same traffic.
        self._run = uuid.uuid4().hex[:12]
        self.executed = 0
        self.calls_placed = 0
        self.supervision = RecordingSupervision()  # listen/whisper/barge: remembered only

    def attach(self, post: Callable[[ev.Event], None]) -> None:
        self._post = post

    # --- Telephony ------------------------------------------------------------------

    async def execute(self, command: cmd.Command) -> None:
        self.executed += 1
        if isinstance(command, cmd.Fallback):
            log.warning("call sent to the dialplan fallback", call_id=command.call_id,
                        reason=command.reason)
        self.people.respond(command)

    # --- the callers and the roster -----------------------------------------------------

    async def run(self) -> None:
        if self._post is None:
            raise RuntimeError("simulated telephony is not attached to a switchboard")
        for name in ("ari", "ami"):
            if self.health is not None:
                self.health.set(name, True, "simulated")
        self._log_in_roster()
        tr = self.traffic
        codes = [c for c, _ in tr.region_weights]
        weights = [w for _, w in tr.region_weights]
        next_break = self.rng.expovariate(1.0 / tr.break_every_s)
        try:
            while True:
                gap = self.rng.expovariate(tr.calls_per_hour / 3600.0)
                await asyncio.sleep(gap * self.time_scale)
                self._arrive(self.rng.choices(codes, weights)[0])
                next_break -= gap
                if next_break <= 0:
                    next_break = self.rng.expovariate(1.0 / tr.break_every_s)
                    self._take_a_break()
        finally:
            for handle in self._handles:
                handle.cancel()
            self._handles.clear()

    def _log_in_roster(self) -> None:
        assert self._post is not None
        by_centre: dict[str, list[str]] = {}
        for a in self.flows.agents:
            by_centre.setdefault(a.centre, []).append(a.id)
        for agents in by_centre.values():
            wanted = max(1, round(len(agents) * self.traffic.logged_in_share))
            for agent_id in agents[:wanted]:
                self._post(ev.AgentLoggedIn(agent_id, f"PJSIP/{agent_id}"))

    def _arrive(self, region: str) -> None:
        self._seq += 1
        self.calls_placed += 1
        self.people.arrive(f"sim-{self._run}-{self._seq}", region)

    def _take_a_break(self) -> None:
        agent = self.rng.choice(self.flows.agents).id if self.flows.agents else None
        if agent is None:
            return
        self.emit(ev.AgentPaused(agent, "break"))
        self.later(self.traffic.break_s, lambda: self.emit(ev.AgentUnpaused(agent)))

    # --- the wall clock (acd.people.behaviour.Clock) ---------------------------------------

    def later(self, delay_s: float, action: Callable[[], None]) -> None:
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle

        def run() -> None:
            self._handles.discard(handle)
            action()
        handle = loop.call_later(delay_s * self.time_scale, run)
        self._handles.add(handle)

    def emit(self, event: ev.Event) -> None:
        if self._post is not None:
            self._post(event)
