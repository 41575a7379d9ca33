"""The Asterisk side as the daemon's telephony (`acd.service.ports.Telephony`).

What the port declares: `execute(command)` carries out the core's commands,
`attach(post)` is given the switchboard's `post` for the events Asterisk produces, and
`run()` (supervised) keeps the ARI websocket and the AMI session going; `supervision` serves
the supervisors' monitoring and `connections()` the readiness checks. The switchboard hands
`keep_call_facts(hop)` each tier hop: it is written onto the caller's channel (off the call
path, in `run()`), so that after a restart the call is re-adopted at the tier and with the
deadline it had.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import structlog

from acd.service.ports import TelephonyBase
from acd.service.supervision import MonitorSupervision
from acd.vocabulary.commands import Command
from acd.vocabulary.events import Event
from acd.vocabulary.records import TierHop
from ari.adoption import SaveCallFacts
from ari.runtime import AsteriskSettings, AsteriskSide
from ari.stasis import prompt_media_for
from config.models import CallFlows

log = structlog.get_logger("acd117.asterisk")


class AsteriskTelephony(TelephonyBase):
    def __init__(self, settings: AsteriskSettings, flows: Callable[[], CallFlows],
                 **options: Any) -> None:
        """`flows` gives the call flows in force, so a reload reaches the prompts and the
        SIP headers the ingress rules read too."""

        def media(prompt: str, number: int | None) -> Sequence[str]:
            prompts = flows().announcements.prompts
            files = {name: p.file for name, p in prompts.items()}
            return prompt_media_for(files)(prompt, number)

        options.setdefault("prompt_media", media)
        options.setdefault("ingress_headers", lambda trunk: flows().ingress.headers_read(trunk))
        options.setdefault("language", flows().announcements.language.split("-")[0])
        self._post: Callable[[Event], None] | None = None
        self._facts: asyncio.Queue[SaveCallFacts] = asyncio.Queue()
        self.side = AsteriskSide(settings, self._emit, **options)
        # Supervisors' listen / whisper / barge (from the HTTP API) are snoops of the app.
        self.supervision = MonitorSupervision(self.side.app.monitor)

    def connections(self) -> dict[str, bool]:
        """For /ready and the metrics: the events websocket, the AMI login, and whether
        the dialplan's fallback queue has a member (ari.fallback)."""
        return {"ari": self.side.stream.connected.is_set(),
                "ami": self.side.ami.logged_in.is_set(),
                "fallback_queue": self.side.fallback.ok}

    def connection_details(self) -> dict[str, str]:
        return {"fallback_queue": self.side.fallback.detail}

    def attach(self, post: Callable[[Event], None]) -> None:
        self._post = post

    def _emit(self, event: Event) -> None:
        if self._post is None:
            raise RuntimeError("telephony not attached to a switchboard")
        self._post(event)

    async def execute(self, command: Command) -> None:
        await self.side.execute(command)

    def keep_call_facts(self, hop: TierHop) -> None:
        self._facts.put_nowait(SaveCallFacts.from_tier_hop(hop))

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self.side.run(), name="asterisk")
            tasks.create_task(self._keep_facts(), name="call-facts")

    async def _keep_facts(self) -> None:
        # A task per note: a channel playing its welcome answers late (ari.execution's
        # facts_key) and must not hold up the other calls' notes; one call's notes keep
        # their order under its facts lock.
        async with asyncio.TaskGroup() as notes:
            while True:
                notes.create_task(self._keep(await self._facts.get()))

    async def _keep(self, facts: SaveCallFacts) -> None:
        try:
            await self.side.execute(facts)
        except Exception:  # the call may be gone already; it is only a note
            log.warning("could not keep call facts", call_id=facts.call_id, exc_info=True)
