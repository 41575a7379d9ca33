"""Agent feature codes (free seating) handled inside the Stasis app.

The dialplan sends an agent's feature call into `Stasis(acd117,feature,<code>[,<arg>])`
(see `asterisk/extensions.conf`, context `acd117-agents`):

| dialled       | code    | dialog                                         | event          |
|---------------|---------|------------------------------------------------|----------------|
| *11 / *11<id> | login   | agent id (unless dialled), PIN -> verify_pin   | AgentLoggedIn  |
| *12           | logout  | -                                              | AgentLoggedOut |
| *13 / *13<rc> | pause   | reason code (unless dialled)                   | AgentPaused    |
| *14           | unpause | -                                              | AgentUnpaused  |
| *15           | wrapup  | -                                              | WrapUpDone     |

A login the core's phone policy refuses (`login_refusal`: an occupied phone, a trunk,
another centre's phone) hears `agent-login-failed` and reports nothing; so does a *15 while
the call flows require the call classified first (`wrap_up_refusal`: the console's form).

The agent's device is the endpoint of the calling channel (`PJSIP/1001-00000003` ->
`PJSIP/1001`). For logout/pause/unpause/wrap-up the agent is the one logged in at that
device (`agent_at_device`); if none is known the dialog asks for agent id and PIN.

Digits arrive as `ChannelDtmfReceived`, one per digit at the end of the digit; DTMF does
not stop a playback [06], so the dialog stops the prompt itself on the first digit.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from acd.vocabulary.events import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentUnpaused,
    Event,
    WrapUpDone,
)

log = logging.getLogger(__name__)

PinCheck = Callable[[str, str], bool | Awaitable[bool]]
FEATURE_CODES = ("login", "logout", "pause", "unpause", "wrapup")


@dataclass(frozen=True, slots=True)
class FeaturePrompts:
    """Prompts of the feature dialogs: names of the announcements config (`prompts:`),
    played through the Stasis adapter's prompt media like the core's prompts."""

    enter_agent_id: str = "agent-enter-id"
    enter_pin: str = "agent-enter-pin"
    enter_pause_reason: str = "agent-enter-reason"
    logged_in: str = "agent-logged-in"
    logged_out: str = "agent-logged-out"
    paused: str = "agent-paused"
    unpaused: str = "agent-unpaused"
    wrapup_done: str = "agent-unpaused"  # ready for the next call
    login_failed: str = "agent-login-failed"
    goodbye: str = "goodbye"


class PromptHandle(Protocol):
    playback_id: str
    finished: asyncio.Future[None]


class FeaturePort(Protocol):
    """What a feature dialog needs from the Stasis adapter."""

    async def start_prompt(self, channel_id: str, prompt: str) -> PromptHandle: ...

    async def stop_prompt(self, playback_id: str) -> None: ...

    async def end_feature_call(self, channel_id: str) -> None: ...


class FeatureSession:
    """One feature call: a short DTMF dialog, one domain event, then hang up."""

    def __init__(
        self,
        port: FeaturePort,
        *,
        channel_id: str,
        device: str,
        code: str,
        args: list[str],
        emit: Callable[[Event], None],
        verify_pin: PinCheck,
        agent_at_device: Callable[[str], str | None],
        login_refusal: Callable[[str, str], str | None] | None = None,
        wrap_up_refusal: Callable[[str], str | None] | None = None,
        pause_reason: Callable[[str], str | None] | None = None,
        prompts: FeaturePrompts | None = None,
        first_digit_timeout: float = 8.0,
        digit_timeout: float = 4.0,
        max_attempts: int = 3,
    ) -> None:
        self.port = port
        self.channel_id = channel_id
        self.device = device
        self.code = code
        self.args = [a for a in args if a]
        self.emit = emit
        self.verify_pin = verify_pin
        self.agent_at_device = agent_at_device
        self.login_refusal = login_refusal
        self.wrap_up_refusal = wrap_up_refusal
        # The reason code keyed (a digit or the code itself), or None: not a reason.
        self.pause_reason = pause_reason or (lambda typed: typed)
        self.prompts = prompts or FeaturePrompts()
        self.first_digit_timeout = first_digit_timeout
        self.digit_timeout = digit_timeout
        self.max_attempts = max_attempts
        self._digits: deque[str] = deque()
        self._digit_arrived = asyncio.Event()
        self.result: Event | None = None

    def on_digit(self, digit: str) -> None:
        self._digits.append(digit)
        self._digit_arrived.set()

    async def run(self) -> None:
        try:
            event, confirmation = await self._dialog()
            if event is not None:
                # Report first: an agent who hangs up during the confirmation prompt
                # is logged in (paused, ...) all the same.
                self.result = event
                self.emit(event)
            await self._say(confirmation)
        finally:
            await self.port.end_feature_call(self.channel_id)

    # --- dialogs -----------------------------------------------------------------------

    async def _dialog(self) -> tuple[Event | None, str]:
        """The event to report and the prompt confirming it."""
        p = self.prompts
        if self.code == "login":
            agent_id = await self._authenticate(self.args[0] if self.args else None)
            if agent_id is None:
                return None, p.goodbye
            # The core's phone policy (acd.domain.phones): asked here so the agent hears the
            # refusal instead of "logged in"; the core refuses the login all the same.
            why = self.login_refusal(agent_id, self.device) if self.login_refusal else None
            if why is not None:
                log.info("agent %s may not log in at %s: %s", agent_id, self.device, why)
                return None, p.login_failed
            return AgentLoggedIn(agent_id=agent_id, device=self.device), p.logged_in
        if self.code not in FEATURE_CODES:
            log.warning("unknown feature code %r from %s", self.code, self.device)
            return None, p.goodbye
        agent_id = self.agent_at_device(self.device)
        if agent_id is None:
            # Nobody known at this phone: identify (e.g. after a restart of acd117).
            agent_id = await self._authenticate(None)
            if agent_id is None:
                return None, p.goodbye
        if self.code == "logout":
            return AgentLoggedOut(agent_id=agent_id, reason="agent"), p.logged_out
        if self.code == "pause":
            reason = await self._pause_reason(self.args[0] if self.args else None)
            if reason is None:
                return None, p.goodbye
            return AgentPaused(agent_id=agent_id, reason=reason), p.paused
        if self.code == "unpause":
            return AgentUnpaused(agent_id=agent_id), p.unpaused
        # The call flows may require the call classified first (the console's form).
        why = self.wrap_up_refusal(agent_id) if self.wrap_up_refusal else None
        if why is not None:
            log.info("agent %s may not end wrap-up from %s: %s", agent_id, self.device, why)
            return None, p.login_failed
        return WrapUpDone(agent_id=agent_id), p.wrapup_done

    async def _authenticate(self, dialled: str | None) -> str | None:
        """Agent id (unless dialled with the code) and PIN; max_attempts tries."""
        for _ in range(self.max_attempts):
            candidate = dialled or await self._collect(self.prompts.enter_agent_id)
            if candidate:
                pin = await self._collect(self.prompts.enter_pin)
                if pin and await self._check_pin(candidate, pin):
                    return candidate
            log.info("feature %s from %s: agent id/PIN rejected", self.code, self.device)
            await self._say(self.prompts.login_failed)
        return None

    async def _check_pin(self, agent_id: str, pin: str) -> bool:
        result = self.verify_pin(agent_id, pin)
        if inspect.isawaitable(result):
            result = await result
        return bool(result)

    async def _pause_reason(self, code: str | None) -> str | None:
        for _ in range(self.max_attempts):
            candidate = code or await self._collect(self.prompts.enter_pause_reason)
            if candidate:
                reason = self.pause_reason(candidate)
                if reason is not None:
                    return reason
            code = None  # not a reason code: ask again
        return None

    # --- media -------------------------------------------------------------------------

    async def _say(self, prompt: str) -> None:
        handle = await self.port.start_prompt(self.channel_id, prompt)
        await handle.finished

    async def _collect(self, prompt: str, max_digits: int = 12) -> str:
        """Digits up to `#` (or max_digits, or a pause); the prompt stops on a digit."""
        if not self._digits:
            self._digit_arrived.clear()
            handle = await self.port.start_prompt(self.channel_id, prompt)
            waiter: asyncio.Future[None] = asyncio.ensure_future(self._wait_digit())
            try:
                await asyncio.wait({handle.finished, waiter}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
            if not handle.finished.done():
                await self.port.stop_prompt(handle.playback_id)
        typed = ""
        timeout = self.first_digit_timeout
        while len(typed) < max_digits:
            digit = await self._next_digit(timeout)
            if digit is None or digit == "#":
                break
            if digit == "*":
                typed = ""  # start again
            else:
                typed += digit
            timeout = self.digit_timeout
        return typed

    async def _wait_digit(self) -> None:
        await self._digit_arrived.wait()

    async def _next_digit(self, timeout: float) -> str | None:
        if not self._digits:
            self._digit_arrived.clear()
            try:
                await asyncio.wait_for(self._digit_arrived.wait(), timeout)
            except TimeoutError:
                return None
        return self._digits.popleft() if self._digits else None
