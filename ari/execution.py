"""Core commands -> ARI requests (`COMMANDS` below).

| command        | ARI requests                                                          |
|----------------|-----------------------------------------------------------------------|
| Answer         | POST /channels/{call}/answer                                          |
| PlayPrompt     | [DELETE /channels/{call}/moh] POST /channels/{call}/play              |
|                |   ?media=sound:<file>[,sound:acd117/numbers/<n>]&playbackId=acd117-pb-<n>|
| RingAgent      | POST /channels?endpoint=<device>&app=acd117&appArgs=agent,<call>,     |
|                |   <agent>&callerId=&timeout=&channelId=<offer> + body variables       |
| StopRinging    | DELETE /channels/{offer}?reason=answered_elsewhere|no_answer|normal   |
|                |   (also the leg of a centre's agent consulted, when cancelled)        |
| Bridge         | at once: [stop MOH, prompts], POST /bridges?bridgeId=acd117-<call>;   |
|                |   then POST /bridges/{b}/addChannel?channel=<call>,<offer>            |
| StartRecording | POST /bridges/{b}/record?name=&format=&ifExists=,                     |
|                |   POST /channels/{call}/variable ACD117_RECORDING                     |
| HangUp         | DELETE /channels/{call, its agent or outside leg}?reason=normal       |
| Requeue        | [POST /channels/{agent}/transfer_progress?states=channel_answered]    |
|                |   POST /bridges/{b}/removeChannel?channel=<call>,                     |
|                |   DELETE /channels/{agent}, then music on hold                        |
| TransferRefused| [POST /channels/{agent}/transfer_progress?states=channel_declined]    |
| DialOut        | POST /channels?endpoint=<dial>&app=acd117&appArgs=outside,<call>&     |
|                |   channelId=<leg>&callerId=<caller>&timeout=                          |
| ConnectOutside | [stop MOH, prompts] POST /bridges/{b}/addChannel?channel=[<call>,]<leg>|
| HoldCaller     | POST /bridges/{b}/removeChannel?channel=<call>, then music on hold    |
| ResumeCaller   | DELETE /channels/{call}/moh, POST /bridges/{b}/addChannel?channel=<call>|
| JoinCall       | POST /bridges/{b}/addChannel?channel=<offer> (a centre's agent        |
|                |   consulted joins whoever is in the call)                             |
| LeaveCall      | DELETE /channels/{agent}?reason=normal [, POST /channels/{call}/      |
|                |   variable ACD117_ANSWERED_BY=<the agent it is handed to>]            |
| MuteAgent      | POST or DELETE /channels/{agent}/mute?direction=in                    |
| Fallback       | POST /channels/{call}/continue?context=acd117-fallback&extension=s&    |
|                |   priority=1 (the national fallback queue [08])                       |
| SaveCallFacts  | POST /channels/{call}/variables (Asterisk >= 20.20/22.10), else       |
|                |   POST /channels/{call}/variable per fact (ari.adoption)              |

A failing command for a caller channel sends that channel back to the dialplan. The
transfer and third-party rows are run by `ari.transfer_commands`.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

from acd.vocabulary.commands import (
    Answer,
    Bridge,
    ConnectOutside,
    DialOut,
    Fallback,
    HangUp,
    HoldCaller,
    JoinCall,
    LeaveCall,
    MuteAgent,
    PlayPrompt,
    Requeue,
    ResumeCaller,
    RingAgent,
    StartRecording,
    StopReason,
    StopRinging,
    TransferRefused,
)
from acd.vocabulary.events import PromptFinished, RingFailed
from acd.vocabulary.tiers import Tier
from ari import adoption
from ari.adoption import AdapterCommand, SaveCallFacts
from ari.bridge_recording import BridgeRecording
from ari.client import AllocationFailed, AriClient, AriError, AriNotFound, HangupReason
from ari.endings import Endings
from ari.handoff import HandOff
from ari.legs import AgentLeg, CallerLeg, Legs
from ari.media import PromptMedia
from ari.moh import MusicOnHold
from ari.phone_consults import PhoneConsults
from ari.requests import Emit, KeyedLocks, Requests, quietly
from ari.transfer_commands import TransferCommands

log = logging.getLogger("ari.stasis")  # one logger for the whole Stasis app

# StopRinging.reason -> DELETE ?reason=. answered_elsewhere gives cause 26 and the SIP
# `Reason: SIP;cause=200;text="Call completed elsewhere"` so phones do not log a missed
# call [12]; no_answer gives cause 19 [03]; caller_left/logged_out are normal clearing [14].
HANGUP_REASON_FOR_STOP: dict[StopReason, HangupReason] = {
    "answered_elsewhere": "answered_elsewhere",
    "no_answer": "no_answer",
    "caller_left": "normal",
    "logged_out": "normal",
    "cancelled": "normal",
}


def agent_caller_id(cmd: RingAgent) -> str:
    """What the agent's phone shows: region (and tier above kabupaten/kota) and caller.

    `"117 32.73 Kota Bandung" <+6281234567890>`, `"117 PROV 32.73 Kota Bandung" <...>`.
    The callerId parameter sets the SIP From; CALLERID(name) in the originate variables
    would change only the channel, not the From [10].
    """
    tag = {Tier.KABKOTA: "117", Tier.PROVINCE: "117 PROV", Tier.NATIONAL: "117 NAS"}[cmd.tier]
    name = f"{tag} {cmd.region_code} {cmd.region_name}".replace('"', "").strip()
    number = "".join(ch for ch in cmd.caller if ch not in '<>"')
    return f'"{name}" <{number}>'


def facts_key(call_id: str) -> str:
    """The lock of the facts kept on a caller channel for re-adoption, apart from the call's.

    Asterisk runs a Stasis channel's operations one at a time and a playback holds the
    channel until it ends: a variable set while the welcome plays is answered only after it
    (5 s and more, seen on Asterisk 22). Under the call's lock that held up the bridge of an
    agent who answered during the welcome. The facts only matter after a restart: they keep
    their order among themselves, and the call's commands do not wait for them."""
    return f"facts:{call_id}"


