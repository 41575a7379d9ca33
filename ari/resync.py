"""Resync after every (re)connect of the websocket: report what ended unseen, adopt the
calls this process does not know (a restart of acd117), end the strays."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace

from acd.vocabulary.events import CallAdopted, CallerHungUp, RingAnswered
from ari import adoption
from ari.arrival import Arrivals, parse_ingress
from ari.bridge_recording import BridgeRecording
from ari.client import AriClient, AriNotFound, HangupReason
from ari.endings import Endings
from ari.feature_calls import FeatureCalls
from ari.legs import AgentLeg, CallerLeg, Legs, OutsideLeg
from ari.models import Channel, PlaybackFinished, parse_ari_time
from ari.moh import MusicOnHold
from ari.requests import Emit, Requests, quietly
from ari.supervisor import Supervisor
from recording.policy import LiveRecordingInfo

log = logging.getLogger("ari.stasis")  # one logger for the whole Stasis app


def stasis_args(channel: Channel, app: str) -> list[str]:
    """Stasis arguments of a channel in Stasis, from its dialplan snapshot
    (`app_data` `acd117,inbound,+6281234567890,trunk-telkomsel` [02, 07])."""
    if channel.dialplan.app_name != "Stasis":
        return []
    parts = channel.dialplan.app_data.split(",")
    return parts[1:] if parts and parts[0] == app else []


def in_stasis(channel: Channel, app: str) -> bool:
    return bool(stasis_args(channel, app))


class Resync:
    def __init__(
        self,
        client: AriClient,
        legs: Legs,
        *,
        app: str,
        emit: Emit,
        clock: Callable[[], float],
        requests: Requests,
        endings: Endings,
        arrivals: Arrivals,
        features: FeatureCalls,
        moh: MusicOnHold,
        recording: BridgeRecording,
        supervisor: Supervisor,
        playback_finished: Callable[[PlaybackFinished], None],
        second_call_ended: Callable[[str], bool] = lambda channel_id: False,
    ) -> None:
        self.client = client
        self.legs = legs
        self.app = app
        self.emit = emit
        self.clock = clock
        self.requests = requests
        self.endings = endings
        self.arrivals = arrivals
        self.features = features
        self.moh = moh
        self.recording = recording
        self.supervisor = supervisor
        self.playback_finished = playback_finished
        self.second_call_ended = second_call_ended  # ari.phone_consults: cancels its consult

    async def resync(self) -> None:
        """Reconcile with what Asterisk has, after a websocket (re)connect or a restart.

        Events produced while the websocket was down are lost, not replayed [07]; calls
        stay in Stasis meanwhile, and after an Asterisk restart the app is new and
        empty [11]. So: GET /applications/{app}, /channels and /bridges, report what
        ended unseen, adopt what this process does not know.
        """
        app = await self.client.get_application(self.app)
        ids = set(app.channel_ids)
        channels = {c.id: c for c in await self.client.list_channels() if c.id in ids}
        bridge_ids = set(app.bridge_ids)
        bridges = [b for b in await self.client.list_bridges() if b.id in bridge_ids]

        await self._ended_unseen(channels)
        await self.recording.ended_unseen()
        # 2. What is in the app that this process does not know (restart of acd117).
        bridge_of: dict[str, str] = {}
        for b in bridges:
            for member in b.channels:
                bridge_of[member] = b.id
        known = self._known_now()
        unknown = [
            c for c in channels.values() if c.id not in known and not self.supervisor.owns(c.id)
        ]
        callers = [c for c in unknown if stasis_args(c, self.app)[:1] == ["inbound"]]
        for c in unknown:
            args = stasis_args(c, self.app)
            if args[:1] == ["feature"]:
                # A feature call that came in during the reconnect: serve it.
                self.features.start(c, args[1:])
        agents_by_call: dict[str, list[Channel]] = {}
        outside_by_call: dict[str, Channel] = {}  # a number the call was handed to
        for c in unknown:
            args = stasis_args(c, self.app)
            if args[:1] == ["agent"] and len(args) >= 3:
                agents_by_call.setdefault(args[1], []).append(c)
            elif args[:1] == ["outside"] and len(args) >= 2 and c.state == "Up":
                outside_by_call.setdefault(args[1], c)
        bridge_ids = {b.id for b in bridges}
        for channel in callers:
            await self._adopt_caller(channel, agents_by_call.get(channel.id, []),
                                     outside_by_call.get(channel.id), bridge_of, bridge_ids)
        adopted = self._known_now()
        for c in unknown:
            if c.id not in adopted:
                # Ringing legs of offers the core no longer knows, stray feature, snoop or
                # supervisor channels: end them (ringing agent legs as unanswered).
                reason: HangupReason = "no_answer" if c.state != "Up" else "normal"
                log.info("resync: ending unknown channel %s (%s)", c.id, c.name)
                await self.requests.hangup_quietly(c.id, reason)
        for b in bridges:
            if not any(m in adopted or self.supervisor.owns(m) for m in b.channels):
                await quietly(self.client.destroy_bridge(b.id))

    def _known_now(self) -> set[str]:
        """Caller, agent, outside and feature channels this process knows, at this moment."""
        return (set(self.legs.calls) | set(self.legs.agent_channels) | set(self.legs.outside)
                | set(self.features.sessions) | set(self.legs.consults))

    async def _ended_unseen(self, channels: dict[str, Channel]) -> None:
        """1. What ended (or answered) while we were not listening."""
        for leg in list(self.legs.calls.values()):
            if leg.in_stasis and leg.call_id not in channels:
                leg.in_stasis = False
                if not (leg.core_ended or leg.handed_off or leg.arriving):
                    self.emit(CallerHungUp(call_id=leg.call_id))
        for cid in [c for c in self.legs.consults if c not in channels]:
            self.second_call_ended(cid)  # the phone hung up its second call meanwhile
        for agent in list(self.legs.offers.values()):
            if agent.ended:
                continue
            channel = channels.get(agent.channel_id)
            if channel is None:
                self.endings.agent_ended(agent, cause=None)
                self.endings.forget_agent(agent)
            elif not agent.answered and in_stasis(channel, self.app):
                # Answered while the websocket was down: StasisStart was lost.
                agent.answered = True
                if not agent.stopped:
                    self.emit(RingAnswered(offer_id=agent.offer_id))
        for outside in list(self.legs.outside.values()):
            if outside.leg_id not in channels and not outside.originating:
                # Its ChannelDestroyed was lost with the websocket [07]: report the end
                # it missed, and drop the index entry that nothing else would.
                self.endings.outside_ended(outside, cause=None)
                self.endings.forget_outside(outside)
        for pid in list(self.legs.playbacks):
            try:
                await self.client.get_playback(pid)
            except AriNotFound:
                # Finished unseen (PlaybackFinished lost while disconnected [07]).
                self.playback_finished(
                    PlaybackFinished.model_validate(
                        {"type": "PlaybackFinished", "playback": {"id": pid, "state": "done"}}
                    )
                )
        await self.features.prompts_ended_unseen()
        for cid in list(self.features.sessions):
            if cid not in channels:
                self.features.cancel(cid)
        for leg in list(self.legs.calls.values()):
            self.endings.finish_call_if_done(leg)

    async def _adopt_caller(
        self, channel: Channel, agent_channels: list[Channel],
        outside_channel: Channel | None, bridge_of: dict[str, str], bridge_ids: set[str]
    ) -> None:
        args = stasis_args(channel, self.app)
        caller, ingress = parse_ingress(args)
        # The core works the region out again from the ingress: it needs the same headers,
        # read along with the call's facts.
        fact_values, headers = await asyncio.gather(
            asyncio.gather(
                *(self.requests.variable(channel.id, v) for v in adoption.CALL_FACT_VARS)
            ),
            self.arrivals.read_headers(
                channel.id, self.arrivals.headers_to_read(channel, args, ingress)
            ),
        )
        ingress = replace(ingress, headers=ingress.headers + headers)
        facts = adoption.facts_from_variables(
            dict(zip(adoption.CALL_FACT_VARS, fact_values, strict=True))
        )
        arrived_at = facts.arrived_at
        if arrived_at is None:
            # Facts never saved: the channel's creation is the next best arrival time
            # (StasisStart followed within 5 ms for a trunk call [14]).
            arrived_at = parse_ari_time(channel.creationtime) or self.clock()
        # A caller out of the call's bridge while it was answered was on hold, or in a
        # consultation (the agent talking to a third party in the bridge): the bridge is
        # still theirs, found by its name (`acd117-<call id>`, kept until the call ends).
        own_bridge = f"acd117-{channel.id}"
        held = (channel.id not in bridge_of and facts.answered_at is not None
                and own_bridge in bridge_ids)
        leg = CallerLeg(
            call_id=channel.id,
            caller=caller or channel.caller.number,
            ingress=ingress,
            arrived_at=arrived_at,
            up=channel.state == "Up",
            bridge_id=own_bridge if held else bridge_of.get(channel.id),
            recording=facts.recording,
            facts_saved=facts.arrived_at is not None,
        )
        self.legs.add_call(leg)
        # The call's own agent (ACD117_ANSWERED_BY), not another centre's agent who was
        # being consulted: that leg, like a number consulted, is not adopted and is hung
        # up (the consultation ends with the restart; the caller is back with the agent).
        agent_channel = next(
            (c for c in agent_channels if stasis_args(c, self.app)[2:3] == [facts.answered_by]),
            agent_channels[0] if agent_channels else None)
        agent: AgentLeg | None = None
        if (
            agent_channel is not None
            and leg.bridge_id is not None
            and bridge_of.get(agent_channel.id) == leg.bridge_id
        ):
            agent_args = stasis_args(agent_channel, self.app)
            agent = AgentLeg(
                offer_id=agent_channel.id,
                channel_id=agent_channel.id,
                call_id=channel.id,
                agent_id=agent_args[2],
                device=agent_channel.device,
                answered=True,
                answered_at=facts.answered_at or parse_ari_time(agent_channel.creationtime),
            )
            self.legs.add_agent(agent)
            leg.connected_offer = agent.offer_id
        if held and agent is None:
            held = False  # its agent is gone too: it waits again, its bridge is not kept
            leg.bridge_id = None
        outside: OutsideLeg | None = None
        if (agent is None and outside_channel is not None and leg.bridge_id is not None
                and bridge_of.get(outside_channel.id) == leg.bridge_id):
            # Handed to an outside number (the fire brigade...) and talking: keep them so.
            outside = self.legs.outside[outside_channel.id] = OutsideLeg(
                outside_channel.id, leg.call_id, answered=True)
        if leg.recording and (agent is not None or outside is not None):
            # Still recording the bridge; its RecordingFinished comes to this process.
            self.recording.adopt(
                LiveRecordingInfo(
                    name=leg.recording,
                    call_id=leg.call_id,
                    caller=leg.caller,
                    agent_id=agent.agent_id if agent else None,
                    centre_id=None,
                    tier=facts.tier,
                    format=self.recording.recordings.policy.format,
                )
            )
        self.emit(
            CallAdopted(
                call_id=leg.call_id,
                caller=leg.caller,
                ingress=ingress,
                arrived_at=arrived_at,
                tier=facts.tier,
                tier_since=facts.tier_since,
                # Handed to a number: the agent who had it, for the CDR.
                agent_id=agent.agent_id if agent else (facts.answered_by if outside else None),
                device=agent.device if agent else None,
                answered_at=(agent.answered_at or arrived_at) if agent else (
                    (facts.answered_at or arrived_at) if outside else None),
                outside_leg=outside.leg_id if outside else None,
            )
        )
        if agent is None and outside is None:
            # MOH is not visible over ARI [03]; (re)start it for a waiting caller.
            self.moh.reconcile_soon(leg.call_id)
        elif held and leg.bridge_id is not None:
            # Back with the agent (the core knows of no hold or consultation): the music
            # the first process started, unseen over ARI [03], stopped at a guess.
            await quietly(self.client.stop_moh(leg.call_id))
            await quietly(self.client.add_channels(leg.bridge_id, [leg.call_id]))
