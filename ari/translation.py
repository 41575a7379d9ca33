"""ARI events -> domain events (`ARI_EVENTS` below; every other type is ignored unparsed).

| ARI event           | on / when                                  | domain event              |
|---------------------|--------------------------------------------|---------------------------|
| StasisStart         | args `inbound,<caller>,<trunk>,<did>,k=v..`| CallArrived (ari.arrival) |
| StasisStart         | args `agent,<call>,<agent>` (our originate)| RingAnswered(offer)       |
| StasisStart         | args `feature,<code>[,<arg>]`              | feature dialog (features) |
| StasisStart         | args `consult,<number>`: a phone's 2nd call| ConsultRequested (3)      |
| StasisEnd           | that second call, hung up by the phone     | ConsultEnded(cancel) (3)  |
| StasisStart         | args `snoop,..` / `supervisor,..`          | monitor (supervisor)      |
| StasisEnd           | caller channel                             | CallerHungUp (1)          |
| StasisEnd           | answered agent leg                         | AgentHungUp (1)           |
| StasisEnd           | answered leg of a centre's agent consulted | PartyAgentHungUp (1)      |
| ChannelDestroyed    | agent leg never answered                   | RingFailed (2)            |
| PlaybackFinished    | any state, `failed` on hang-up [05]        | PromptFinished            |
| StasisStart         | args `outside,<call>` (a transfer's number)| OutsideAnswered(leg)      |
| StasisEnd           | answered outside leg                       | OutsideHungUp (1)         |
| ChannelDestroyed    | outside leg never answered                 | OutsideFailed (2)         |
| ChannelTransfer     | answered agent leg: the phone's Transfer   | TransferRequested         |
| ChannelTransfer     | with Replaces: the phone's attended one    | ConsultEnded(complete) (3)|
| ChannelHold/Unhold  | answered agent leg (not a consulted one)   | HoldStarted / HoldEnded   |
| ChannelDtmfReceived | feature call                               | digits for the dialog     |
| Recording*          | bridge recording Started/Finished/Failed   | recording hooks           |

(1) unless acd117 ended that leg itself (HangUp, StopRinging, hand-off to the dialplan).
ChannelTransfer comes instead of Asterisk's own transfer because agent legs are originated
with PJSIP_TRANSFER_HANDLING=ari-only (and the phones' second calls get it in the
dialplan); one acd117 cannot carry out (a REFER on any other leg, an attended one that
names a call acd117 did not put through) is declined at once and the call stays where it
was.
(2) cause 17/21 -> busy, 18/19 -> no_answer, anything else -> failed (ari.endings).
(3) the phone's own attended transfer: see ari.phone_consults.
Not handled, on purpose: ChannelHangupRequest, Dial, ChannelStateChange, ChannelVarset,
bridge and device/endpoint events (reasons next to `ARI_EVENTS`).

A failing handler sends the call it concerns back to the dialplan (ari.handoff).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from acd.vocabulary.events import (
    CallerHungUp,
    HoldEnded,
    HoldStarted,
    OutsideAnswered,
    PromptFinished,
    RingAnswered,
    TransferRequested,
)
from ari.arrival import Arrivals
from ari.bridge_recording import BridgeRecording
from ari.endings import Endings
from ari.feature_calls import FeatureCalls
from ari.handoff import HandOff
from ari.legs import AgentLeg, Legs
from ari.models import (
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelHold,
    ChannelTransfer,
    ChannelUnhold,
    PlaybackFinished,
    RecordingFailed,
    RecordingFinished,
    RecordingStarted,
    StasisEnd,
    StasisStart,
    parse_event,
)
from ari.moh import MusicOnHold
from ari.phone_consults import PhoneConsults
from ari.requests import Background, Emit, Requests
from ari.supervisor import Supervisor

log = logging.getLogger("ari.stasis")  # one logger for the whole Stasis app


class EventTranslation:
    """The ARI event handlers: synchronous, requests go to background tasks."""

    def __init__(
        self,
        legs: Legs,
        *,
        emit: Emit,
        clock: Callable[[], float],
        background: Background,
        requests: Requests,
        endings: Endings,
        arrivals: Arrivals,
        features: FeatureCalls,
        moh: MusicOnHold,
        recording: BridgeRecording,
        supervisor: Supervisor,
        handoff: HandOff,
        phone_consults: PhoneConsults,
    ) -> None:
        self.legs = legs
        self.emit = emit
        self.clock = clock
        self.background = background
        self.requests = requests
        self.endings = endings
        self.arrivals = arrivals
        self.features = features
        self.moh = moh
        self.recording = recording
        self.supervisor = supervisor
        self.handoff = handoff
        self.phone_consults = phone_consults

    async def handle(self, raw: dict[str, Any]) -> None:
        """One event from the websocket (as decoded JSON). Never raises."""
        handler = ARI_EVENTS.get(raw.get("type"))  # type: ignore[arg-type]
        if handler is None:
            return
        event = parse_event(raw)
        if event is None:
            if raw.get("type") == "StasisStart":
                # A call we cannot read must not sit in Stasis: give it to the dialplan.
                channel_id = (raw.get("channel") or {}).get("id")
                if isinstance(channel_id, str):
                    self.handoff.to_dialplan_soon(channel_id)
            return
        try:
            handler(self, event)
        except Exception:
            log.exception("handling ari %s failed", event.type)
            call_id = self.legs.call_of(event)
            if call_id is not None:
                self.handoff.hand_off_soon(call_id, f"{event.type} handler failed")

    def _hang_up_soon(self, channel_id: str) -> None:
        self.background.spawn(self.requests.hangup_quietly(channel_id, "normal"))

    def on_stasis_start(self, ev: StasisStart) -> None:
        channel = ev.channel
        kind = ev.args[0] if ev.args else ""
        if kind == "inbound":
            if self.legs.call(channel.id) is not None:
                return  # already known (re-adopted during a reconnect)
            self.arrivals.arrived(channel, ev.args)
        elif kind == "agent":
            # Agent legs get Dial/ChannelStateChange before and without StasisStart; it
            # only comes when the phone answers [02].
            agent = self.legs.agent_at(channel.id)
            if agent is None:
                # Not ours any more (e.g. rung before a restart): nobody waits for it.
                log.info("unknown agent leg %s answered; hanging up", channel.id)
                self._hang_up_soon(channel.id)
                return
            agent.answered = True
            agent.answered_at = self.clock()
            if agent.stopped:
                # Answered while our DELETE was on its way (ring-all race [12]); the
                # DELETE ends it with a BYE carrying "Call completed elsewhere".
                return
            self.emit(RingAnswered(offer_id=agent.offer_id))
        elif kind == "outside":
            outside = self.legs.outside.get(channel.id)
            if outside is None or outside.stopped:
                log.info("outside leg %s answered for nobody; hanging up", channel.id)
                self._hang_up_soon(channel.id)
                return
            outside.answered = True
            self.emit(OutsideAnswered(leg_id=outside.leg_id))
        elif kind == "feature":
            if channel.id not in self.features.sessions:  # may have been adopted at a resync
                self.features.start(channel, ev.args[1:])
        elif kind == "consult":
            try:
                self.phone_consults.arrived(channel, ev.args[1] if len(ev.args) > 1 else "")
            except Exception:
                log.exception("second call %s failed", channel.name)
                self.handoff.to_dialplan_soon(channel.id)  # congestion: the caller untouched
        elif kind in ("snoop", "supervisor"):
            if self.supervisor.owns(channel.id):
                self.supervisor.on_stasis_start(channel.id)
            else:  # a monitor of a previous process: nobody listens any more
                self._hang_up_soon(channel.id)
        else:
            # Not a call acd117 understands: the dialplan fallback takes it.
            log.warning("StasisStart with unknown args %s for %s", ev.args, channel.name)
            self.handoff.to_dialplan_soon(channel.id)

    def on_stasis_end(self, ev: StasisEnd) -> None:
        # For channels that entered from the dialplan (callers, trunk calls, feature
        # calls) and for snoops, StasisEnd is the last event: no ChannelDestroyed
        # follows [02, 05, 09, 14]. ChannelHangupRequest may be missing [05 D, 09].
        cid = ev.channel.id
        leg = self.legs.call(cid)
        if leg is not None:
            leg.in_stasis = False
            if leg.arriving:
                return  # its headers are being read: the arrival reports the hang-up after it
            if not (leg.core_ended or leg.handed_off):
                self.emit(CallerHungUp(call_id=cid))
            self.endings.finish_call_if_done(leg)
            return
        agent = self.legs.agent_at(cid)
        if agent is not None:
            self.endings.agent_ended(agent, cause=None)
            self._end_second_call(agent)
            return
        if self.phone_consults.ended(cid):
            return
        if (outside := self.legs.outside.get(cid)) is not None:
            self.endings.outside_ended(outside, cause=None)
            return
        if cid in self.features.sessions:
            self.features.cancel(cid)  # hung up during the dialog
            return
        if self.supervisor.owns(cid):
            self.supervisor.on_channel_gone(cid)

    def on_channel_destroyed(self, ev: ChannelDestroyed) -> None:
        # Only channels created by acd117 (originates) get ChannelDestroyed [02]. Its
        # cause is the real one; ChannelHangupRequest said 32 for any DELETE [03].
        cid = ev.channel.id
        agent = self.legs.agent_at(cid)
        if agent is not None:
            self.endings.agent_ended(agent, cause=ev.cause)
            self.endings.forget_agent(agent)
            self._end_second_call(agent)
        elif (outside := self.legs.outside.get(cid)) is not None:
            self.endings.outside_ended(outside, cause=ev.cause)
            self.endings.forget_outside(outside)
        elif self.supervisor.owns(cid):
            self.supervisor.on_channel_gone(cid)
        elif (leg := self.legs.call(cid)) is not None and leg.in_stasis:
            self.on_stasis_end(StasisEnd(type="StasisEnd", channel=ev.channel))

    def _end_second_call(self, agent: AgentLeg) -> None:
        """The agent's first leg is gone: their phone's second call has nobody to serve."""
        if agent.consult is not None:
            self.background.spawn(self.phone_consults.drop(agent))

    def on_transfer(self, ev: ChannelTransfer) -> None:
        if ev.state not in ("", "invalid"):
            return  # our own answer, reported back
        source = ev.channel.id
        agent = self.legs.agent_at(source)
        dialled = ev.refer_to.requested_destination
        if dialled.protocol_id or ev.refer_to.destination_channel is not None:
            # Replaces: the phone's own attended transfer
            why = self.phone_consults.attended(source, ev)
        elif (agent is None or not agent.answered or agent.stopped or agent.ended
                or agent.party or not dialled.destination):
            why = "not the agent of a call"
        else:
            agent.refer_pending = True  # answered by Requeue or TransferRefused
            self.emit(TransferRequested(call_id=agent.call_id, agent_id=agent.agent_id,
                                        code=dialled.destination))
            return
        if why is not None:
            log.info("transfer from %s declined: %s", ev.channel.name, why)
            self.background.spawn(self.requests.answer_transfer(source, done=False))

    def on_playback_finished(self, ev: PlaybackFinished) -> None:
        pid = ev.playback.id
        self.features.on_playback_finished(pid)
        entry = self.legs.playbacks.pop(pid, None)
        if entry is None:
            return
        call_id, prompt = entry
        leg = self.legs.call(call_id)
        if leg is not None:
            leg.playbacks.pop(pid, None)
        # `failed` when the caller hung up during the prompt [05]: still finished, so the
        # call never stalls on a prompt.
        if leg is None or not (leg.core_ended or leg.handed_off):
            self.emit(PromptFinished(call_id=call_id, prompt=prompt))
        if leg is not None and leg.in_stasis:
            self.moh.reconcile_soon(call_id)

    def on_hold(self, ev: ChannelHold) -> None:
        agent = self.legs.agent_at(ev.channel.id)
        # A consulted agent's hold button holds nobody's call: the caller is not theirs.
        if agent is not None and agent.answered and not agent.stopped and not agent.party:
            self.emit(HoldStarted(call_id=agent.call_id))

    def on_unhold(self, ev: ChannelUnhold) -> None:
        agent = self.legs.agent_at(ev.channel.id)
        if agent is not None and agent.answered and not agent.stopped and not agent.party:
            self.emit(HoldEnded(call_id=agent.call_id))

    def on_dtmf(self, ev: ChannelDtmfReceived) -> None:
        self.features.on_digit(ev.channel.id, ev.digit)

    def on_recording_started(self, ev: RecordingStarted) -> None:
        self.recording.on_started(ev)

    def on_recording_finished(self, ev: RecordingFinished) -> None:
        self.recording.on_finished(ev)

    def on_recording_failed(self, ev: RecordingFailed) -> None:
        self.recording.on_failed(ev)


_Handler = Callable[[EventTranslation, Any], None]

# ARI event type -> handler. Types missing here are ignored without parsing:
#   ChannelHangupRequest  cause is 32 after any DELETE [03], absent for a SIP BYE [14],
#                         missing entirely in some hang-ups [05 D] - outcomes come from
#                         ChannelDestroyed / StasisEnd instead.
#   Dial                  no final Dial event on ring timeout [03]; ChannelDestroyed has
#                         the cause.
#   ChannelStateChange    Ringing/Up of agent legs: informational (answer = StasisStart).
#   ChannelVarset, ChannelConnectedLine, ChannelDialplan, ChannelCreated, ChannelCallerId,
#   ChannelEnteredBridge, ChannelLeftBridge, BridgeCreated, BridgeDestroyed,
#   PlaybackStarted, PlaybackContinuing: book-keeping noise for acd117.
#   DeviceStateChanged, EndpointStateChange, ContactStatusChange, PeerStatusChange: agent
#                         presence comes from AMI (ari.ami); acd117 does not subscribe to
#                         endpoints over ARI, which would also duplicate channel events [02b].
#   ApplicationReplaced   handled by the websocket (ari.events): reconnect.
ARI_EVENTS: dict[str, _Handler] = {
    "StasisStart": EventTranslation.on_stasis_start,
    "StasisEnd": EventTranslation.on_stasis_end,
    "ChannelDestroyed": EventTranslation.on_channel_destroyed,
    "PlaybackFinished": EventTranslation.on_playback_finished,
    "ChannelTransfer": EventTranslation.on_transfer,
    "ChannelHold": EventTranslation.on_hold,
    "ChannelUnhold": EventTranslation.on_unhold,
    "ChannelDtmfReceived": EventTranslation.on_dtmf,
    "RecordingStarted": EventTranslation.on_recording_started,
    "RecordingFinished": EventTranslation.on_recording_finished,
    "RecordingFailed": EventTranslation.on_recording_failed,
}
