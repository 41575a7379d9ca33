"""Reloading the call flows while calls are in flight."""

from __future__ import annotations

from acd.domain.callers import CallerPolicy
from acd.domain.ingress import IngressResolver
from acd.domain.model import Agent, AgentState, QueueKey
from acd.domain.phones import PhonePolicy
from acd.domain.queues import QueueState
from acd.domain.state import CoreState, Output
from acd.vocabulary.alerts import Alert
from config.models import CallFlows
from escalation.escalator import Escalator


class ReloadRefused(Exception):
    """New call flows that cannot be adopted now; `problems` says why. Nothing changed."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class Reload(CoreState):
    def reload_conflicts(self, flows: CallFlows) -> list[str]:
        """Why `flows` cannot be adopted now without dropping or stranding someone (empty
        when it can). Only removals of what is in use conflict: a queue with calls in it,
        a logged-in agent removed or moved to another centre."""
        new_queues = {(c.id, q.service) for c in flows.centres for q in c.queues}
        new_agents = {a.id: a for a in flows.agents}
        in_use: dict[QueueKey, int] = {}
        for call in self.calls.values():
            keys = {*call.queues, *((call.answered_queue,) if call.answered_queue else ())}
            for key in keys:
                in_use[key] = in_use.get(key, 0) + 1
        for offer in self.offers.values():
            in_use.setdefault(offer.queue, 1)
        problems = []
        for key, n in sorted(in_use.items()):
            if key not in new_queues:
                problems.append(f"centre {key[0]}, service {key[1]}: {n} call(s) in progress "
                                "there; remove it once they are over")
        for agent in self.agents.values():
            if agent.state is AgentState.LOGGED_OUT:
                continue
            new = new_agents.get(agent.id)
            if new is None:
                problems.append(f"agent {agent.id} is logged in; log them out before removing "
                                "them")
            elif new.centre != agent.centre_id:
                problems.append(f"agent {agent.id} is logged in at {agent.centre_id}; log them "
                                f"out before moving them to {new.centre}")
        return problems

    def reconfigure(self, flows: CallFlows, now: float) -> list[Output]:
        """Adopt new call flows without dropping a call.

        Calls in flight keep their tier ladder (the steps they were promised) and their
        timers; everything else takes effect at once: queue settings and strategies,
        agents' skills, escalation timers of the next hop, prompts, ingress rules, caller
        classes. Removing a queue with calls in it, or a logged-in agent, is refused
        (`ReloadRefused`) and nothing changes. Agents whose new skills let them take a
        waiting call are rung for it right away."""
        problems = self.reload_conflicts(flows)
        if problems:
            raise ReloadRefused(problems)
        out = self._out = []
        staffed_before = {k for k, q in self.queues.items() if q.logged_in > 0}
        self._adopt_flows(flows)
        self._emit(Alert("config_reloaded",
                         f"call flows reloaded: {len(flows.centres)} centres, "
                         f"{len(flows.agents)} agents", now))
        for key in sorted(staffed_before):
            if key in self.queues and self.queues[key].logged_in == 0:
                self._escalate_unstaffed(key, now)
        for agent in list(self.agents.values()):
            self._serve_agent(agent, now)
        self._fire_due(now)
        return out

    def _adopt_flows(self, flows: CallFlows) -> None:
        """Derive everything that comes from the call flows; queues and agents already
        known keep their state (waiting calls, who is logged in, idle times)."""
        self.flows = flows
        self._callers = CallerPolicy(flows.callers)
        self.phones = PhonePolicy(flows)
        self._ingress = IngressResolver(flows.ingress, self.regions)
        self._escalator = Escalator(flows, self.regions)
        self._announce = flows.announcements
        self._centres = {c.id: c for c in flows.centres}
        queues: dict[QueueKey, QueueState] = {}
        self._centre_queues = {}
        self.centre_tier = self._escalator.centre_tier
        for centre in flows.centres:
            keys = self._centre_queues[centre.id] = {}
            for qc in centre.queues:
                key = (centre.id, qc.service)
                keys[qc.service] = key
                q = self.queues.get(key) or QueueState(centre.id, qc)
                q.config = qc
                q.agent_ids, q.available, q.logged_in = [], [], 0
                queues[key] = q
        self.queues = queues
        agents: dict[str, Agent] = {}
        for a in flows.agents:
            agent = self.agents.get(a.id) or Agent(a.id, a.centre, dict(a.skills), ())
            agent.centre_id, agent.skills = a.centre, dict(a.skills)
            agent.queues = tuple(k for k in self._centre_queues.get(a.centre, {}).values()
                                 if self.queues[k].eligible(agent))
            for k in agent.queues:
                q = self.queues[k]
                q.agent_ids.append(a.id)
                if agent.state is not AgentState.LOGGED_OUT:
                    q.logged_in += 1
                if agent.state is AgentState.AVAILABLE and agent.device not in self.unreachable:
                    q.add_agent(agent)
            agents[a.id] = agent
        self.agents = agents
