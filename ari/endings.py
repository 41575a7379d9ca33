"""How legs end: the last domain event of an agent leg, and forgetting a call once the
caller and every agent leg have gone."""

from __future__ import annotations

from acd.vocabulary.events import (
    AgentHungUp,
    OutsideFailed,
    OutsideHungUp,
    PartyAgentHungUp,
    RingFailed,
    RingFailure,
)
from ari.client import AriClient
from ari.legs import AgentLeg, CallerLeg, Legs, OutsideLeg
from ari.requests import Background, Emit, quietly
from ari.supervisor import Supervisor

# Q.850 cause of an agent leg that ended before it was answered -> RingFailed.reason.
# Ring timeout = ChannelDestroyed 19 with no final Dial event [03]; phone rejects (SIP 486)
# = 17 [03]; a phone that died before qualify noticed also ends with 19 after the
# timeout [04]. Everything else (congestion, unallocated, 0 ...) is "failed".
RING_FAILURE_BY_CAUSE: dict[int, RingFailure] = {
    17: "busy",  # User busy (486)
    21: "busy",  # Call rejected (403/603)
    18: "no_answer",  # No user responding
    19: "no_answer",  # User alerting, no answer
}


class Endings:
    def __init__(self, client: AriClient, legs: Legs, supervisor: Supervisor,
                 background: Background, emit: Emit) -> None:
        self.client = client
        self.legs = legs
        self.supervisor = supervisor
        self.background = background
        self.emit = emit

    def agent_ended(self, agent: AgentLeg, cause: int | None) -> None:
        """The agent leg is gone: StasisEnd (answered legs), ChannelDestroyed (all legs
        created by acd117 [02]) or missing at a resync (`cause` None)."""
        if not agent.ended:
            agent.ended = True
            self.supervisor.on_agent_gone(agent.channel_id)
        if not (agent.reported or agent.stopped):
            agent.reported = True
            if agent.answered and agent.party:
                self.emit(PartyAgentHungUp(call_id=agent.call_id, offer_id=agent.offer_id,
                                           agent_id=agent.agent_id))
            elif agent.answered:
                self.emit(AgentHungUp(call_id=agent.call_id))
            else:
                # cause None: it vanished while the websocket was down; a ringing leg
                # that disappears has most likely rung out.
                reason: RingFailure = (
                    "no_answer" if cause is None else RING_FAILURE_BY_CAUSE.get(cause, "failed")
                )
                self.emit(RingFailed(offer_id=agent.offer_id, reason=reason))
        leg = self.legs.call(agent.call_id)
        if leg is not None:
            self.finish_call_if_done(leg)

    def forget_agent(self, agent: AgentLeg) -> None:
        leg = self.legs.drop_agent(agent)
        if leg is not None:
            self.finish_call_if_done(leg)

    def outside_ended(self, outside: OutsideLeg, cause: int | None) -> None:
        """An outside leg is gone: StasisEnd (answered), ChannelDestroyed, or missing at a
        resync (`cause` None: it vanished while the websocket was down)."""
        if outside.reported or outside.stopped:
            return
        outside.reported = True
        if outside.answered:
            self.emit(OutsideHungUp(call_id=outside.call_id))
        else:
            reason = RING_FAILURE_BY_CAUSE.get(cause, "failed") if cause else "no_answer"
            self.emit(OutsideFailed(leg_id=outside.leg_id, reason=reason))

    def forget_outside(self, outside: OutsideLeg) -> None:
        self.legs.outside.pop(outside.leg_id, None)

    def finish_call_if_done(self, leg: CallerLeg) -> None:
        """Forget a call once the caller and every agent leg have gone."""
        if leg.in_stasis or leg.arriving:
            return
        if self.legs.live_agents(leg):
            return
        self.legs.drop_call(leg)
        for offer in list(leg.offers):
            agent = self.legs.offer(offer)
            if agent is not None:
                self.forget_agent(agent)
        if leg.bridge_id is not None:
            # The agent stays alone in the bridge until acd117 acts [02]; by now both
            # are gone and the recording has ended by itself.
            self.background.spawn(quietly(self.client.destroy_bridge(leg.bridge_id)))
