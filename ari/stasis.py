"""The Stasis app adapter: ARI events -> domain events, domain commands -> ARI requests.

Translation only: no routing decision is taken here. The adapter owns the channel
book-keeping that the translation needs:

* a call's id is its caller channel id (the channel that entered `Stasis(acd117,inbound,..)`);
* an agent leg is originated with `channelId=<offer id>`, so its channel id is the offer id;
* a call gets one mixing bridge (`acd117-<call id>`) when it is connected;
* every playback gets an id chosen here, mapped back to (call, prompt).

Bracketed numbers cite the recorded Asterisk 22 scenarios in
`shared/asterisk/transcripts/` (and their copies in `tests/fixtures/asterisk/`).

ARI events handled (`ARI_EVENTS` below; every other type is ignored unparsed):

| ARI event           | on / when                                  | domain event              |
|---------------------|--------------------------------------------|---------------------------|
| StasisStart         | args `inbound,<caller>,<trunk>,<did>,k=v..`| CallArrived (3)           |
| StasisStart         | args `agent,<call>,<agent>` (our originate)| RingAnswered(offer)       |
| StasisStart         | args `feature,<code>[,<arg>]`              | feature dialog (features) |
| StasisStart         | args `snoop,..` / `supervisor,..`          | monitor (supervisor)      |
| StasisEnd           | caller channel                             | CallerHungUp (1)          |
| StasisEnd           | answered agent leg                         | AgentHungUp (1)           |
| ChannelDestroyed    | agent leg never answered                   | RingFailed (2)            |
| PlaybackFinished    | any state, `failed` on hang-up [05]        | PromptFinished            |
| ChannelHold/Unhold  | answered agent leg                         | HoldStarted / HoldEnded   |
| ChannelDtmfReceived | feature call                               | digits for the dialog     |
| Recording*          | bridge recording Started/Finished/Failed   | recording hooks           |

(1) unless acd117 ended that leg itself (HangUp, StopRinging, hand-off to the dialplan).
(2) cause 17/21 -> busy, 18/19 -> no_answer, anything else -> failed.
(3) The dialplan passes only some SIP headers as Stasis arguments (extensions.conf). A
header the ingress rules in force read for the call's trunk, but not passed, is read first
with `GET /channels/{id}/variable?variable=PJSIP_HEADER(read,<name>)` (in parallel, each
within `header_timeout_s`; a header missing, a failure or a timeout only leaves it out).
With no such rule, CallArrived goes out at once, without any request.
Not handled, on purpose: ChannelHangupRequest, Dial, ChannelStateChange, ChannelVarset,
bridge and device/endpoint events (reasons next to `ARI_EVENTS`).

Commands executed (`COMMANDS` below):

| command        | ARI requests                                                          |
|----------------|-----------------------------------------------------------------------|
| Answer         | POST /channels/{call}/answer                                          |
| PlayPrompt     | [DELETE /channels/{call}/moh] POST /channels/{call}/play              |
|                |   ?media=sound:<file>[,sound:acd117/numbers/<n>]&playbackId=acd117-pb-<n>|
| RingAgent      | POST /channels?endpoint=<device>&app=acd117&appArgs=agent,<call>,     |
|                |   <agent>&callerId=&timeout=&channelId=<offer> + body variables       |
| StopRinging    | DELETE /channels/{offer}?reason=answered_elsewhere|no_answer|normal   |
| Bridge         | [stop MOH, prompts] POST /bridges?bridgeId=acd117-<call>,             |
|                |   POST /bridges/{b}/addChannel?channel=<call>,<offer>                 |
| StartRecording | POST /bridges/{b}/record?name=&format=&ifExists=,                     |
|                |   POST /channels/{call}/variable ACD117_RECORDING                     |
| HangUp         | DELETE /channels/{call or its agent leg}?reason=normal                |
| Fallback       | POST /channels/{call}/continue?context=acd117-fallback&extension=s&    |
|                |   priority=1 (the national fallback queue [08])                       |
| Notify         | none (not a telephony action)                                         |
| SaveCallFacts  | POST /channels/{call}/variables (Asterisk >= 20.20/22.10), else       |
|                |   POST /channels/{call}/variable per fact (ari.adoption)              |

While a call waits between prompts the caller hears music on hold (channel MOH, which
produces no ARI event [03, 05]).

Failures: an exception in a handler or command for a caller channel sends that channel
back to the dialplan (`POST /channels/{id}/continue` to `acd117-fallback,s,1`, where the
fallback queue answers it [08]) and tells the core the call left (CallerHungUp).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import time
from collections.abc import Awaitable, Callable, Collection, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote

from acd.service.prompts import NUMBER_SOUND
from acd.vocabulary.commands import (
    Answer,
    Bridge,
    Fallback,
    HangUp,
    Notify,
    PlayPrompt,
    RingAgent,
    StartRecording,
    StopReason,
    StopRinging,
)
from acd.vocabulary.events import (
    AgentHungUp,
    AgentLoggedIn,
    AgentLoggedOut,
    CallAdopted,
    CallArrived,
    CallerHungUp,
    CallHandedOff,
    Event,
    HoldEnded,
    HoldStarted,
    Ingress,
    PromptFinished,
    RingAnswered,
    RingFailed,
    RingFailure,
)
from acd.vocabulary.tiers import Tier
from ari import adoption
from ari.adoption import AdapterCommand, AdapterEvent, SaveCallFacts
from ari.client import (
    AllocationFailed,
    AriClient,
    AriError,
    AriNotFound,
    HangupReason,
    VariablesUnsupported,
)
from ari.features import FEATURE_CODES, FeaturePrompts, FeatureSession, PinCheck
from ari.models import (
    AriEvent,
    Channel,
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelHold,
    ChannelUnhold,
    PlaybackFinished,
    RecordingFailed,
    RecordingFinished,
    RecordingStarted,
    StasisEnd,
    StasisStart,
    parse_ari_time,
    parse_event,
)
from ari.supervisor import MonitorMode, Supervisor
from recording.hooks import LiveRecordingInfo, Recordings, recording_name

# The SIP headers the ingress rules in force read for a call from a trunk (None: no trunk).
IngressHeaders = Callable[[str | None], Collection[str]]

log = logging.getLogger(__name__)

APP = "acd117"


@dataclass(frozen=True, slots=True)
class DialplanTarget:
    context: str
    extension: str
    priority: int


# Where a call goes when acd117 gives it up: the national fallback queue (extensions.conf).
FALLBACK = DialplanTarget("acd117-fallback", "s", 1)

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

# StopRinging.reason -> DELETE ?reason=. answered_elsewhere gives cause 26 and the SIP
# `Reason: SIP;cause=200;text="Call completed elsewhere"` so phones do not log a missed
# call [12]; no_answer gives cause 19 [03]; caller_left/logged_out are normal clearing [14].
HANGUP_REASON_FOR_STOP: dict[StopReason, HangupReason] = {
    "answered_elsewhere": "answered_elsewhere",
    "no_answer": "no_answer",
    "caller_left": "normal",
    "logged_out": "normal",
}

PromptMedia = Callable[[str, int | None], Sequence[str]]
Emit = Callable[[AdapterEvent], None]


def prompt_media_for(files: Mapping[str, str] | None = None) -> PromptMedia:
    """Media of a prompt: `sound:<file>` (the announcements config maps prompt names to
    files; without a mapping the name is the file), then, for a number, its recording
    `sound:acd117/numbers/<n>` (Asterisk has no Indonesian number rules; `make prompts`
    writes them). One playback, one PlaybackFinished: a multi-media playback sends
    PlaybackContinuing/PlaybackStarted between items [05]."""

    def media(prompt: str, number: int | None) -> list[str]:
        out = [f"sound:{(files or {}).get(prompt, prompt)}"]
        if number is not None:
            out.append("sound:" + NUMBER_SOUND.format(n=number))
        return out

    return media


default_prompt_media = prompt_media_for()


def parse_ingress(args: Sequence[str]) -> tuple[str, Ingress]:
    """Caller and ingress from `Stasis(acd117,inbound,<caller>,<trunk>,<did>,<k=v>...)`.

    StasisStart.args carries the dialplan arguments as strings, the app name excluded:
    `["inbound", "+6281234567890", "trunk-telkomsel"]` [02, 14]. Header values are
    URI-encoded by the dialplan (`${URIENCODE(...)}`) so that commas survive.
    """
    caller = args[1] if len(args) > 1 else ""
    trunk = args[2] if len(args) > 2 and args[2] else None
    did = args[3] if len(args) > 3 and args[3] else None
    headers: list[tuple[str, str]] = []
    for item in args[4:]:
        name, sep, value = item.partition("=")
        if sep and name and value:
            headers.append((name, unquote(value)))
    return caller, Ingress(trunk=trunk, did=did, headers=tuple(headers))


def passed_headers(args: Sequence[str]) -> set[str]:
    """Names (lower case) of the headers the dialplan passed as Stasis arguments, empty
    values included: `P-Asserted-Identity=` says the dialplan read it and the INVITE had
    none, so there is nothing more to read."""
    return {item.partition("=")[0].lower() for item in args[4:] if "=" in item}


# --- book-keeping ------------------------------------------------------------------------


@dataclass(slots=True)
class CallerLeg:
    call_id: str
    caller: str
    ingress: Ingress
    arrived_at: float
    up: bool
    bridge_id: str | None = None
    moh: bool = False
    playbacks: dict[str, str] = field(default_factory=dict)  # playback id -> prompt
    pending_prompts: int = 0  # PlayPrompt accepted, request not answered yet
    offers: set[str] = field(default_factory=set)
    connected_offer: str | None = None
    in_stasis: bool = True
    core_ended: bool = False  # the core asked for HangUp(caller): report nothing more
    handed_off: bool = False  # sent back to the dialplan
    recording: str | None = None
    facts_saved: bool = False  # ACD117_ARRIVED_AT written
    arriving: bool = False  # SIP headers being read: the core has not heard of it yet


@dataclass(slots=True)
class AgentLeg:
    offer_id: str
    channel_id: str
    call_id: str
    agent_id: str
    device: str
    answered: bool = False
    answered_at: float | None = None
    stopped: bool = False  # ended by the core (StopRinging / HangUp): report nothing more
    reported: bool = False  # the final RingFailed / AgentHungUp went out
    ended: bool = False


@dataclass(slots=True)
class _Prompt:
    playback_id: str
    finished: asyncio.Future[None]


class _KeyedLocks:
    """One FIFO lock per call/offer: requests for one channel go out in command order."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    def __call__(self, key: str) -> _KeyedLock:
        return _KeyedLock(self, key)

    def acquire_ref(self, key: str) -> asyncio.Lock:
        lock, refs = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, refs + 1)
        return lock

    def release_ref(self, key: str) -> None:
        lock, refs = self._locks[key]
        if refs <= 1:
            del self._locks[key]
        else:
            self._locks[key] = (lock, refs - 1)


