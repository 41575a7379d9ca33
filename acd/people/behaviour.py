"""The people behind the phones, one model for the demo (acd.people.demo: the wall clock,
through the switchboard) and `acd117 simulate` (acd.people.simulate: a virtual clock,
straight into the core).

Callers arrive with a mobile or fixed-line number (now and then one who called a moment
ago), hear the welcome, and hang up when their patience runs out before an agent answers.
Agents' phones ring a few seconds before they pick up, or ring out now and then (the core
then pauses the agent, who is back a while later); a conversation lasts its handle time
and the call taker classifies the call at wrap-up (acd.people.calltaker).

Only the clock differs: each side hands the model a `Clock`, whose `later(delay_s, action)`
runs the action that much later (scaled wall-clock seconds, or virtual ones) and whose
`emit(event)` gives an event to the core now. What arrives when, and who is logged in, is
the sides' own (a steady rate and a share of the roster for the demo; an hourly profile
and shifts for the simulated day).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from acd.people.calltaker import classification, form_s
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from config.wrapup import WrapUp

RECENT_CALLERS = 200  # the numbers a repeat caller is drawn from (the latest ones)


class Clock(Protocol):
    def later(self, delay_s: float, action: Callable[[], None]) -> None: ...

    def emit(self, event: ev.Event) -> None: ...


@dataclass(frozen=True, slots=True)
class Manner:
    """How the callers and agents behave. Times in seconds."""

    trunk: str = "trunk-telkomsel"
    region_header: str = "X-Cell-Region"  # the header the region arrives in
    mobile_share: float = 0.85
    repeat_share: float = 0.0  # callers who called a moment ago
    welcome_s: float = 6.0
    answer_delay_s: tuple[float, float] = (2.0, 6.0)
    no_answer_share: float = 0.03
    talk_mean_s: float = 180.0
    talk_sd_s: float = 90.0
    patience_mean_s: float = 120.0
    patience_after_welcome: bool = False  # patience starts once the welcome is over
    unpause_after_s: float = 60.0  # an agent paused for a ring-out is back after this


class People:
    """The callers and agents; `respond` to each command of the core, `arrive` a caller."""

    def __init__(self, manner: Manner, rng: random.Random, wrapup: Callable[[], WrapUp],
                 clock: Clock) -> None:
        self.manner = manner
        self.rng = rng
        self.wrapup = wrapup  # the call flows' classes in force
        self.clock = clock
        self._live: set[str] = set()  # calls whose caller is still on the line
        self._announced: set[str] = set()  # calls whose welcome was played
        self._connected: set[str] = set()  # calls talking with an agent
        self._ringing: set[str] = set()  # offer ids
        self._recent: list[str] = []

    # --- the callers -------------------------------------------------------------------

    def arrive(self, call_id: str, region: str) -> None:
        m = self.manner
        caller = self.caller_number()
        self._live.add(call_id)
        ingress = ev.Ingress(trunk=m.trunk, headers=((m.region_header, region),))
        patience = self.rng.expovariate(1.0 / m.patience_mean_s)
        self.clock.emit(ev.CallArrived(call_id, caller, ingress))
        wait = patience + (m.welcome_s if m.patience_after_welcome else 0.0)
        self.clock.later(wait, lambda: self._give_up(call_id))

    def caller_number(self) -> str:
        m = self.manner
        if self._recent and m.repeat_share and self.rng.random() < m.repeat_share:
            caller = self.rng.choice(self._recent)
        elif self.rng.random() < m.mobile_share:
            caller = f"+628{self.rng.randrange(11, 99)}{self.rng.randrange(10**7, 10**8)}"
        else:
            caller = f"+6222{self.rng.randrange(10**6, 10**7)}"
        if m.repeat_share:
            self._recent.append(caller)
            if len(self._recent) > RECENT_CALLERS:
                del self._recent[:RECENT_CALLERS // 2]
        return caller

    def _give_up(self, call_id: str) -> None:
        if call_id in self._live and call_id not in self._connected:
            self._forget(call_id)
            self.clock.emit(ev.CallerHungUp(call_id))

    def _forget(self, call_id: str) -> None:
        self._live.discard(call_id)
        self._connected.discard(call_id)
        self._announced.discard(call_id)

    # --- the phones and the agents -----------------------------------------------------

    def respond(self, command: cmd.Command) -> None:
        m = self.manner
        if isinstance(command, cmd.PlayPrompt):
            if command.call_id not in self._announced:  # the first prompt is the welcome
                self._announced.add(command.call_id)
                self._later(m.welcome_s, ev.PromptFinished(command.call_id, command.prompt))
        elif isinstance(command, cmd.RingAgent):
            self._ringing.add(command.offer_id)
            if self.rng.random() < m.no_answer_share:
                self._ring(command.timeout_s, command.offer_id,
                           ev.RingFailed(command.offer_id, "no_answer"), command.agent_id)
            else:
                self._ring(self.rng.uniform(*m.answer_delay_s), command.offer_id,
                           ev.RingAnswered(command.offer_id))
        elif isinstance(command, cmd.StopRinging):
            self._ringing.discard(command.offer_id)
        elif isinstance(command, cmd.Bridge):
            self._connected.add(command.call_id)
            talk_s = self.rng.lognormvariate(*lognormal_params(m.talk_mean_s, m.talk_sd_s))
            self._later(talk_s, ev.AgentHungUp(command.call_id))
            classified = classification(self.rng, self.wrapup(), command.agent_id,
                                        command.call_id)
            if classified is not None:
                self._later(talk_s + form_s(self.rng), classified)
        elif isinstance(command, cmd.HangUp | cmd.Fallback):
            self._forget(command.call_id)

    def _later(self, delay_s: float, event: ev.Event) -> None:
        self.clock.later(delay_s, lambda: self.clock.emit(event))

    def _ring(self, delay_s: float, offer_id: str, event: ev.Event,
              rings_out: str | None = None) -> None:
        """The phone's answer or ring-out, unless the ring was stopped meanwhile; an agent
        whose phone rang out (the core pauses them) is back after a while."""
        def act() -> None:
            if offer_id not in self._ringing:
                return
            self._ringing.discard(offer_id)
            self.clock.emit(event)
            if rings_out is not None:
                self._later(self.manner.unpause_after_s, ev.AgentUnpaused(rings_out))
        self.clock.later(delay_s, act)


def lognormal_params(mean: float, sd: float) -> tuple[float, float]:
    """mu and sigma of the lognormal distribution with this mean and standard deviation."""
    sigma2 = math.log(1 + (sd / mean) ** 2)
    return math.log(mean) - sigma2 / 2, math.sqrt(sigma2)
