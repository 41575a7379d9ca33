"""Builders and a manual-clock harness for driving the core in tests."""

from __future__ import annotations

import itertools
from typing import Any, TypeVar

from acd.domain.core import Acd, Output
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from config.models import CallFlows
from config.regions import load_regions

T = TypeVar("T")

PROMPTS = {name: {"file": f"acd117/{name}", "text": name} for name in (
    "welcome", "periodic", "wait", "to-province", "to-national", "after-hours", "nuisance")}


def queue(service: str = "darurat", **kw: Any) -> dict[str, Any]:
    return {"service": service, "skills": {service: 1}, "ring_timeout_s": 15, "wrap_up_s": 10,
            **kw}


def centre(id: str, region: str, **kw: Any) -> dict[str, Any]:
    return {"id": id, "name": id, "region": region, "queues": [queue()], **kw}


def agent(id: str, centre: str, level: int = 5, **skills: int) -> dict[str, Any]:
    return {"id": id, "name": f"agent {id}", "centre": centre,
            "skills": skills or {"darurat": level}}


def build_flows(centres: list[dict[str, Any]] | None = None,
                agents: list[dict[str, Any]] | None = None, **sections: Any) -> CallFlows:
    """Kota Bandung (32.73) -> Jawa Barat (32) -> national, two agents each, unless given."""
    data: dict[str, Any] = {
        "centres": centres if centres is not None else [
            centre("bdg", "32.73"), centre("jabar", "32"), centre("bnpb", "ID")],
        "agents": agents if agents is not None else [
            agent("1001", "bdg"), agent("1002", "bdg"), agent("2001", "jabar"),
            agent("2002", "jabar"), agent("9001", "bnpb"), agent("9002", "bnpb")],
        "ingress": {"rules": [{"trunk": "trunk-telkomsel", "header": "X-Cell-Region"}]},
        "announcements": {
            "welcome": "welcome", "periodic": "periodic", "periodic_every_s": 30,
            "expected_wait": "wait", "after_hours": "after-hours", "nuisance": "nuisance",
            "escalated": {"province": "to-province", "national": "to-national"},
            "prompts": PROMPTS},
    }
    data.update(sections)
    return CallFlows.model_validate(data)


def from_region(code: str) -> ev.Ingress:
    return ev.Ingress(trunk="trunk-telkomsel", headers=(("X-Cell-Region", code),))


class Harness:
    """Drives the core on a manual clock and keeps everything it said."""

    def __init__(self, flows: CallFlows | None = None, start: float = 1_800_000_000.0,
                 offer_prefix: str = "o") -> None:
        counter = itertools.count(1)
        self.acd = Acd(flows or build_flows(), load_regions(),
                       ids=lambda: f"{offer_prefix}{next(counter)}")
        self.now = start
        self.start = start
        self.log: list[Output] = []

    def send(self, event: ev.Event, after: float = 0.0) -> list[Output]:
        self.now += after
        out = self.acd.handle(event, self.now)
        self.log += out
        return out

    def wait(self, seconds: float) -> list[Output]:
        """Let time pass, firing every timer on its due time as a punctual driver would."""
        end = self.now + seconds
        out: list[Output] = []
        while (due := self.acd.next_due()) is not None and due <= end:
            self.now = max(self.now, due)
            out += self.acd.advance(self.now)
        self.now = end
        self.log += out
        return out

    def login(self, *agent_ids: str) -> None:
        for a in agent_ids:
            self.send(ev.AgentLoggedIn(a, f"PJSIP/{a}"))

    def call(self, call_id: str, region: str = "32.73", caller: str = "+6281234567890",
             welcome_done: bool = True) -> list[Output]:
        out = self.send(ev.CallArrived(call_id, caller, from_region(region)))
        if welcome_done:
            prompt = next(o.prompt for o in out if isinstance(o, cmd.PlayPrompt))
            out += self.send(ev.PromptFinished(call_id, prompt))
        return out

    def ring_for(self, call_id: str) -> cmd.RingAgent:
        """The latest ring of this call."""
        return [o for o in self.log if isinstance(o, cmd.RingAgent) and o.call_id == call_id][-1]

    def answer(self, call_id: str) -> list[Output]:
        return self.send(ev.RingAnswered(self.ring_for(call_id).offer_id))


def of(outputs: list[Output], kind: type[T]) -> list[T]:
    return [o for o in outputs if isinstance(o, kind)]


def ended(outputs: list[Output]) -> list[rec.CallEnded]:
    return of(outputs, rec.CallEnded)
