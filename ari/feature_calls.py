"""Feature calls (agent feature codes, `Stasis(acd117,feature,<code>[,<arg>])`): one DTMF
dialog each (ari.features), and which agent is logged in at which phone."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from acd.vocabulary.events import AgentLoggedIn, AgentLoggedOut, Event
from ari.client import AriClient, AriError, AriNotFound
from ari.features import FEATURE_CODES, FeaturePrompts, FeatureSession, PinCheck
from ari.legs import Legs
from ari.media import PromptMedia
from ari.models import Channel
from ari.requests import Background, Emit, Requests, quietly

log = logging.getLogger("ari.stasis")  # one logger for the whole Stasis app


@dataclass(slots=True)
class FeaturePrompt:
    playback_id: str
    finished: asyncio.Future[None]


class FeatureCalls:
    """The feature dialogs by channel id; the `FeaturePort` they play and hang up through."""

    def __init__(
        self,
        client: AriClient,
        legs: Legs,
        requests: Requests,
        background: Background,
        emit: Emit,
        *,
        verify_pin: PinCheck | None,
        agent_at_device: Callable[[str], str | None] | None,
        login_refusal: Callable[[str, str], str | None] | None,
        wrap_up_refusal: Callable[[str], str | None] | None,
        pause_reason: Callable[[str], str | None] | None,
        prompts: FeaturePrompts | None,
        prompt_media: PromptMedia,
        language: str | None,
        digit_timeouts_s: tuple[float, float],
    ) -> None:
        self.client = client
        self.legs = legs
        self.requests = requests
        self.background = background
        self.emit = emit
        self.verify_pin: PinCheck = verify_pin or (lambda _agent, _pin: False)
        self._agent_at_device_hook = agent_at_device
        self.login_refusal = login_refusal
        self.wrap_up_refusal = wrap_up_refusal
        self.pause_reason = pause_reason
        self.prompts = prompts or FeaturePrompts()
        self.prompt_media = prompt_media
        self.language = language
        self.digit_timeouts_s = digit_timeouts_s
        self.sessions: dict[str, FeatureSession] = {}
        self.prompt_waiters: dict[str, asyncio.Future[None]] = {}
        self._agents_at_devices: dict[str, str] = {}

    def agent_at_device(self, device: str) -> str | None:
        if self._agent_at_device_hook is not None:
            return self._agent_at_device_hook(device)
        return self._agents_at_devices.get(device)

    def start(self, channel: Channel, args: list[str]) -> None:
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
            wrap_up_refusal=self.wrap_up_refusal,
            pause_reason=self.pause_reason,
            prompts=self.prompts,
            first_digit_timeout=self.digit_timeouts_s[0],
            digit_timeout=self.digit_timeouts_s[1],
        )
        self.sessions[channel.id] = session

        async def run() -> None:
            if channel.state != "Up":
                await quietly(self.client.answer(channel.id))
            await session.run()

        self.background.spawn(run(), name=f"feature-{channel.id}")

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

    def cancel(self, channel_id: str) -> None:
        self.sessions.pop(channel_id, None)
        self.background.cancel_named(f"feature-{channel_id}")

    def cancel_all(self) -> None:
        for channel_id in list(self.sessions):
            self.cancel(channel_id)

    def on_digit(self, channel_id: str, digit: str) -> None:
        session = self.sessions.get(channel_id)
        if session is not None:
            session.on_digit(digit)

    def on_playback_finished(self, playback_id: str) -> None:
        waiter = self.prompt_waiters.pop(playback_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def prompts_ended_unseen(self) -> None:
        """At a resync: prompts whose PlaybackFinished was lost [07] are finished."""
        for pid, waiter in list(self.prompt_waiters.items()):
            try:
                await self.client.get_playback(pid)
            except AriNotFound:
                self.prompt_waiters.pop(pid, None)
                if not waiter.done():
                    waiter.set_result(None)

    # --- FeaturePort ---------------------------------------------------------------------

    async def start_prompt(self, channel_id: str, prompt: str) -> FeaturePrompt:
        """Play `prompt`; the handle's future resolves on PlaybackFinished."""
        pid = self.legs.new_playback_id()
        finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.prompt_waiters[pid] = finished
        try:
            await self.client.play(
                channel_id, self.prompt_media(prompt, None), playback_id=pid, lang=self.language
            )
        except AriError as exc:
            log.info("feature prompt %s on %s failed: %s", prompt, channel_id, exc)
            self.prompt_waiters.pop(pid, None)
            if not finished.done():
                finished.set_result(None)
        return FeaturePrompt(pid, finished)

    async def stop_prompt(self, playback_id: str) -> None:
        await quietly(self.client.stop_playback(playback_id))

    async def end_feature_call(self, channel_id: str) -> None:
        if self.sessions.pop(channel_id, None) is not None:
            await self.requests.hangup_quietly(channel_id, "normal")