class _KeyedLock:
    def __init__(self, owner: _KeyedLocks, key: str) -> None:
        self.owner = owner
        self.key = key
        self.lock = owner.acquire_ref(key)

    async def __aenter__(self) -> None:
        await self.lock.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self.lock.release()
        self.owner.release_ref(self.key)


# --- the adapter ---------------------------------------------------------------------------


class StasisApp:
    """Translates between the Stasis app `acd117` and the routing core.

    `emit` is called synchronously with each domain event, in the order Asterisk reported
    things. `execute` runs one command; commands for the same call are sent to Asterisk
    in the order `execute` was called.
    """

    def __init__(
        self,
        client: AriClient,
        emit: Emit,
        *,
        app: str = APP,
        verify_pin: PinCheck | None = None,
        agent_at_device: Callable[[str], str | None] | None = None,
        login_refusal: Callable[[str, str], str | None] | None = None,
        pause_reasons: Mapping[str, str] | None = None,
        feature_prompts: FeaturePrompts | None = None,
        prompt_media: PromptMedia = default_prompt_media,
        language: str | None = None,
        moh_class: str = "default",
        fallback: DialplanTarget = FALLBACK,
        recordings: Recordings | None = None,
        on_handoff: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
        moh_grace_s: float = 0.3,
        digit_timeouts_s: tuple[float, float] = (8.0, 4.0),
        handoff_retries_s: tuple[float, ...] = (0.5, 1.0, 2.0),
        ingress_headers: IngressHeaders | None = None,
        header_timeout_s: float = 0.5,
    ) -> None:
        self.client = client
        self.emit = emit
        self.app = app
        self.verify_pin: PinCheck = verify_pin or (lambda _agent, _pin: False)
        self._agent_at_device_hook = agent_at_device
        self.login_refusal = login_refusal
        self.pause_reasons = pause_reasons
        self.feature_prompts = feature_prompts or FeaturePrompts()
        self.prompt_media = prompt_media
        self.language = language
        self.moh_class = moh_class
        self.fallback = fallback
        self.recordings = recordings or Recordings()
        self.on_handoff = on_handoff
        self.clock = clock
        self.moh_grace_s = moh_grace_s
        self.digit_timeouts_s = digit_timeouts_s
        self.handoff_retries_s = handoff_retries_s
        self.ingress_headers = ingress_headers
        self.header_timeout_s = header_timeout_s
        self._closing = False
        self._bulk_variables = True  # POST /channels/{id}/variables until refused

        self.calls: dict[str, CallerLeg] = {}
        self.offers: dict[str, AgentLeg] = {}
        self._agent_channels: dict[str, AgentLeg] = {}
        self._playbacks: dict[str, tuple[str, str]] = {}  # playback id -> (call id, prompt)
        self._prompt_waiters: dict[str, asyncio.Future[None]] = {}
        self._features: dict[str, FeatureSession] = {}
        self._agents_at_devices: dict[str, str] = {}
        self._tasks: set[asyncio.Task[object]] = set()
        self._timers: set[asyncio.TimerHandle] = set()
        self._locks = _KeyedLocks()
        self._ids = itertools.count(1)
        self.supervisor = Supervisor(client, app, self._spawn)

    # --- entry points ------------------------------------------------------------------

    async def handle_ari_event(self, raw: dict[str, Any]) -> None:
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
                    self._spawn(self._continue(channel_id))
            return
        try:
            handler(self, event)
        except Exception:
            log.exception("handling ari %s failed", event.type)
            call_id = self._call_of(event)
            if call_id is not None:
                self._spawn(self.hand_off(call_id, f"{event.type} handler failed"))

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
                leg = self.offers.get(command.offer_id)
                call_id = leg.call_id if leg else None
            if call_id is not None:
                await self.hand_off(call_id, f"{type(command).__name__} failed")

    async def drain(self) -> None:
        """Wait until every background request has finished (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def reopen(self) -> None:
        self._closing = False

    async def close(self) -> None:
        """Shutdown: stop feature dialogs, let the other requests finish. Calls stay in
        Stasis; the next process re-adopts them."""
        self._closing = True
        for channel_id in list(self._features):
            self._cancel_feature(channel_id)
        for handle in list(self._timers):
            handle.cancel()
        self._timers.clear()
        await self.drain()
        await self.recordings.drain()

    def agent_at_device(self, device: str) -> str | None:
        if self._agent_at_device_hook is not None:
            return self._agent_at_device_hook(device)
        return self._agents_at_devices.get(device)

    # --- supervisor API (for the HTTP API) ------------------------------------------------

    async def monitor(self, call_id: str, supervisor_device: str, mode: MonitorMode) -> str:
        """Start listening, whispering or barging into a connected call; the session id."""
        leg = self.calls.get(call_id)
        agent = self.offers.get(leg.connected_offer) if leg and leg.connected_offer else None
        if leg is None or agent is None or agent.ended:
            raise LookupError(f"call {call_id} is not connected to an agent")
        return await self.supervisor.start(
            call_id=call_id,
            agent_channel=agent.channel_id,
            call_bridge=leg.bridge_id,
            supervisor_device=supervisor_device,
            mode=mode,
        )

    async def change_monitor(self, session_id: str, mode: MonitorMode) -> None:
        await self.supervisor.change(session_id, mode)

    async def stop_monitor(self, session_id: str) -> None:
        await self.supervisor.stop(session_id)

    # --- ARI event handlers (synchronous: requests go to background tasks) ----------------

    def _on_stasis_start(self, ev: StasisStart) -> None:
        channel = ev.channel
        kind = ev.args[0] if ev.args else ""
        if kind == "inbound":
            if channel.id in self.calls:
                return  # already known (re-adopted during a reconnect)
            caller, ingress = parse_ingress(ev.args)
            leg = CallerLeg(
                call_id=channel.id,
                caller=caller or channel.caller.number,
                ingress=ingress,
                arrived_at=self.clock(),
                # Up already when the dialplan answered; POST /answer still 204 [02].
                up=channel.state == "Up",
            )
            self.calls[channel.id] = leg
            unread = self._headers_to_read(channel, ev.args, ingress)
            if unread:
                leg.arriving = True
                self._spawn(self._arrive_with_headers(leg, unread))
            else:
                self.emit(CallArrived(call_id=leg.call_id, caller=leg.caller, ingress=ingress))
        elif kind == "agent":
            # Agent legs get Dial/ChannelStateChange before and without StasisStart; it
            # only comes when the phone answers [02].
            agent = self._agent_channels.get(channel.id)
            if agent is None:
                # Not ours any more (e.g. rung before a restart): nobody waits for it.
                log.info("unknown agent leg %s answered; hanging up", channel.id)
                self._spawn(self._hangup_quietly(channel.id, "normal"))
                return
            agent.answered = True
            agent.answered_at = self.clock()
            if agent.stopped:
                # Answered while our DELETE was on its way (ring-all race [12]); the
                # DELETE ends it with a BYE carrying "Call completed elsewhere".
                return
            self.emit(RingAnswered(offer_id=agent.offer_id))
        elif kind == "feature":
            if channel.id not in self._features:  # may have been adopted at a resync
                self._start_feature(channel, ev.args[1:])
        elif kind in ("snoop", "supervisor"):
            if self.supervisor.owns(channel.id):
                self.supervisor.on_stasis_start(channel.id)
            else:  # a monitor of a previous process: nobody listens any more
                self._spawn(self._hangup_quietly(channel.id, "normal"))
        else:
            # Not a call acd117 understands: the dialplan fallback takes it.
            log.warning("StasisStart with unknown args %s for %s", ev.args, channel.name)
            self._spawn(self._continue(channel.id))

    def _on_stasis_end(self, ev: StasisEnd) -> None:
        # For channels that entered from the dialplan (callers, trunk calls, feature
        # calls) and for snoops, StasisEnd is the last event: no ChannelDestroyed
        # follows [02, 05, 09, 14]. ChannelHangupRequest may be missing [05 D, 09].
        cid = ev.channel.id
        leg = self.calls.get(cid)
        if leg is not None:
            leg.in_stasis = False
            if leg.arriving:
                return  # its headers are being read: the arrival reports the hang-up after it
            if not (leg.core_ended or leg.handed_off):
                self.emit(CallerHungUp(call_id=cid))
            self._finish_call_if_done(leg)
            return
        agent = self._agent_channels.get(cid)
        if agent is not None:
            self._agent_ended(agent, cause=None)
            return
        if cid in self._features:
            self._cancel_feature(cid)  # hung up during the dialog
            return
        if self.supervisor.owns(cid):
            self.supervisor.on_channel_gone(cid)

    def _on_channel_destroyed(self, ev: ChannelDestroyed) -> None:
        # Only channels created by acd117 (originates) get ChannelDestroyed [02]. Its
        # cause is the real one; ChannelHangupRequest said 32 for any DELETE [03].
        cid = ev.channel.id
        agent = self._agent_channels.get(cid)
        if agent is not None:
            self._agent_ended(agent, cause=ev.cause)
            self._forget_agent(agent)
        elif self.supervisor.owns(cid):
            self.supervisor.on_channel_gone(cid)
        elif cid in self.calls:
            leg = self.calls[cid]
            if leg.in_stasis:
                self._on_stasis_end(StasisEnd(type="StasisEnd", channel=ev.channel))

    def _on_playback_finished(self, ev: PlaybackFinished) -> None:
        pid = ev.playback.id
        waiter = self._prompt_waiters.pop(pid, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        entry = self._playbacks.pop(pid, None)
        if entry is None:
            return
        call_id, prompt = entry
        leg = self.calls.get(call_id)
        if leg is not None:
            leg.playbacks.pop(pid, None)
        # `failed` when the caller hung up during the prompt [05]: still finished, so the
        # call never stalls on a prompt.
        if leg is None or not (leg.core_ended or leg.handed_off):
            self.emit(PromptFinished(call_id=call_id, prompt=prompt))
        if leg is not None and leg.in_stasis:
            self._spawn(self._reconcile_moh(call_id))

    def _on_hold(self, ev: ChannelHold) -> None:
        agent = self._agent_channels.get(ev.channel.id)
        if agent is not None and agent.answered and not agent.stopped:
            self.emit(HoldStarted(call_id=agent.call_id))

    def _on_unhold(self, ev: ChannelUnhold) -> None:
        agent = self._agent_channels.get(ev.channel.id)
        if agent is not None and agent.answered and not agent.stopped:
            self.emit(HoldEnded(call_id=agent.call_id))

    def _on_dtmf(self, ev: ChannelDtmfReceived) -> None:
        session = self._features.get(ev.channel.id)
        if session is not None:
            session.on_digit(ev.digit)

    def _on_recording_started(self, ev: RecordingStarted) -> None:
        self.recordings.started(ev.recording.name, parse_ari_time(ev.timestamp) or self.clock())

    def _on_recording_finished(self, ev: RecordingFinished) -> None:
        # Ends by itself when the last channel leaves the bridge, state done, whole
        # seconds in `duration` [02, 14].
        rec = ev.recording
        self.recordings.ended(
            rec.name,
            state=rec.state or "done",
            at=parse_ari_time(ev.timestamp) or self.clock(),
            duration_s=float(rec.duration) if rec.duration is not None else None,
            fmt=rec.format or None,
        )

    def _on_recording_failed(self, ev: RecordingFailed) -> None:
        rec = ev.recording
        log.error("recording %s failed: %s", rec.name, rec.cause)
        self.recordings.ended(
            rec.name,
            state="failed",
            at=parse_ari_time(ev.timestamp) or self.clock(),
            duration_s=float(rec.duration) if rec.duration is not None else None,
            fmt=rec.format or None,
            cause=rec.cause,
        )

    # --- commands ----------------------------------------------------------------------

    async def _answer(self, cmd: Answer) -> None:
        leg = self.calls.get(cmd.call_id)
        if leg is None or not leg.in_stasis:
            return
        # The 117 dialplan answers before Stasis(), so the channel is usually Up already at
        # StasisStart; answering again would return 204 [02] but costs a round trip before
        # the welcome and the agent's ring.
        if not leg.up:
            async with self._locks(cmd.call_id):
                if await self._call_request(leg, self.client.answer(cmd.call_id)):
                    leg.up = True
        # Music on hold only once the core has had a chance to start a prompt.
        self._schedule_moh(cmd.call_id, self.moh_grace_s)

    async def _play_prompt(self, cmd: PlayPrompt) -> None:
        leg = self.calls.get(cmd.call_id)
        if leg is None or not leg.in_stasis:
            self.emit(PromptFinished(call_id=cmd.call_id, prompt=cmd.prompt))
            return
        leg.pending_prompts += 1  # seen by a concurrent MOH decision before the lock
        try:
            async with self._locks(cmd.call_id):
                if leg.moh:
                    await self._moh_off(leg)
                pid = f"acd117-pb-{next(self._ids)}"
                # Registered before the request: PlaybackStarted/Finished can overtake the
                # HTTP answer.
                self._playbacks[pid] = (cmd.call_id, cmd.prompt)
                leg.playbacks[pid] = cmd.prompt
                try:
                    await self.client.play(
                        cmd.call_id,
                        self.prompt_media(cmd.prompt, cmd.number),
                        playback_id=pid,
                        lang=self.language,
                    )
                except AriError as exc:
                    self._playbacks.pop(pid, None)
                    leg.playbacks.pop(pid, None)
                    if not isinstance(exc, AriNotFound):
                        log.warning("prompt %s for %s failed: %s", cmd.prompt, cmd.call_id, exc)
                    # A failed prompt must not stall the call.
                    self.emit(PromptFinished(call_id=cmd.call_id, prompt=cmd.prompt))
        finally:
            leg.pending_prompts -= 1

    async def _ring_agent(self, cmd: RingAgent) -> None:
        agent = AgentLeg(
            offer_id=cmd.offer_id,
            channel_id=cmd.offer_id,
            call_id=cmd.call_id,
            agent_id=cmd.agent_id,
            device=cmd.device,
        )
        self.offers[cmd.offer_id] = agent
        self._agent_channels[cmd.offer_id] = agent
        leg = self.calls.get(cmd.call_id)
        if leg is not None:
            leg.offers.add(cmd.offer_id)
        variables = {
            adoption.AGENT_CALL_ID_VAR: cmd.call_id,
            adoption.AGENT_ID_VAR: cmd.agent_id,
        }
        if cmd.device.upper().startswith("PJSIP/"):
            # Extra INVITE headers for phones that can show them [10].
            variables["PJSIP_HEADER(add,X-ACD117-Call-ID)"] = cmd.call_id
            variables["PJSIP_HEADER(add,X-ACD117-Region)"] = cmd.region_code
            variables["PJSIP_HEADER(add,X-ACD117-Tier)"] = cmd.tier.value
        async with self._locks(cmd.offer_id):
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
                self._forget_agent(agent)
                if not agent.stopped:
                    agent.reported = True
                    self.emit(RingFailed(offer_id=cmd.offer_id, reason="failed"))
                return
            if channel.id != agent.channel_id:
                agent.channel_id = channel.id
                self._agent_channels[channel.id] = agent

    async def _stop_ringing(self, cmd: StopRinging) -> None:
        agent = self.offers.get(cmd.offer_id)
        if agent is None:
            return
        agent.stopped = True
        async with self._locks(cmd.offer_id):
            if not agent.ended:
                await self._hangup_quietly(agent.channel_id, HANGUP_REASON_FOR_STOP[cmd.reason])

    async def _bridge(self, cmd: Bridge) -> None:
        leg = self.calls.get(cmd.call_id)
        agent = self.offers.get(cmd.offer_id)
        if leg is None or agent is None or not leg.in_stasis or agent.ended:
            # The other side already left; its StasisEnd/ChannelDestroyed tells the core.
            log.info("bridge %s/%s: a leg has already gone", cmd.call_id, cmd.offer_id)
            return
        async with self._locks(cmd.call_id):
            leg.connected_offer = cmd.offer_id
            for pid in list(leg.playbacks):
                await self._quietly(self.client.stop_playback(pid))
            if leg.moh:
                await self._moh_off(leg)
            try:
                if leg.bridge_id is None:
                    bridge_id = f"acd117-{cmd.call_id}"
                    await self.client.create_bridge(bridge_id=bridge_id, name=f"call-{cmd.call_id}")
                    leg.bridge_id = bridge_id
                await self.client.add_channels(leg.bridge_id, [cmd.call_id, agent.channel_id])
            except AriError as exc:
                if not leg.in_stasis or agent.ended:
                    return  # a leg left meanwhile; its own event reports it
                log.error("bridging %s with %s failed: %s", cmd.call_id, cmd.offer_id, exc)
                raise
            # For a re-adoption: connected since (the agent leg itself says who).
            answered_at = agent.answered_at or self.clock()
            await self._set_call_variables(
                leg, {adoption.ANSWERED_AT_VAR: adoption.epoch(answered_at)}
            )

    async def _start_recording(self, cmd: StartRecording) -> None:
        policy = self.recordings.policy
        if not policy.applies_to(cmd.tier, cmd.centre_id):
            return
        leg = self.calls.get(cmd.call_id)
        if leg is None:
            return
        name = recording_name(cmd.name)
        fmt = policy.written_format(cmd.format)  # mp3: wav now, a hook converts
        # Under the call's lock: a Bridge sent just before must have created the bridge.
        async with self._locks(cmd.call_id):
            if leg.bridge_id is None or not leg.in_stasis:
                log.warning("recording %s: call %s is not bridged", name, cmd.call_id)
                return
            self.recordings.begin(
                LiveRecordingInfo(
                    name=name,
                    call_id=cmd.call_id,
                    caller=leg.caller,
                    agent_id=cmd.agent_id,
                    centre_id=cmd.centre_id,
                    tier=cmd.tier,
                    format=fmt,
                    requested_format=cmd.format,
                )
            )
            try:
                await self.client.record_bridge(
                    leg.bridge_id,
                    name=name,
                    format=fmt,
                    if_exists=policy.if_exists,
                    max_duration_s=policy.max_duration_s,
                    beep=policy.beep or None,
                )
            except AriError as exc:
                log.error("recording %s for %s could not start: %s", name, cmd.call_id, exc)
                self.recordings.ended(name, state="failed", at=self.clock(), duration_s=None)
                return
            leg.recording = name
            await self._set_call_variables(leg, {adoption.RECORDING_VAR: name})

    async def _hang_up(self, cmd: HangUp) -> None:
        leg = self.calls.get(cmd.call_id)
        if cmd.leg == "caller":
            if leg is None:
                return
            leg.core_ended = True
            async with self._locks(cmd.call_id):
                if leg.in_stasis:
                    await self._hangup_quietly(cmd.call_id, "normal")
            return
        agents = [
            a
            for a in self.offers.values()
            if a.call_id == cmd.call_id and a.answered and not a.ended
        ]
        for agent in agents:
            agent.stopped = True
            async with self._locks(agent.offer_id):
                await self._hangup_quietly(agent.channel_id, "normal")

    async def _notify(self, cmd: Notify) -> None:
        return None  # alerts are for supervisors and metrics, not for Asterisk

    async def _save_call_facts(self, cmd: SaveCallFacts) -> None:
        leg = self.calls.get(cmd.call_id)
        if leg is None or not leg.in_stasis:
            return
        variables = cmd.variables()
        if not leg.facts_saved:
            variables[adoption.ARRIVED_AT_VAR] = adoption.epoch(leg.arrived_at)
        async with self._locks(cmd.call_id):
            if await self._set_call_variables(leg, variables):
                leg.facts_saved = True

    async def _fallback(self, cmd: Fallback) -> None:
        await self.hand_off(cmd.call_id, cmd.reason)

    async def _set_call_variables(self, leg: CallerLeg, variables: dict[str, str]) -> bool:
        """Variables on a caller channel: in one request where Asterisk has
        POST /channels/{id}/variables, else one request each. Call under the call lock."""
        if self._bulk_variables:
            try:
                return await self._call_request(
                    leg, self.client.set_variables(leg.call_id, variables), reraise=True
                )
            except VariablesUnsupported:
                log.info("no POST /channels/{id}/variables here; one request per variable")
                self._bulk_variables = False
        for name, value in variables.items():
            request = self.client.set_variable(leg.call_id, name, value)
            if not await self._call_request(leg, request):
                return False
        return True

    # --- SIP headers the dialplan did not pass ------------------------------------------

    def _headers_to_read(self, channel: Channel, args: Sequence[str],
                         ingress: Ingress) -> list[str]:
        """Headers the ingress rules in force read for this call and the dialplan did not
        pass. PJSIP_HEADER reads only PJSIP channels (the trunk's INVITE)."""
        if self.ingress_headers is None or not channel.name.startswith("PJSIP/"):
            return []
        try:
            wanted = self.ingress_headers(ingress.trunk)
        except Exception:
            log.exception("call %s: the SIP headers the ingress rules read are unknown",
                          channel.id)
            return []
        passed = passed_headers(args)
        return [name for name in wanted if name.lower() not in passed]

    async def _read_headers(self, channel_id: str,
                            names: Sequence[str]) -> tuple[tuple[str, str], ...]:
        """The headers of `names` the INVITE had, read in parallel. A header that cannot be
        read in `header_timeout_s` is left out (logged): the call is routed without it."""

        async def read(name: str) -> str | None:
            return await asyncio.wait_for(self.client.get_sip_header(channel_id, name),
                                          self.header_timeout_s)

        if not names:
            return ()
        results = await asyncio.gather(*(read(n) for n in names), return_exceptions=True)
        found: list[tuple[str, str]] = []
        for name, result in zip(names, results, strict=True):
            if isinstance(result, AriNotFound):
                continue  # the caller has gone; StasisEnd tells
            if isinstance(result, BaseException):
                log.warning("call %s: SIP header %s not read (%s); routed without it",
                            channel_id, name, str(result) or type(result).__name__)
            elif result is not None:
                found.append((name, result))
        return tuple(found)

    async def _arrive_with_headers(self, leg: CallerLeg, names: Sequence[str]) -> None:
        """CallArrived once the headers are read (or given up on): never lost."""
        headers: tuple[tuple[str, str], ...] = ()
        try:
            headers = await self._read_headers(leg.call_id, names)
        except Exception:
            log.exception("call %s: reading SIP headers failed; routed without them",
                          leg.call_id)
        leg.arriving = False
        if not leg.handed_off:
            leg.ingress = replace(leg.ingress, headers=leg.ingress.headers + headers)
            self.emit(CallArrived(call_id=leg.call_id, caller=leg.caller, ingress=leg.ingress))
            if not leg.in_stasis:  # hung up meanwhile (StasisEnd, or gone at a resync)
                self.emit(CallerHungUp(call_id=leg.call_id))
        self._finish_call_if_done(leg)

    # --- resync: after every (re)connect of the websocket ------------------------------

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

        # 1. What ended while we were not listening.
        for leg in list(self.calls.values()):
            if leg.in_stasis and leg.call_id not in channels:
                leg.in_stasis = False
                if not (leg.core_ended or leg.handed_off or leg.arriving):
                    self.emit(CallerHungUp(call_id=leg.call_id))
        for agent in list(self.offers.values()):
            if agent.ended:
                continue
            channel = channels.get(agent.channel_id)
            if channel is None:
                self._agent_ended(agent, cause=None)
                self._forget_agent(agent)
            elif not agent.answered and _in_stasis(channel, self.app):
                # Answered while the websocket was down: StasisStart was lost.
                agent.answered = True
                if not agent.stopped:
                    self.emit(RingAnswered(offer_id=agent.offer_id))
        for pid in list(self._playbacks):
            try:
                await self.client.get_playback(pid)
            except AriNotFound:
                # Finished unseen (PlaybackFinished lost while disconnected [07]).
                self._on_playback_finished(
                    PlaybackFinished.model_validate(
                        {"type": "PlaybackFinished", "playback": {"id": pid, "state": "done"}}
                    )
                )
        for pid, waiter in list(self._prompt_waiters.items()):
            try:
                await self.client.get_playback(pid)
            except AriNotFound:
                self._prompt_waiters.pop(pid, None)
                if not waiter.done():
                    waiter.set_result(None)
        for cid in list(self._features):
            if cid not in channels:
                self._cancel_feature(cid)
        for leg in list(self.calls.values()):
            self._finish_call_if_done(leg)

        await self._recordings_ended_unseen()
        # 2. What is in the app that this process does not know (restart of acd117).
        bridge_of: dict[str, str] = {}
        for b in bridges:
            for member in b.channels:
                bridge_of[member] = b.id
        known = set(self.calls) | set(self._agent_channels) | set(self._features)
        unknown = [
            c for c in channels.values() if c.id not in known and not self.supervisor.owns(c.id)
        ]
        callers = [c for c in unknown if _stasis_args(c, self.app)[:1] == ["inbound"]]
        for c in unknown:
            args = _stasis_args(c, self.app)
            if args[:1] == ["feature"]:
                # A feature call that came in during the reconnect: serve it.
                self._start_feature(c, args[1:])
        agents_by_call: dict[str, Channel] = {}
        for c in unknown:
            args = _stasis_args(c, self.app)
            if args[:1] == ["agent"] and len(args) >= 3:
                agents_by_call.setdefault(args[1], c)
        for channel in callers:
            await self._adopt_caller(channel, agents_by_call.get(channel.id), bridge_of)
        adopted = set(self.calls) | set(self._agent_channels) | set(self._features)
        for c in unknown:
            if c.id not in adopted:
                # Ringing legs of offers the core no longer knows, stray feature, snoop or
                # supervisor channels: end them (ringing agent legs as unanswered).
                reason: HangupReason = "no_answer" if c.state != "Up" else "normal"
                log.info("resync: ending unknown channel %s (%s)", c.id, c.name)
                await self._hangup_quietly(c.id, reason)
        for b in bridges:
            if not any(m in adopted or self.supervisor.owns(m) for m in b.channels):
                await self._quietly(self.client.destroy_bridge(b.id))

    async def _recordings_ended_unseen(self) -> None:
        """A bridge recording ends by itself when the last channel leaves [02]; if that
        happened while the websocket was down, its RecordingFinished was lost [07]. Ask
        Asterisk: no longer live but stored means done, else it failed."""
        for name in self.recordings.live_names():
            try:
                await self.client.get_live_recording(name)
                continue  # still recording
            except AriNotFound:
                pass
            try:
                stored = await self.client.get_stored_recording(name)
            except AriNotFound:
                self.recordings.ended(name, state="failed", at=self.clock(), duration_s=None)
                continue
            self.recordings.ended(name, state="done", at=self.clock(), duration_s=None,
                                  fmt=stored.format or None)

    async def _adopt_caller(
        self, channel: Channel, agent_channel: Channel | None, bridge_of: dict[str, str]
    ) -> None:
        args = _stasis_args(channel, self.app)
        caller, ingress = parse_ingress(args)
        # The core works the region out again from the ingress: it needs the same headers,
        # read along with the call's facts.
        fact_values, headers = await asyncio.gather(
            asyncio.gather(*(self._variable(channel.id, v) for v in adoption.CALL_FACT_VARS)),
            self._read_headers(channel.id, self._headers_to_read(channel, args, ingress)),
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
        leg = CallerLeg(
            call_id=channel.id,
            caller=caller or channel.caller.number,
            ingress=ingress,
            arrived_at=arrived_at,
            up=channel.state == "Up",
            bridge_id=bridge_of.get(channel.id),
            recording=facts.recording,
            facts_saved=facts.arrived_at is not None,
        )
        self.calls[channel.id] = leg
        agent: AgentLeg | None = None
        if (
            agent_channel is not None
            and leg.bridge_id is not None
            and bridge_of.get(agent_channel.id) == leg.bridge_id
        ):
            args = _stasis_args(agent_channel, self.app)
            agent = AgentLeg(
                offer_id=agent_channel.id,
                channel_id=agent_channel.id,
                call_id=channel.id,
                agent_id=args[2],
                device=agent_channel.device,
                answered=True,
                answered_at=facts.answered_at or parse_ari_time(agent_channel.creationtime),
            )
            self.offers[agent.offer_id] = agent
            self._agent_channels[agent.channel_id] = agent
            leg.offers.add(agent.offer_id)
            leg.connected_offer = agent.offer_id
            if leg.recording:
                # Still recording the bridge; its RecordingFinished comes to this process.
                self.recordings.adopt(
                    LiveRecordingInfo(
                        name=leg.recording,
                        call_id=leg.call_id,
                        caller=leg.caller,
                        agent_id=agent.agent_id,
                        centre_id=None,
                        tier=facts.tier,
                        format=self.recordings.policy.format,
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
                agent_id=agent.agent_id if agent else None,
                device=agent.device if agent else None,
                answered_at=(agent.answered_at or arrived_at) if agent else None,
            )
        )
        if agent is None:
            # MOH is not visible over ARI [03]; (re)start it for a waiting caller.
            self._spawn(self._reconcile_moh(leg.call_id))

    # --- hand-off to the dialplan --------------------------------------------------------

    async def hand_off(self, call_id: str, why: str) -> None:
        """Give the call back to the dialplan fallback (the national queue)."""
        leg = self.calls.get(call_id)
        if leg is None or not leg.in_stasis or leg.handed_off:
            return
        leg.handed_off = True
        log.error("call %s handed back to the dialplan: %s", call_id, why)
        if not (leg.core_ended or leg.arriving):  # (arriving: the core never heard of it)
            self.emit(CallHandedOff(call_id=call_id, reason=why))  # the core lets go of it
        if await self._continue(call_id, lambda: leg.in_stasis) and self.on_handoff:
            # After StasisEnd nothing more about the channel arrives over ARI [08]; the
            # AMI adapter can follow it (Newexten, Hangup).
            self.on_handoff(call_id)

    async def _continue(self, channel_id: str,
                        in_stasis: Callable[[], bool] = lambda: True) -> bool:
        """Send the channel to the dialplan fallback, retrying (at the last back-off once the
        list is used up) for as long as it is still in Stasis: the core has let go of it, so
        nobody else would serve it. Stops when the app closes (the next start re-adopts it)."""
        delays = itertools.chain(self.handoff_retries_s,
                                 itertools.repeat(self.handoff_retries_s[-1]))
        for delay in delays:
            try:
                await self.client.continue_in_dialplan(
                    channel_id,
                    context=self.fallback.context,
                    extension=self.fallback.extension,
                    priority=self.fallback.priority,
                )
                return True
            except AriNotFound:
                return False  # the caller has gone
            except AriError as exc:
                log.error("continue for %s failed (%s); retrying in %s s", channel_id, exc,
                          delay)
            await asyncio.sleep(delay)
            if self._closing or not in_stasis():
                return False
        return False

    # --- feature calls -----------------------------------------------------------------

    def _start_feature(self, channel: Channel, args: list[str]) -> None:
        code = args[0] if args else ""
        if code not in FEATURE_CODES:
            log.warning("unknown feature code %r from %s", code, channel.name)
        session = FeatureSession(
            self,
            channel_id=channel.id,
            device=channel.device,
            code=code,
            args=args[1:],
            emit=self._emit_feature_event,
            verify_pin=self.verify_pin,
            agent_at_device=self.agent_at_device,
            login_refusal=self.login_refusal,
            pause_reasons=self.pause_reasons,
            prompts=self.feature_prompts,
            first_digit_timeout=self.digit_timeouts_s[0],
            digit_timeout=self.digit_timeouts_s[1],
        )
        self._features[channel.id] = session

        async def run() -> None:
            if channel.state != "Up":
                await self._quietly(self.client.answer(channel.id))
            await session.run()

        self._spawn(run(), name=f"feature-{channel.id}")

    def _emit_feature_event(self, event: Event) -> None:
        if isinstance(event, AgentLoggedIn):
            for device, agent_id in list(self._agents_at_devices.items()):
                if agent_id == event.agent_id:
                    del self._agents_at_devices[device]
            self._agents_at_devices[event.device] = event.agent_id
        elif isinstance(event, AgentLoggedOut):
            for device, agent_id in list(self._agents_at_devices.items()):
                if agent_id == event.agent_id:
                    del self._agents_at_devices[device]
        self.emit(event)

    def _cancel_feature(self, channel_id: str) -> None:
        self._features.pop(channel_id, None)
        for task in list(self._tasks):
            if task.get_name() == f"feature-{channel_id}":
                task.cancel()

    async def start_prompt(self, channel_id: str, prompt: str) -> _Prompt:
        """FeaturePort: play `prompt`; the handle's future resolves on PlaybackFinished."""
        pid = f"acd117-pb-{next(self._ids)}"
        finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._prompt_waiters[pid] = finished
        try:
            await self.client.play(
                channel_id, self.prompt_media(prompt, None), playback_id=pid, lang=self.language
            )
        except AriError as exc:
            log.info("feature prompt %s on %s failed: %s", prompt, channel_id, exc)
            self._prompt_waiters.pop(pid, None)
            if not finished.done():
                finished.set_result(None)
        return _Prompt(pid, finished)

    async def stop_prompt(self, playback_id: str) -> None:
        await self._quietly(self.client.stop_playback(playback_id))

    async def end_feature_call(self, channel_id: str) -> None:
        if self._features.pop(channel_id, None) is not None:
            await self._hangup_quietly(channel_id, "normal")

    # --- internals ---------------------------------------------------------------------

    def _agent_ended(self, agent: AgentLeg, cause: int | None) -> None:
        """The agent leg is gone: StasisEnd (answered legs), ChannelDestroyed (all legs
        created by acd117 [02]) or missing at a resync (`cause` None)."""
        if not agent.ended:
            agent.ended = True
            self.supervisor.on_agent_gone(agent.channel_id)
        if not (agent.reported or agent.stopped):
            agent.reported = True
            if agent.answered:
                self.emit(AgentHungUp(call_id=agent.call_id))
            else:
                # cause None: it vanished while the websocket was down; a ringing leg
                # that disappears has most likely rung out.
                reason: RingFailure = (
                    "no_answer" if cause is None else RING_FAILURE_BY_CAUSE.get(cause, "failed")
                )
                self.emit(RingFailed(offer_id=agent.offer_id, reason=reason))
        leg = self.calls.get(agent.call_id)
        if leg is not None:
            self._finish_call_if_done(leg)

    def _forget_agent(self, agent: AgentLeg) -> None:
        self.offers.pop(agent.offer_id, None)
        self._agent_channels.pop(agent.offer_id, None)
        self._agent_channels.pop(agent.channel_id, None)
        leg = self.calls.get(agent.call_id)
        if leg is not None:
            leg.offers.discard(agent.offer_id)
            self._finish_call_if_done(leg)

    def _finish_call_if_done(self, leg: CallerLeg) -> None:
        """Forget a call once the caller and every agent leg have gone."""
        if leg.in_stasis or leg.arriving:
            return
        live = [o for o in leg.offers if (a := self.offers.get(o)) is not None and not a.ended]
        if live:
            return
        for pid in list(leg.playbacks):
            self._playbacks.pop(pid, None)
        self.calls.pop(leg.call_id, None)
        for offer in list(leg.offers):
            agent = self.offers.get(offer)
            if agent is not None:
                self._forget_agent(agent)
        if leg.bridge_id is not None:
            # The agent stays alone in the bridge until acd117 acts [02]; by now both
            # are gone and the recording has ended by itself.
            self._spawn(self._quietly(self.client.destroy_bridge(leg.bridge_id)))

    def _schedule_moh(self, call_id: str, delay: float) -> None:
        def fire() -> None:
            self._timers.discard(handle)
            self._spawn(self._reconcile_moh(call_id))

        handle = asyncio.get_running_loop().call_later(delay, fire)
        self._timers.add(handle)

    async def _reconcile_moh(self, call_id: str) -> None:
        leg = self.calls.get(call_id)
        if leg is None:
            return
        async with self._locks(call_id):
            want = (
                leg.in_stasis
                and leg.up
                and not (leg.core_ended or leg.handed_off)
                and leg.connected_offer is None
                and not leg.playbacks
                and leg.pending_prompts == 0
            )
            if want and not leg.moh:
                if await self._call_request(
                    leg, self.client.start_moh(call_id, self.moh_class)
                ):
                    leg.moh = True
            elif not want and leg.moh and leg.in_stasis:
                await self._moh_off(leg)

    async def _moh_off(self, leg: CallerLeg) -> None:
        leg.moh = False
        await self._call_request(leg, self.client.stop_moh(leg.call_id))

    async def _call_request(
        self, leg: CallerLeg, request: Awaitable[None], reraise: bool = False
    ) -> bool:
        """A request on a caller channel; False when it failed (logged unless the
        channel has simply gone meanwhile)."""
        try:
            await request
        except VariablesUnsupported:
            if reraise:
                raise
            return False
        except AriNotFound:
            return False
        except AriError as exc:
            if leg.in_stasis:
                log.warning("call %s: %s", leg.call_id, exc)
            return False
        return True

    async def _variable(self, channel_id: str, name: str) -> str | None:
        try:
            return await self.client.get_variable(channel_id, name)
        except AriError:
            return None

    async def _hangup_quietly(self, channel_id: str, reason: HangupReason | None) -> None:
        await self._quietly(self.client.hangup(channel_id, reason))

    @staticmethod
    async def _quietly(request: Awaitable[None]) -> None:
        try:
            await request
        except AriNotFound:
            pass  # already gone
        except AriError as exc:
            log.warning("%s", exc)

    def _spawn(self, coro: Coroutine[Any, Any, object], name: str | None = None) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[object]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background ARI task failed", exc_info=task.exception())

    def _call_of(self, event: AriEvent) -> str | None:
        """The caller channel an event concerns, if it is one of ours."""
        channel = getattr(event, "channel", None)
        if isinstance(channel, Channel):
            if channel.id in self.calls:
                return channel.id
            agent = self._agent_channels.get(channel.id)
            if agent is not None:
                return agent.call_id
        playback = getattr(event, "playback", None)
        if playback is not None and playback.id in self._playbacks:
            return self._playbacks[playback.id][0]
        return None


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


def _stasis_args(channel: Channel, app: str) -> list[str]:
    """Stasis arguments of a channel in Stasis, from its dialplan snapshot
    (`app_data` `acd117,inbound,+6281234567890,trunk-telkomsel` [02, 07])."""
    if channel.dialplan.app_name != "Stasis":
        return []
    parts = channel.dialplan.app_data.split(",")
    return parts[1:] if parts and parts[0] == app else []


def _in_stasis(channel: Channel, app: str) -> bool:
    return bool(_stasis_args(channel, app))


_Handler = Callable[[StasisApp, Any], None]
_Runner = Callable[[StasisApp, Any], Awaitable[None]]

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
    "StasisStart": StasisApp._on_stasis_start,
    "StasisEnd": StasisApp._on_stasis_end,
    "ChannelDestroyed": StasisApp._on_channel_destroyed,
    "PlaybackFinished": StasisApp._on_playback_finished,
    "ChannelHold": StasisApp._on_hold,
    "ChannelUnhold": StasisApp._on_unhold,
    "ChannelDtmfReceived": StasisApp._on_dtmf,
    "RecordingStarted": StasisApp._on_recording_started,
    "RecordingFinished": StasisApp._on_recording_finished,
    "RecordingFailed": StasisApp._on_recording_failed,
}

# Command type -> runner (see the table in the module docstring).
COMMANDS: dict[type, _Runner] = {
    Answer: StasisApp._answer,
    PlayPrompt: StasisApp._play_prompt,
    RingAgent: StasisApp._ring_agent,
    StopRinging: StasisApp._stop_ringing,
    Bridge: StasisApp._bridge,
    StartRecording: StasisApp._start_recording,
    HangUp: StasisApp._hang_up,
    Notify: StasisApp._notify,
    Fallback: StasisApp._fallback,
    SaveCallFacts: StasisApp._save_call_facts,
}
