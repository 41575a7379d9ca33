"""What every part of the core shares: its state, its output and the steps one part asks
of another. `acd.domain.core.Acd` puts the parts together (arrivals, waiting, offers,
agents, reload); each part is a mixin over this base, which declares the steps the others
implement so that every part type-checks on its own."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from acd.domain.callers import CallerPolicy
from acd.domain.ingress import IngressResolver
from acd.domain.model import Agent, AgentParty, AgentState, Call, Offer, QueueKey
from acd.domain.phones import PhonePolicy
from acd.domain.queues import QueueState
from acd.domain.timers import Timer, TimerKind, Timers
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from acd.vocabulary.alerts import Alert
from acd.vocabulary.tiers import Tier
from config.models import Announcements, CallFlows, Centre
from config.regions import RegionTable
from escalation.escalator import Escalator
from escalation.policy import Step

Output = cmd.Command | rec.Record | Alert


class CoreState:
    regions: RegionTable
    flows: CallFlows
    calls: dict[str, Call]
    agents: dict[str, Agent]
    offers: dict[str, Offer]
    queues: dict[QueueKey, QueueState]
    unreachable: set[str]  # devices known to be unregistered or unreachable
    phones: PhonePolicy
    centre_tier: dict[str, Tier]
    _ids: Callable[[], str]
    _timers: Timers
    _device_agent: dict[str, str]
    _last_call: OrderedDict[str, float]  # for the repeat-caller class
    nuisance_listed: dict[str, float]  # numbers listed at run time -> until (epoch)
    outside_legs: dict[str, str]  # an outside number's leg -> its call (see _outside_call)
    party_offers: dict[str, str]  # the ring of another centre's agent consulted -> its call
    _call_seq: int
    _offer_seq: int
    _out: list[Output]
    _callers: CallerPolicy
    _ingress: IngressResolver
    _escalator: Escalator
    _announce: Announcements
    _centres: dict[str, Centre]
    _centre_queues: dict[str, dict[str, QueueKey]]
    _handlers: dict[type[Any], Callable[[Any, float], None]]
    _timer_handlers: dict[TimerKind, Callable[[Timer], None]]

    def _emit(self, output: Output) -> None:
        self._out.append(output)

    def _queue_key(self, centre: Centre, service: str) -> QueueKey:
        keys = self._centre_queues[centre.id]
        return keys.get(service) or next(iter(keys.values()))

    def _fire_due(self, now: float) -> None:
        while (timer := self._timers.pop_due(now)) is not None:
            self._timer_handlers[timer.kind](timer)

    # --- records every part makes ------------------------------------------------------

    def _set_state(self, agent: Agent, state: AgentState, now: float,
                   reason: str | None = None) -> None:
        agent.state = state
        agent.token += 1  # every index entry and timer for the old state is now stale
        agent.state_since = now
        self._record_agent(agent, state.value, now, reason)

    def _record_agent(self, agent: Agent, state: rec.AgentStateName, now: float,
                      reason: str | None = None) -> None:
        self._emit(rec.AgentStateChanged(agent.id, agent.centre_id, state, reason, agent.device,
                                         now, agent.call_id))

    # --- steps one part asks of another (implemented in the module named) -------------

    # acd.domain.waiting
    def _climb(self, call: Call, now: float, reason: rec.HopReason) -> None:
        raise NotImplementedError

    def _rejoin(self, call: Call, tier: Tier, since: float, now: float) -> None:
        raise NotImplementedError

    def _make_waiting(self, call: Call) -> None:
        raise NotImplementedError

    def _leave_queues(self, call: Call) -> None:
        raise NotImplementedError

    def _escalate_unstaffed(self, key: QueueKey, now: float) -> None:
        raise NotImplementedError

    def _start_waiting(self, call: Call, now: float) -> None:
        raise NotImplementedError

    def _set_tier_timers(self, call: Call, step: Step, first: bool, since: float,
                         now: float) -> None:
        raise NotImplementedError

    # acd.domain.offers
    def _offer_call(self, call: Call, now: float) -> None:
        raise NotImplementedError

    def _serve_agent(self, agent: Agent, now: float) -> None:
        raise NotImplementedError

    def _withdraw_ring(self, agent: Agent, now: float) -> None:
        raise NotImplementedError

    def _cancel_offer(self, offer_id: str, reason: cmd.StopReason, now: float) -> None:
        raise NotImplementedError

    # acd.domain.agents
    def _log_in(self, agent: Agent, device: str, now: float) -> None:
        raise NotImplementedError

    def _pause(self, agent: Agent, now: float, reason: str) -> None:
        raise NotImplementedError

    def _release(self, agent: Agent, now: float) -> None:
        raise NotImplementedError

    def _wrap_up_over(self, agent: Agent, now: float) -> None:
        raise NotImplementedError

    def may_end_wrap_up(self, agent: Agent) -> bool:
        raise NotImplementedError

    # acd.domain.arrivals
    def _settle_hold(self, call: Call, now: float) -> None:
        raise NotImplementedError

    def _settle_mute(self, call: Call, now: float) -> None:
        raise NotImplementedError

    def _start_wrap_up(self, call: Call, now: float) -> None:
        raise NotImplementedError

    def _finish(self, call: Call, outcome: rec.Outcome, now: float) -> None:
        raise NotImplementedError

    def _handle_agent_hung_up(self, call: Call, now: float) -> None:
        raise NotImplementedError

    # acd.domain.transfers
    def _leave_outside(self, call: Call, now: float) -> None:
        raise NotImplementedError

    def _agent_left_after_refusal(self, call: Call, now: float) -> bool:
        raise NotImplementedError

    def _requeue_here(self, call: Call, now: float) -> None:
        raise NotImplementedError

    # acd.domain.parties
    def _agent_left_party(self, call: Call, now: float) -> bool:
        raise NotImplementedError

    def _drop_party(self, call: Call, result: rec.TransferResult, now: float,
                    hang_up: bool = True) -> None:
        raise NotImplementedError

    def _party_answered(self, call: Call, now: float) -> None:
        raise NotImplementedError

    def _party_not_reached(self, call: Call, now: float) -> None:
        raise NotImplementedError

    def _party_left(self, call: Call, now: float) -> None:
        raise NotImplementedError

    def _hold(self, call: Call, now: float) -> None:
        raise NotImplementedError

    def _resume(self, call: Call, now: float) -> None:
        raise NotImplementedError

    # acd.domain.consults
    def _drop_centre_party(self, call: Call, party: AgentParty, result: rec.TransferResult,
                           now: float, hang_up: bool) -> None:
        raise NotImplementedError

    def _hand_to_centre_agent(self, call: Call, party: AgentParty, now: float) -> None:
        raise NotImplementedError

    def _party_ring_answered(self, offer_id: str, now: float) -> None:
        raise NotImplementedError

    def _party_ring_failed(self, offer_id: str, reason: ev.RingFailure, now: float) -> None:
        raise NotImplementedError

    def _withdraw_party_ring(self, agent: Agent, now: float) -> None:
        raise NotImplementedError

    # acd.domain.offers
    def _record_offer(self, offer: Offer, result: rec.OfferResult, now: float) -> None:
        raise NotImplementedError
