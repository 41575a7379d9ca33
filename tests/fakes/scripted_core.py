"""A scripted stand-in for the routing core, for the Asterisk adapter's flow tests."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from acd.vocabulary.commands import (
    Answer,
    Bridge,
    HangUp,
    PlayPrompt,
    RingAgent,
    StartRecording,
    StopRinging,
)
from acd.vocabulary.events import (
    AgentHungUp,
    CallAdopted,
    CallArrived,
    CallerHungUp,
    PromptFinished,
    RingAnswered,
    RingFailed,
)
from acd.vocabulary.tiers import Tier
from ari.adoption import AdapterCommand, AdapterEvent, SaveCallFacts


@dataclass
class ScriptedCore:
    """A tiny, fixed routing script: the real core (acd/core) replaces it.

    On arrival: answer, play `welcome`, then ring the devices of `tiers` in order
    (one at a time; each rings `ring_timeout_s`); between tiers play `escalate-<tier>`.
    On answer: bridge and record. When one side hangs up, hang up the other. A caller
    hanging up while an agent rings stops the ringing (caller_left).
    """

    tiers: list[tuple[Tier, list[tuple[str, str]]]]  # tier -> [(agent_id, device)]
    ring_timeout_s: float = 2.0
    welcome: str | None = "welcome-117"
    ring_at_once: bool = False  # ring the first agent on arrival (benchmark)
    record: bool = True
    save_facts: bool = True
    offer_prefix: str = "offer"
    spread: bool = False  # start each call at the next agent (round robin)
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    offers: dict[str, str] = field(default_factory=dict)  # offer -> call
    outcomes: dict[str, str] = field(default_factory=dict)  # call -> answered/abandoned
    _n: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _arrivals: itertools.count[int] = field(default_factory=lambda: itertools.count(0))

    def __call__(self, event: AdapterEvent) -> list[AdapterCommand]:
        if isinstance(event, CallArrived):
            self.calls[event.call_id] = {
                "caller": event.caller, "step": 0, "agent": 0, "offer": None,
                "connected": None, "arrived": time.time(), "agent_id": None,
                "rotation": next(self._arrivals) if self.spread else 0,
            }
            out: list[AdapterCommand] = [Answer(event.call_id)]
            if self.ring_at_once or self.welcome is None:
                out += self._ring_next(event.call_id)
            else:
                out.append(PlayPrompt(event.call_id, self.welcome))
            return out
        if isinstance(event, CallAdopted):
            self.calls[event.call_id] = {
                "caller": event.caller, "step": 0, "agent": 0, "offer": None,
                "connected": event.agent_id, "arrived": event.arrived_at,
                "adopted": event, "rotation": 0, "agent_id": event.agent_id,
            }
            if event.agent_id is not None:
                return []
            if event.tier is not None:
                self.calls[event.call_id]["step"] = [t for t, _ in self.tiers].index(event.tier)
            return self._ring_next(event.call_id)
        if isinstance(event, PromptFinished):
            call = self.calls.get(event.call_id)
            if call is None or call["connected"] or call["offer"]:
                return []
            return self._ring_next(event.call_id)
        if isinstance(event, RingAnswered):
            call_id = self.offers.get(event.offer_id)
            call = self.calls.get(call_id) if call_id else None
            if call is None or call_id is None:
                return [StopRinging(event.offer_id, "caller_left")]
            if call["connected"]:
                return [StopRinging(event.offer_id, "answered_elsewhere")]
            call["connected"] = event.offer_id
            call["offer"] = None
            self.outcomes[call_id] = "answered"
            tier = self.tiers[call["step"]][0]
            agent_id = call["agent_id"]
            out = [Bridge(call_id, event.offer_id, agent_id)]
            if self.record:
                out.append(StartRecording(call_id, call_id.replace("/", "_"), "wav", agent_id,
                                          f"centre-{tier.value}", tier))
            return out
        if isinstance(event, RingFailed):
            call_id = self.offers.pop(event.offer_id, None)
            call = self.calls.get(call_id) if call_id else None
            if call is None or call_id is None or call["offer"] != event.offer_id:
                return []
            call["offer"] = None
            return self._ring_next(call_id)
        if isinstance(event, CallerHungUp):
            call = self.calls.pop(event.call_id, None)
            if call is None:
                return []
            if call["connected"]:
                return [HangUp(event.call_id, "agent")]
            self.outcomes.setdefault(event.call_id, "abandoned")
            if call["offer"]:
                return [StopRinging(call["offer"], "caller_left")]
            return []
        if isinstance(event, AgentHungUp):
            call = self.calls.pop(event.call_id, None)
            if call is None:
                return []
            return [HangUp(event.call_id, "caller")]
        return []

    def _ring_next(self, call_id: str) -> list[AdapterCommand]:
        call = self.calls[call_id]
        out: list[AdapterCommand] = []
        while call["step"] < len(self.tiers):
            tier, agents = self.tiers[call["step"]]
            if call["agent"] < len(agents):
                agent_id, device = agents[(call["agent"] + call["rotation"]) % len(agents)]
                call["agent"] += 1
                call["agent_id"] = agent_id
                offer = f"{self.offer_prefix}-{next(self._n)}"
                call["offer"] = offer
                self.offers[offer] = call_id
                out.append(RingAgent(call_id, offer, agent_id, device, call["caller"], "32.73",
                                     "Kota Bandung", tier, self.ring_timeout_s))
                if self.save_facts and call.get("tier") != tier:
                    call["tier"] = tier
                    out.append(SaveCallFacts(call_id, tier, time.time()))
                return out
            call["step"] += 1
            call["agent"] = 0
            if call["step"] < len(self.tiers):
                nxt = self.tiers[call["step"]][0]
                out.append(PlayPrompt(call_id, f"escalate-{nxt.value}"))
                return out  # ring the next tier when the prompt has finished
        return out


class CoreHarness:
    """Wires an adapter to a core stand-in: records events, executes returned commands."""

    def __init__(self, core: Callable[[AdapterEvent], Iterable[AdapterCommand]]) -> None:
        self.core = core
        self.events: list[AdapterEvent] = []
        self.commands: list[AdapterCommand] = []
        self.executor: Callable[[AdapterCommand], Any] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def emit(self, event: AdapterEvent) -> None:
        self.events.append(event)
        for command in self.core(event):
            self.commands.append(command)
            if self.executor is not None:
                task = asyncio.get_running_loop().create_task(self.executor(command))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def of_type(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]
