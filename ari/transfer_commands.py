"""Commands that hand a connected call on or bring a third party in, to ARI requests
(rows of the table in `ari.execution`, whose `CommandExecution` runs them).

The caller's bridge is made at the first answer and kept until the call ends: a caller
taken out of it (a transfer re-queueing the call, hold, a consultation) is a waiting
channel again, with music on hold, and comes back by `addChannel`.
"""

from __future__ import annotations

import logging
import math

from acd.vocabulary.commands import (
    ConnectOutside,
    DialOut,
    HoldCaller,
    JoinCall,
    LeaveCall,
    MuteAgent,
    Requeue,
    ResumeCaller,
    TransferRefused,
)
from acd.vocabulary.events import OutsideFailed
from ari import adoption
from ari.client import AriClient, AriError
from ari.legs import CallerLeg, Legs, OutsideLeg
from ari.moh import MusicOnHold
from ari.phone_consults import PhoneConsults
from ari.requests import Emit, KeyedLocks, Requests, quietly

log = logging.getLogger("ari.stasis")  # one logger for the whole Stasis app


class TransferCommands:
    """A part of `ari.execution.CommandExecution`, which provides these."""

    client: AriClient
    legs: Legs
    app: str
    emit: Emit
    locks: KeyedLocks
    requests: Requests
    moh: MusicOnHold
    phone_consults: PhoneConsults

    async def _connect(self, leg: CallerLeg, offer_or_leg: str, channel_id: str) -> None:
        raise NotImplementedError

    async def requeue(self, cmd: Requeue) -> None:
        leg = self.legs.call(cmd.call_id)
        agent = self.legs.connected_agent(cmd.call_id)
        if agent is not None:
            agent.stopped = True  # its hang-up is ours: no AgentHungUp
            if agent.refer_pending:
                agent.refer_pending = False
                await self.requests.answer_transfer(agent.channel_id, done=True)
        if leg is None or not leg.in_stasis:
            return  # the caller left meanwhile; their StasisEnd tells the core
        async with self.locks(cmd.call_id):
            leg.connected_offer = None
            if leg.bridge_id is not None:
                # Out of the bridge, the caller is a waiting channel again: music on hold
                # and prompts reach them as before their first answer.
                await quietly(self.client.remove_channels(leg.bridge_id, [cmd.call_id]))
        if agent is not None:
            async with self.locks(agent.offer_id):
                await self.requests.hangup_quietly(agent.channel_id, "normal")
        self.moh.reconcile_soon(cmd.call_id)

    async def transfer_refused(self, cmd: TransferRefused) -> None:
        log.info("transfer of %s by agent %s refused: %s", cmd.call_id, cmd.agent_id,
                 cmd.reason)
        agent = self.legs.connected_agent(cmd.call_id)
        if agent is not None and agent.refer_pending:
            agent.refer_pending = False
            await self.requests.answer_transfer(agent.channel_id, done=False)
        elif agent is not None:  # a consultation from the phone's own second call
            await self.phone_consults.refused(agent)

    async def dial_out(self, cmd: DialOut) -> None:
        self.phone_consults.accepted(cmd.call_id)
        outside = self.legs.outside[cmd.leg_id] = OutsideLeg(cmd.leg_id, cmd.call_id,
                                                             originating=True)
        try:
            await self.client.originate(
                cmd.dial, app=self.app, app_args=("outside", cmd.call_id),
                caller_id=cmd.caller, timeout=max(1, math.ceil(cmd.timeout_s)),
                channel_id=cmd.leg_id)
        except AriError as exc:
            log.warning("dialling %s for %s failed: %s", cmd.dial, cmd.call_id, exc)
            self.legs.outside.pop(cmd.leg_id, None)
            if not outside.stopped:
                self.emit(OutsideFailed(leg_id=cmd.leg_id, reason="failed"))
        finally:
            outside.originating = False

    async def connect_outside(self, cmd: ConnectOutside) -> None:
        leg = self.legs.call(cmd.call_id)
        if leg is None or not leg.in_stasis or cmd.leg_id not in self.legs.outside:
            log.info("connect %s/%s: a leg has already gone", cmd.call_id, cmd.leg_id)
            return
        async with self.locks(cmd.call_id):
            if cmd.with_caller:
                await self._connect(leg, cmd.leg_id, cmd.leg_id)
            elif leg.bridge_id is not None:  # a third party joins whoever is there
                await self.client.add_channels(leg.bridge_id, [cmd.leg_id])
                await self.phone_consults.put_through(cmd.call_id, leg.bridge_id)

    async def hold_caller(self, cmd: HoldCaller) -> None:
        leg = self.legs.call(cmd.call_id)
        if leg is None or not leg.in_stasis or leg.bridge_id is None:
            return
        async with self.locks(cmd.call_id):
            leg.held = True
            await quietly(self.client.remove_channels(leg.bridge_id, [cmd.call_id]))
        self.moh.reconcile_soon(cmd.call_id)

    async def resume_caller(self, cmd: ResumeCaller) -> None:
        agent = self.legs.connected_agent(cmd.call_id)
        if agent is not None and not (agent.refer_pending or (
                agent.consult is not None and agent.consult.refer_pending)):
            await self.phone_consults.drop(agent)  # the consultation is over: the caller back
        leg = self.legs.call(cmd.call_id)
        if leg is None or not leg.in_stasis or leg.bridge_id is None or not leg.held:
            return
        async with self.locks(cmd.call_id):
            leg.held = False
            if leg.moh:
                await self.moh.off(leg)
            await self.client.add_channels(leg.bridge_id, [cmd.call_id])

    async def join_call(self, cmd: JoinCall) -> None:
        leg = self.legs.call(cmd.call_id)
        agent = self.legs.offer(cmd.offer_id)
        if leg is None or agent is None or not leg.in_stasis or agent.ended \
                or leg.bridge_id is None:
            log.info("join %s/%s: a leg has already gone", cmd.call_id, cmd.offer_id)
            return
        async with self.locks(cmd.call_id):
            try:
                await self.client.add_channels(leg.bridge_id, [agent.channel_id])
            except AriError as exc:
                if agent.ended or agent.stopped or not leg.in_stasis:
                    return  # it left meanwhile: its own event tells the core
                # The two agents cannot talk: end the consulted leg, whose hang-up gives
                # the caller back to the first agent; the caller is never touched.
                log.warning("joining %s to %s failed: %s", cmd.offer_id, cmd.call_id, exc)
                await self.requests.hangup_quietly(agent.channel_id, "normal")
                return
            await self.phone_consults.put_through(cmd.call_id, leg.bridge_id)

    async def leave_call(self, cmd: LeaveCall) -> None:
        agent = self.legs.connected_agent(cmd.call_id)
        leg = self.legs.call(cmd.call_id)
        successor = self.legs.offer(cmd.to_offer) if cmd.to_offer else None
        if leg is None or (agent is None and successor is None):
            return
        if successor is not None:
            # The centre's agent consulted has the call now: their hang-up, hold and
            # Transfer button are the call's from here on.
            successor.party = False
            leg.connected_offer = successor.offer_id
        else:
            # The caller now talks to the number: keep music off (the outside leg is
            # connected).
            leg.connected_offer = next(
                (o.leg_id for o in self.legs.outside.values() if o.call_id == cmd.call_id),
                None)
        if agent is not None:
            agent.stopped = True  # its hang-up is ours: no AgentHungUp
            if agent.refer_pending:  # the phone's attended transfer went through
                agent.refer_pending = False
                await self.requests.answer_transfer(agent.channel_id, done=True)
            await self.phone_consults.completed(agent)
            async with self.locks(agent.offer_id):
                await self.requests.hangup_quietly(agent.channel_id, "normal")
        if successor is not None and leg.in_stasis:
            async with self.locks(cmd.call_id):  # for a re-adoption: whose call it is now
                await self.requests.set_call_variables(
                    leg, {adoption.ANSWERED_BY_VAR: successor.agent_id})

    async def mute_agent(self, cmd: MuteAgent) -> None:
        agent = self.legs.connected_agent(cmd.call_id)
        if agent is not None and not agent.ended:
            await quietly(self.client.mute(agent.channel_id, cmd.on))
