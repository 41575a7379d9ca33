"""The Stasis app adapter: ARI events -> domain events, domain commands -> ARI requests.

Translation only: no routing decision is taken here. `StasisApp` wires the parts, each
handed what it works with:

* `ari.legs`: the one index of legs (caller, agent, bridge, playbacks);
* `ari.translation`: ARI events -> domain events (one table, `ARI_EVENTS`);
* `ari.execution`: commands -> ARI requests (one table, `COMMANDS`);
* `ari.arrival`: a caller's arrival and the SIP headers the ingress rules read;
* `ari.resync`: after a websocket (re)connect, what ended unseen and re-adoption;
* `ari.handoff`: a call given back to the dialplan fallback, with retries;
* `ari.moh`: music on hold while a caller waits between prompts [03, 05];
* `ari.feature_calls`: agent feature codes; `ari.bridge_recording`: recording;
* `ari.supervisor`: listening, whispering, barging.

Bracketed numbers cite the recorded Asterisk 22 scenarios in
`shared/asterisk/transcripts/` (and their copies in `tests/fixtures/asterisk/`).

Failures: an exception in a handler or command for a caller channel sends that channel
back to the dialplan (`POST /channels/{id}/continue` to `acd117-fallback,s,1`, where the
fallback queue answers it [08]) and tells the core the call left (CallHandedOff).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ari.adoption import AdapterCommand
from ari.arrival import Arrivals, IngressHeaders, parse_ingress, passed_headers
from ari.bridge_recording import BridgeRecording
from ari.client import AriClient
from ari.endings import Endings
from ari.execution import CommandExecution, agent_caller_id
from ari.feature_calls import FeatureCalls
from ari.features import FeaturePrompts, FeatureSession, PinCheck
from ari.handoff import FALLBACK, DialplanTarget, HandOff
from ari.legs import AgentLeg, CallerLeg, Legs
from ari.media import PromptMedia, default_prompt_media, prompt_media_for
from ari.moh import MusicOnHold
from ari.phone_consults import PhoneConsults
from ari.requests import Background, Emit, KeyedLocks, Requests
from ari.resync import Resync
from ari.supervisor import MonitorMode, Supervisor
from ari.translation import EventTranslation
from recording.hooks import Recordings

__all__ = [
    "APP", "FALLBACK", "AgentLeg", "CallerLeg", "DialplanTarget", "IngressHeaders",
    "PromptMedia", "StasisApp", "agent_caller_id", "default_prompt_media", "parse_ingress",
    "passed_headers", "prompt_media_for",
]

APP = "acd117"


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
        wrap_up_refusal: Callable[[str], str | None] | None = None,
        pause_reason: Callable[[str], str | None] | None = None,
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
        self.recordings = recordings or Recordings()
        self.legs = Legs()
        self.background = background = Background()
        locks = KeyedLocks()
        requests = Requests(client)
        legs = self.legs
        self.supervisor = Supervisor(client, app, background.spawn)
        endings = Endings(client, legs, self.supervisor, background, emit)
        self.handoff = HandOff(client, legs, background, emit, fallback=fallback,
                               retries_s=handoff_retries_s, on_handoff=on_handoff)
        moh = MusicOnHold(client, legs, requests, background, locks, moh_class=moh_class)
        recording = BridgeRecording(client, legs, requests, locks, self.recordings,
                                    clock=clock)
        self.features = FeatureCalls(
            client, legs, requests, background, emit,
            verify_pin=verify_pin,
            agent_at_device=agent_at_device,
            login_refusal=login_refusal,
            wrap_up_refusal=wrap_up_refusal,
            pause_reason=pause_reason,
            prompts=feature_prompts,
            prompt_media=prompt_media,
            language=language,
            digit_timeouts_s=digit_timeouts_s,
        )
        arrivals = Arrivals(client, legs, endings, background, emit, clock=clock,
                            ingress_headers=ingress_headers,
                            header_timeout_s=header_timeout_s)
        phone_consults = PhoneConsults(client, legs, requests, background, emit)
        self.translation = EventTranslation(
            legs, emit=emit, clock=clock, background=background, requests=requests,
            endings=endings, arrivals=arrivals, features=self.features, moh=moh,
            recording=recording, supervisor=self.supervisor, handoff=self.handoff,
            phone_consults=phone_consults,
        )
        self.commands = CommandExecution(
            client, legs, app=app, emit=emit, clock=clock, locks=locks, requests=requests,
            endings=endings, moh=moh, recording=recording, handoff=self.handoff,
            phone_consults=phone_consults, prompt_media=prompt_media, language=language,
            moh_grace_s=moh_grace_s,
        )
        self.resyncing = Resync(
            client, legs, app=app, emit=emit, clock=clock, requests=requests,
            endings=endings, arrivals=arrivals, features=self.features, moh=moh,
            recording=recording, supervisor=self.supervisor,
            playback_finished=self.translation.on_playback_finished,
            second_call_ended=phone_consults.ended,
        )

    # --- what tests and the daemon look at ------------------------------------------------

    @property
    def calls(self) -> dict[str, CallerLeg]:
        return self.legs.calls

    @property
    def offers(self) -> dict[str, AgentLeg]:
        return self.legs.offers

    @property
    def _features(self) -> dict[str, FeatureSession]:
        return self.features.sessions

    # --- entry points ------------------------------------------------------------------

    async def handle_ari_event(self, raw: dict[str, Any]) -> None:
        """One event from the websocket (as decoded JSON). Never raises."""
        await self.translation.handle(raw)

    async def execute(self, command: AdapterCommand) -> None:
        """Carry out one core command. Never raises: failures become domain events or,
        for a caller channel, a hand-off to the dialplan fallback."""
        await self.commands.execute(command)

    async def resync(self) -> None:
        """Reconcile with what Asterisk has, after a websocket (re)connect or a restart."""
        await self.resyncing.resync()

    async def hand_off(self, call_id: str, why: str) -> None:
        """Give the call back to the dialplan fallback (the national queue)."""
        await self.handoff.hand_off(call_id, why)

    async def drain(self) -> None:
        """Wait until every background request has finished (tests, shutdown)."""
        await self.background.drain()

    def reopen(self) -> None:
        self.background.closing = False

    async def close(self) -> None:
        """Shutdown: stop feature dialogs, let the other requests finish. Calls stay in
        Stasis; the next process re-adopts them."""
        self.background.closing = True
        self.features.cancel_all()
        self.background.cancel_timers()
        await self.drain()
        await self.recordings.drain()

    def agent_at_device(self, device: str) -> str | None:
        return self.features.agent_at_device(device)

    # --- supervisor API (for the HTTP API) ------------------------------------------------

    async def monitor(self, call_id: str, supervisor_device: str, mode: MonitorMode) -> str:
        """Start listening, whispering or barging into a connected call; the session id."""
        leg = self.legs.call(call_id)
        agent = self.legs.connected_agent(call_id)
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