class CommandExecution(TransferCommands):
    """Runs one command at a time per call: requests for a call (or an offer) go out
    under its lock, in the order the commands came."""

    def __init__(
        self,
        client: AriClient,
        legs: Legs,
        *,
        app: str,
        emit: Emit,
        clock: Callable[[], float],
        locks: KeyedLocks,
        requests: Requests,
        endings: Endings,
        moh: MusicOnHold,
        recording: BridgeRecording,
        handoff: HandOff,
        phone_consults: PhoneConsults,
        prompt_media: PromptMedia,
        language: str | None,
        moh_grace_s: float,
    ) -> None:
        self.client = client
        self.legs = legs
        self.app = app
        self.emit = emit
        self.clock = clock
        self.locks = locks
        self.requests = requests
        self.endings = endings
        self.moh = moh
        self.recording = recording
        self.handoff = handoff
        self.phone_consults = phone_consults
        self.prompt_media = prompt_media
        self.language = language
        self.moh_grace_s = moh_grace_s

    async def execute(self, command: AdapterCommand) -> None:
        """Carry out one core command. Never raises: failures become domain events or,
        for a caller channel, a hand-off to the dialplan fallback."""
        runner = COMMANDS.get(type(command))
        if runner is None:
            log.warning("no ARI translation for %r", command)
            return
        try:
            await runner(self, command)
        except Exception:
            log.exception("executing %r failed", command)
            call_id = getattr(command, "call_id", None)
            if call_id is None and isinstance(command, StopRinging):
                agent = self.legs.offer(command.offer_id)
                call_id = agent.call_id if agent else None
            if call_id is not None:
                await self.handoff.hand_off(call_id, f"{type(command).__name__} failed")

    async def answer(self, cmd: Answer) -> None:
        leg = self.legs.call(cmd.call_id)
        if leg is None or not leg.in_stasis:
            return
        # The 117 dialplan answers before Stasis(), so the channel is usually Up already at
        # StasisStart; answering again would return 204 [02] but costs a round trip before
        # the welcome and the agent's ring.
        if not leg.up:
            async with self.locks(cmd.call_id):
                if await self.requests.on_call(leg, self.client.answer(cmd.call_id)):
                    leg.up = True
        # Music on hold only once the core has had a chance to start a prompt.
        self.moh.schedule(cmd.call_id, self.moh_grace_s)

    async def play_prompt(self, cmd: PlayPrompt) -> None:
        leg = self.legs.call(cmd.call_id)
        if leg is None or not leg.in_stasis:
            self.emit(PromptFinished(call_id=cmd.call_id, prompt=cmd.prompt))
            return
        leg.pending_prompts += 1  # seen by a concurrent MOH decision before the lock
        try:
            async with self.locks(cmd.call_id):
                if leg.moh:
                    await self.moh.off(leg)
                pid = self.legs.new_playback_id()
                # Registered before the request: PlaybackStarted/Finished can overtake the
                # HTTP answer.
                self.legs.playbacks[pid] = (cmd.call_id, cmd.prompt)
                leg.playbacks[pid] = cmd.prompt
                try:
                    await self.client.play(
                        cmd.call_id,
                        self.prompt_media(cmd.prompt, cmd.number),
                        playback_id=pid,
                        lang=self.language,
                    )
                except AriError as exc:
                    self.legs.playbacks.pop(pid, None)
                    leg.playbacks.pop(pid, None)
                    if not isinstance(exc, AriNotFound):
                        log.warning("prompt %s for %s failed: %s", cmd.prompt, cmd.call_id, exc)
                    # A failed prompt must not stall the call.
                    self.emit(PromptFinished(call_id=cmd.call_id, prompt=cmd.prompt))
        finally:
            leg.pending_prompts -= 1

    async def ring_agent(self, cmd: RingAgent) -> None:
        agent = AgentLeg(
            offer_id=cmd.offer_id,
            channel_id=cmd.offer_id,
            call_id=cmd.call_id,
            agent_id=cmd.agent_id,
            device=cmd.device,
            party=cmd.party,
        )
        self.legs.add_agent(agent)
        if cmd.party:  # a centre's agent rung for a consultation, maybe the phone's own
            self.phone_consults.accepted(cmd.call_id)
        variables = {
            adoption.AGENT_CALL_ID_VAR: cmd.call_id,
            adoption.AGENT_ID_VAR: cmd.agent_id,
        }
        if cmd.device.upper().startswith("PJSIP/"):
            # Extra INVITE headers for phones that can show them [10].
            variables["PJSIP_HEADER(add,X-ACD117-Call-ID)"] = cmd.call_id
            variables["PJSIP_HEADER(add,X-ACD117-Region)"] = cmd.region_code
            variables["PJSIP_HEADER(add,X-ACD117-Tier)"] = cmd.tier.value
            # The phone's Transfer button (a SIP REFER) comes to acd117 as ChannelTransfer
            # instead of Asterisk carrying it out behind the Stasis app's back, which cut
            # the caller off and made two ghost channels (Asterisk >= 20.13/21.8/22.3).
            variables["PJSIP_TRANSFER_HANDLING()"] = "ari-only"
        async with self.locks(cmd.offer_id):
            try:
                channel = await self.client.originate(
                    cmd.device,
                    app=self.app,
                    app_args=("agent", cmd.call_id, cmd.agent_id),
                    caller_id=agent_caller_id(cmd),
                    timeout=max(1, math.ceil(cmd.timeout_s)),
                    channel_id=cmd.offer_id,
                    variables=variables,
                )
            except AriError as exc:
                # Unregistered / unknown / unreachable endpoint: HTTP 500 "Allocation
                # failed" and no event at all [04].
                if isinstance(exc, AllocationFailed):
                    log.info("ring %s for %s: allocation failed", cmd.device, cmd.call_id)
                else:
                    log.warning("ring %s for %s failed: %s", cmd.device, cmd.call_id, exc)
                agent.ended = True
                self.endings.forget_agent(agent)
                if not agent.stopped:
                    agent.reported = True
                    self.emit(RingFailed(offer_id=cmd.offer_id, reason="failed"))
                return
            self.legs.agent_channel_is(agent, channel.id)

    async def stop_ringing(self, cmd: StopRinging) -> None:
        agent = self.legs.offer(cmd.offer_id)
        if agent is None:
            return
        agent.stopped = True
        async with self.locks(cmd.offer_id):
            if not agent.ended:
                await self.requests.hangup_quietly(
                    agent.channel_id, HANGUP_REASON_FOR_STOP[cmd.reason]
                )

    async def bridge(self, cmd: Bridge) -> None:
        leg = self.legs.call(cmd.call_id)
        agent = self.legs.offer(cmd.offer_id)
        if leg is None or agent is None or not leg.in_stasis or agent.ended:
            # The other side already left; its StasisEnd/ChannelDestroyed tells the core.
            log.info("bridge %s/%s: a leg has already gone", cmd.call_id, cmd.offer_id)
            return
        async with self.locks(cmd.call_id):
            try:
                await self._connect(leg, cmd.offer_id, agent.channel_id)
            except AriError as exc:
                if not leg.in_stasis or agent.ended:
                    return  # a leg left meanwhile; its own event reports it
                log.error("bridging %s with %s failed: %s", cmd.call_id, cmd.offer_id, exc)
                raise
            # For a re-adoption: connected since (the agent leg itself says who).
            answered_at = agent.answered_at or self.clock()
            await self.requests.set_call_variables(
                leg, {adoption.ANSWERED_AT_VAR: adoption.epoch(answered_at),
                      adoption.ANSWERED_BY_VAR: cmd.agent_id}
            )

    async def _connect(self, leg: CallerLeg, offer_or_leg: str, channel_id: str) -> None:
        """The caller and `channel_id` in the call's bridge (made at its first answer and
        kept across transfers), prompts and music stopped. Under the call's lock."""
        leg.connected_offer = offer_or_leg
        leg.held = False
        # Silencing the caller (the welcome may still play: the agent rang during it) and
        # making the bridge do not depend on each other: one round trip of waiting, not
        # three, between the agent's answer and the two of them talking.
        steps: list[Awaitable[object]] = [quietly(self.client.stop_playback(pid))
                                          for pid in list(leg.playbacks)]
        if leg.moh:
            steps.append(self.moh.off(leg))
        bridge_id = leg.bridge_id or f"acd117-{leg.call_id}"
        if leg.bridge_id is None:
            steps.append(self.client.create_bridge(bridge_id=bridge_id,
                                                   name=f"call-{leg.call_id}"))
        for outcome in await asyncio.gather(*steps, return_exceptions=True):
            if isinstance(outcome, BaseException):
                raise outcome  # only the bridge's creation can fail here
        leg.bridge_id = bridge_id
        await self.client.add_channels(bridge_id, [leg.call_id, channel_id])

    async def start_recording(self, cmd: StartRecording) -> None:
        await self.recording.start(cmd)

    async def hang_up(self, cmd: HangUp) -> None:
        leg = self.legs.call(cmd.call_id)
        if cmd.leg == "outside":
            for outside in [o for o in self.legs.outside.values() if o.call_id == cmd.call_id]:
                outside.stopped = True
                await self.requests.hangup_quietly(outside.leg_id, "normal")
            return
        if cmd.leg == "caller":
            if leg is None:
                return
            leg.core_ended = True
            async with self.locks(cmd.call_id):
                if leg.in_stasis:
                    await self.requests.hangup_quietly(cmd.call_id, "normal")
            return
        for agent in self.legs.answered_agents(cmd.call_id):
            agent.stopped = True
            await self.phone_consults.drop(agent)
            async with self.locks(agent.offer_id):
                await self.requests.hangup_quietly(agent.channel_id, "normal")

    async def save_call_facts(self, cmd: SaveCallFacts) -> None:
        leg = self.legs.call(cmd.call_id)
        if leg is None or not leg.in_stasis:
            return
        variables = cmd.variables()
        if not leg.facts_saved:
            variables[adoption.ARRIVED_AT_VAR] = adoption.epoch(leg.arrived_at)
        async with self.locks(facts_key(cmd.call_id)):
            if await self.requests.set_call_variables(leg, variables):
                leg.facts_saved = True

    async def fallback(self, cmd: Fallback) -> None:
        await self.handoff.hand_off(cmd.call_id, cmd.reason)


_Runner = Callable[[CommandExecution, Any], Awaitable[None]]

# Command type -> runner (see the table in the module docstring).
COMMANDS: dict[type, _Runner] = {
    Answer: CommandExecution.answer,
    PlayPrompt: CommandExecution.play_prompt,
    RingAgent: CommandExecution.ring_agent,
    StopRinging: CommandExecution.stop_ringing,
    Bridge: CommandExecution.bridge,
    StartRecording: CommandExecution.start_recording,
    HangUp: CommandExecution.hang_up,
    Requeue: CommandExecution.requeue,
    TransferRefused: CommandExecution.transfer_refused,
    DialOut: CommandExecution.dial_out,
    ConnectOutside: CommandExecution.connect_outside,
    HoldCaller: CommandExecution.hold_caller,
    ResumeCaller: CommandExecution.resume_caller,
    JoinCall: CommandExecution.join_call,
    LeaveCall: CommandExecution.leave_call,
    MuteAgent: CommandExecution.mute_agent,
    Fallback: CommandExecution.fallback,
    SaveCallFacts: CommandExecution.save_call_facts,
}
