"""Giving a call back to the dialplan: the national fallback queue (extensions.conf) [08]."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass

from acd.vocabulary.events import CallHandedOff
from ari.client import AriClient, AriError, AriNotFound
from ari.legs import Legs
from ari.requests import Background, Emit

log = logging.getLogger("ari.stasis")  # one logger for the whole Stasis app


@dataclass(frozen=True, slots=True)
class DialplanTarget:
    context: str
    extension: str
    priority: int


# Where a call goes when acd117 gives it up: the national fallback queue (extensions.conf).
FALLBACK = DialplanTarget("acd117-fallback", "s", 1)


class HandOff:
    def __init__(
        self,
        client: AriClient,
        legs: Legs,
        background: Background,
        emit: Emit,
        *,
        fallback: DialplanTarget,
        retries_s: tuple[float, ...],
        on_handoff: Callable[[str], None] | None,
    ) -> None:
        self.client = client
        self.legs = legs
        self.background = background
        self.emit = emit
        self.fallback = fallback
        self.retries_s = retries_s
        self.on_handoff = on_handoff

    async def hand_off(self, call_id: str, why: str) -> None:
        """Give the call back to the dialplan fallback (the national queue)."""
        leg = self.legs.call(call_id)
        if leg is None or not leg.in_stasis or leg.handed_off:
            return
        leg.handed_off = True
        log.error("call %s handed back to the dialplan: %s", call_id, why)
        if not (leg.core_ended or leg.arriving):  # (arriving: the core never heard of it)
            self.emit(CallHandedOff(call_id=call_id, reason=why))  # the core lets go of it
        if await self.to_dialplan(call_id, lambda: leg.in_stasis) and self.on_handoff:
            # After StasisEnd nothing more about the channel arrives over ARI [08]; the
            # AMI adapter can follow it (Newexten, Hangup).
            self.on_handoff(call_id)

    def hand_off_soon(self, call_id: str, why: str) -> None:
        self.background.spawn(self.hand_off(call_id, why))

    def to_dialplan_soon(self, channel_id: str) -> None:
        """A channel that is no call of ours (unreadable, unknown args): the dialplan's."""
        self.background.spawn(self.to_dialplan(channel_id))

    async def to_dialplan(self, channel_id: str,
                          in_stasis: Callable[[], bool] = lambda: True) -> bool:
        """Send the channel to the dialplan fallback, retrying (at the last back-off once the
        list is used up) for as long as it is still in Stasis: the core has let go of it, so
        nobody else would serve it. Stops when the app closes (the next start re-adopts it)."""
        delays = itertools.chain(self.retries_s, itertools.repeat(self.retries_s[-1]))
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
            if self.background.closing or not in_stasis():
                return False
        return False
