"""Per-queue indexes so that choosing a call or an agent costs O(log n), not O(n).

Both are heaps with lazy deletion: an entry carries the token its subject had when pushed,
and is skipped when the subject has moved on since. With 10,000 calls waiting and 5,000
agents this keeps every event well under a millisecond.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

from acd.domain.model import Agent, AgentState, Call, CallState
from config.models import Queue, Strategy


@dataclass(slots=True, eq=False)
class QueueState:
    centre_id: str
    config: Queue
    # (priority, arrival seq, call id, queue token)
    waiting: list[tuple[int, int, str, int]] = field(default_factory=list)
    waiting_ids: set[str] = field(default_factory=set)
    # (-level, strategy key, agent id, agent token)
    available: list[tuple[int, float, str, int]] = field(default_factory=list)
    agent_ids: list[str] = field(default_factory=list)  # every agent eligible here
    logged_in: int = 0
    ewma_wait_s: float | None = None  # for "expected wait" announcements

    # --- waiting calls -------------------------------------------------------------

    def add_call(self, call: Call) -> None:
        self.waiting_ids.add(call.id)
        heapq.heappush(self.waiting, (call.priority, call.seq, call.id, call.queue_token))

    def remove_call(self, call_id: str) -> None:
        self.waiting_ids.discard(call_id)  # its heap entry goes stale and is skipped later

    def first_call(self, calls: dict[str, Call], accept: Callable[[Call], bool]) -> Call | None:
        """The waiting call served next among those `accept` allows; stale entries are
        dropped as they surface, skipped valid ones are put back."""
        heap = self.waiting
        skipped = []
        found = None
        while heap:
            entry = heap[0]
            call = calls.get(entry[2])
            if (call is None or call.queue_token != entry[3] or call.state != CallState.QUEUED
                    or call.id not in self.waiting_ids):
                heapq.heappop(heap)
            elif accept(call):
                found = call
                break
            else:
                skipped.append(heapq.heappop(heap))
        for entry in skipped:
            heapq.heappush(heap, entry)
        return found

    def in_order(self, calls: dict[str, Call]) -> list[Call]:
        """The calls waiting here in the order they are served (priority class, then
        arrival); one ringing an agent has left the queue. A read: the heap is untouched."""
        here = [c for i in self.waiting_ids
                if (c := calls.get(i)) is not None and c.state is CallState.QUEUED]
        return sorted(here, key=lambda c: (c.priority, c.seq))

    # --- available agents ----------------------------------------------------------

    def add_agent(self, agent: Agent) -> None:
        heapq.heappush(self.available, (-self.level(agent), self.strategy_key(agent),
                                        agent.id, agent.token))

    def agents_in_order(self, agents: dict[str, Agent], usable: Callable[[Agent], bool],
                        limit: int) -> list[Agent]:
        """Up to `limit` available agents in strategy order (ring-all asks for all of them).
        Stale entries are dropped; the returned agents' entries stay until they go stale."""
        heap = self.available
        taken: list[tuple[int, float, str, int]] = []
        found: list[Agent] = []
        while heap and len(found) < limit:
            entry = heapq.heappop(heap)
            agent = agents[entry[2]]
            if agent.token != entry[3] or agent.state != AgentState.AVAILABLE:
                continue
            taken.append(entry)
            if usable(agent):
                found.append(agent)
        for entry in taken:
            heapq.heappush(heap, entry)
        return found

    def level(self, agent: Agent) -> int:
        """Skill match first: the sum of the agent's levels in the skills this queue needs."""
        return sum(agent.skills.get(skill, 0) for skill in self.config.skills)

    def strategy_key(self, agent: Agent) -> float:
        strategy = self.config.strategy
        if strategy is Strategy.FEWEST_CALLS:
            # calls first, idle time to break ties (idle_since is far below 1e10)
            return agent.calls_answered * 1e10 + agent.idle_since
        if strategy is Strategy.ROUND_ROBIN:
            return float(agent.last_offer_seq)
        return agent.idle_since  # longest idle, and the ring order for ring-all

    def eligible(self, agent: Agent) -> bool:
        return all(agent.skills.get(s, 0) >= lvl for s, lvl in self.config.skills.items())
