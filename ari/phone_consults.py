"""The phone's own attended transfer: a second call from the agent's phone during a 117
call, then the phone's Transfer button joining the two.

A phone does an attended transfer by itself: it holds the 117 call, makes a second call,
and sends a REFER whose Refer-To carries `Replaces` naming the other call. acd117 cannot let
Asterisk join two calls behind the Stasis app, so both halves come to it:

* **the second call**: any number an agent's phone dials (the agents' dialplan,
  `_X.` in `[acd117-agents]`) enters `Stasis(acd117,consult,<number>)`. During that
  phone's answered 117 call it is a consultation with the transfer destination of that
  code (`ConsultRequested`: the caller on hold with music, the number dialled through the
  trunk or a centre's agent rung), the phone hearing ringback meanwhile; once the
  destination answers, the second call is answered and put in the call's bridge with it
  (the agent's first leg, held by the phone, stays there). No 117 call on that phone, a
  consultation already on, or a code the call flows do not list (`TransferRefused`): the
  second call is rejected (SIP 603) and the caller stays with the agent.
* **the REFER** (PJSIP_TRANSFER_HANDLING=ari-only on both calls, so it comes as a
  ChannelTransfer whose `refer_to.requested_destination.protocol_id` is the Call-ID to
  replace, with `refer_to.destination_channel` when that dialog is Asterisk's; on either
  call, as phones differ): naming the pair of this agent's two calls once the destination
  answered, it is the consultation completed (`ConsultEnded(complete)`: the caller talks
  with the destination, the agent goes to wrap-up, a `call_transfers` row of mode
  `attended`, the CDR goes on) and the phone is told it went through (transfer_progress
  `channel_answered`, NOTIFY 200) before acd117 hangs up both of the phone's calls. Any
  other (a call acd117 did not put through, the destination still ringing) is declined
  (`channel_declined`, NOTIFY 603) with a log line saying why: nothing changes, the caller
  stays on hold with their agent.
* **the second call hung up** by the phone before that: the consultation is cancelled
  (the destination hung up, the caller back with the agent).
"""

from __future__ import annotations

import logging

from acd.vocabulary.events import ConsultEnded, ConsultRequested
from ari.client import AriClient, AriError
from ari.legs import AgentLeg, Legs, PhoneConsult
from ari.models import Channel, ChannelTransfer
from ari.requests import Background, Emit, Requests, quietly

log = logging.getLogger("ari.stasis")  # one logger for the whole Stasis app


