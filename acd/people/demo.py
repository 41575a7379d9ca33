"""Simulated telephony in real time: callers and agents without Asterisk.

`SimulatedTelephony` stands where the Asterisk adapters will: it takes the core's commands
(`Telephony.execute`) and, like the people and phones behind them, posts events back to the
switchboard some seconds later — an agent picks up after a few seconds of ringing (or lets
it ring out now and then), a conversation lasts its handle time, a caller who waits too
long hangs up. Its `run()` brings callers at a steady rate and logs the roster in.

The same ideas as the virtual-clock simulator (acd.people.simulate), on the wall clock; every
delay is multiplied by `time_scale`, so tests can play minutes in a second.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from acd.people.calltaker import classification, form_s
from acd.people.simulate import lognormal_params
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
        self.traffic = traffic or DemoTraffic()
        self.rng = random.Random(seed)
        self.time_scale = time_scale
        self.health = health
        self._post: Callable[[ev.Event], None] | None = None
        self._handles: set[asyncio.TimerHandle] = set()
        self._ringing: set[str] = set()  # offer ids
        self._connected: set[str] = set()  # call ids
        self._announced: set[str] = set()
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
        tr = self.traffic
        if isinstance(command, cmd.PlayPrompt):
            if command.call_id not in self._announced:  # the first prompt is the welcome
                self._announced.add(command.call_id)
                self._later(tr.welcome_s, ev.PromptFinished(command.call_id, command.prompt))
        elif isinstance(command, cmd.RingAgent):
            self._ringing.add(command.offer_id)
            if self.rng.random() < tr.no_answer_share:
                self._later(command.timeout_s, ev.RingFailed(command.offer_id, "no_answer"),
                            offer_id=command.offer_id, agent_id=command.agent_id)
            else:
                self._later(self.rng.uniform(*tr.answer_delay_s),
                            ev.RingAnswered(command.offer_id), offer_id=command.offer_id)
        elif isinstance(command, cmd.StopRinging):
            self._ringing.discard(command.offer_id)
        elif isinstance(command, cmd.Bridge):
            self._connected.add(command.call_id)
            mu, sigma = lognormal_params(tr.talk_mean_s, tr.talk_sd_s)
            talk_s = self.rng.lognormvariate(mu, sigma)
            self._later(talk_s, ev.AgentHungUp(command.call_id))
            classified = classification(self.rng, self.flows.wrapup, command.agent_id,
                                        command.call_id)
            if classified is not None:
                self._later(talk_s + form_s(self.rng), classified)
        elif isinstance(command, cmd.HangUp):
            self._forget(command.call_id)
        elif isinstance(command, cmd.Fallback):
            log.warning("call sent to the dialplan fallback", call_id=command.call_id,
                        reason=command.reason)
            self._forget(command.call_id)

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
        assert self._post is not None
        self._seq += 1
        self.calls_placed += 1
        call_id = f"sim-{self._run}-{self._seq}"
        if self.rng.random() < 0.85:
            caller = f"+628{self.rng.randrange(11, 99)}{self.rng.randrange(10**7, 10**8)}"
        else:
            caller = f"+6222{self.rng.randrange(10**6, 10**7)}"
        tr = self.traffic
        ingress = ev.Ingress(trunk=tr.trunk, headers=((tr.region_header, region),))
        self._post(ev.CallArrived(call_id, caller, ingress))
        patience = self.rng.expovariate(1.0 / tr.patience_mean_s)
        self._schedule(tr.welcome_s + patience, lambda: self._give_up(call_id))

    def _give_up(self, call_id: str) -> None:
        if call_id in self._announced and call_id not in self._connected:
            self._forget(call_id)
            self._emit(ev.CallerHungUp(call_id))

    def _take_a_break(self) -> None:
        agent = self.rng.choice(self.flows.agents).id if self.flows.agents else None
        if agent is None:
            return
        self._emit(ev.AgentPaused(agent, "break"))
        self._later(self.traffic.break_s, ev.AgentUnpaused(agent))

    def _forget(self, call_id: str) -> None:
        self._connected.discard(call_id)
        self._announced.discard(call_id)

    # --- scheduling -------------------------------------------------------------------

    def _later(self, delay_s: float, event: ev.Event, *, offer_id: str | None = None,
               agent_id: str | None = None) -> None:
        def fire() -> None:
            if offer_id is not None:
                if offer_id not in self._ringing:
                    return  # the ring was stopped meanwhile
                self._ringing.discard(offer_id)
            self._emit(event)
            if agent_id is not None:  # rang out: the core pauses them; back after a while
                self._later(self.traffic.unpause_after_s, ev.AgentUnpaused(agent_id))
        self._schedule(delay_s, fire)

    def _schedule(self, delay_s: float, action: Callable[[], None]) -> None:
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle

        def run() -> None:
            self._handles.discard(handle)
            action()
        handle = loop.call_later(delay_s * self.time_scale, run)
        self._handles.add(handle)

    def _emit(self, event: ev.Event) -> None:
        if self._post is not None:
            self._post(event)