class PhoneConsults:
    def __init__(self, client: AriClient, legs: Legs, requests: Requests,
                 background: Background, emit: Emit) -> None:
        self.client = client
        self.legs = legs
        self.requests = requests
        self.background = background
        self.emit = emit

    # --- the second call ----------------------------------------------------------------

    def _agent_talking_on(self, device: str) -> AgentLeg | None:
        """The agent leg that is the connected agent of a call, on this phone."""
        for agent in self.legs.offers.values():
            if agent.device == device and agent.answered and not (
                    agent.ended or agent.stopped or agent.party) \
                    and self.legs.connected_agent(agent.call_id) is agent:
                return agent
        return None

    def arrived(self, channel: Channel, code: str) -> None:
        """`Stasis(acd117,consult,<code>)`: a number dialled from an agent's phone."""
        agent = self._agent_talking_on(channel.device)
        if agent is None or agent.consult is not None:
            why = ("no 117 call is connected on that phone" if agent is None
                   else "a consultation from that phone is already on")
            log.info("second call %s from %s to %r rejected: %s", channel.id, channel.name,
                     code, why)
            self.background.spawn(self.requests.hangup_quietly(channel.id, "rejected"))
            return
        agent.consult = PhoneConsult(channel.id, channel.protocol_id, code)
        self.legs.consults[channel.id] = agent
        # Ringback on the phone while the destination rings (no media until it answers).
        self.background.spawn(quietly(self.client.ring(channel.id)))
        self.emit(ConsultRequested(call_id=agent.call_id, agent_id=agent.agent_id, code=code))

    def ended(self, channel_id: str) -> bool:
        """StasisEnd of a channel: True when it was a phone's second call. Hung up by the
        phone (not by acd117, which forgets it first), it cancels the consultation."""
        agent = self.legs.consults.pop(channel_id, None)
        if agent is None:
            return False
        agent.consult = None
        if not (agent.ended or agent.stopped):
            self.emit(ConsultEnded(call_id=agent.call_id, agent_id=agent.agent_id,
                                   complete=False))
        return True

    def accepted(self, call_id: str) -> None:
        """The core dials (or rings) a destination for this call: if the consultation is
        the phone's, its second call waits for the destination's answer."""
        agent = self.legs.connected_agent(call_id)
        if agent is not None and agent.consult is not None:
            agent.consult.accepted = True

    async def put_through(self, call_id: str, bridge_id: str) -> None:
        """The destination answered (and is in the call's bridge): the phone's second call
        is answered and joins it there. A second call hung up meanwhile is left to its
        StasisEnd (the consultation cancelled): the caller is never touched here."""
        agent = self.legs.connected_agent(call_id)
        consult = agent.consult if agent is not None else None
        if consult is None or not consult.accepted:
            return
        try:
            await self.client.answer(consult.channel_id)
            await self.client.add_channels(bridge_id, [consult.channel_id])
        except AriError as exc:
            log.info("second call %s not put through: %s", consult.channel_id, exc)

    async def refused(self, agent: AgentLeg) -> None:
        """The core refused the consultation (`TransferRefused`): reject the second call."""
        consult = agent.consult
        if consult is not None and not consult.accepted:
            await self.drop(agent, "rejected")

    async def drop(self, agent: AgentLeg, reason: str = "normal") -> None:
        """acd117 ends the phone's second call (the consultation is over, whatever its
        outcome): forgotten first, so that its StasisEnd reports nothing."""
        consult = agent.consult
        if consult is None:
            return
        agent.consult = None
        self.legs.consults.pop(consult.channel_id, None)
        if consult.refer_pending:
            await self.requests.answer_transfer(consult.channel_id, done=False)
        await self.requests.hangup_quietly(
            consult.channel_id, "rejected" if reason == "rejected" else "normal")

    # --- the REFER ----------------------------------------------------------------------

    def attended(self, referrer: str, ev: ChannelTransfer) -> str | None:
        """A REFER with Replaces on `referrer` (the agent's first leg or its second call):
        why it is declined, or None when the consultation is being completed."""
        agent = self.legs.agent_at(referrer) or self.legs.consults.get(referrer)
        if agent is None or not agent.answered or agent.ended or agent.stopped \
                or agent.party:
            return "not the agent of a call"
        consult = agent.consult
        if consult is None:
            return ("the phone's second call did not go through acd117: dial the "
                    "destination's code from the phone, or use the console")
        other = consult.channel_id if referrer == agent.channel_id else agent.channel_id
        named = ev.refer_to.destination_channel
        call_id = ev.refer_to.requested_destination.protocol_id
        if not ((named is not None and named.id == other)
                or (referrer == agent.channel_id and call_id == consult.protocol_id)):
            return (f"it names another call ({named.name if named else call_id}) than "
                    "the consultation acd117 put through from that phone")
        if not consult.accepted or not self._party_answered(agent.call_id):
            return f"{consult.code} has not answered yet"
        if referrer == agent.channel_id:
            agent.refer_pending = True  # answered by LeaveCall or TransferRefused
        else:
            consult.refer_pending = True
        self.emit(ConsultEnded(call_id=agent.call_id, agent_id=agent.agent_id, complete=True))
        return None

    def _party_answered(self, call_id: str) -> bool:
        return any(o.call_id == call_id and o.answered and not o.stopped
                   for o in self.legs.outside.values()) or any(
            a.call_id == call_id and a.party and a.answered and not a.ended
            for a in self.legs.offers.values())

    async def completed(self, agent: AgentLeg) -> None:
        """The caller is handed to the destination (`LeaveCall`): the phone is told the
        transfer went through, on whichever call it sent the REFER."""
        consult = agent.consult
        if consult is not None and consult.refer_pending:
            consult.refer_pending = False
            await self.requests.answer_transfer(consult.channel_id, done=True)
        await self.drop(agent)
