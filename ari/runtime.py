"""acd117's Asterisk side in one object, for `acd117 run` to start and supervise.

    settings = AsteriskSettings.from_env()
    side = AsteriskSide(settings, emit=core_inbox.put_nowait, verify_pin=store.verify_pin)
    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(side.run())            # ARI websocket + AMI session, forever
        ...                                      # the core: for each command,
        await side.execute(command)              #   in the order the core issued them

`emit` receives acd.vocabulary.events events (CallAdopted included); `execute` accepts
acd.vocabulary.commands commands plus `ari.adoption.SaveCallFacts` (e.g. made from the core's
TierHop records).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ari.adoption import AdapterCommand, AdapterEvent
from ari.ami import AmiAdapter
from ari.client import AriClient
from ari.events import AriEventStream
from ari.fallback import FallbackQueueCheck
from ari.features import PinCheck
from ari.stasis import APP, StasisApp
from recording.hooks import Recordings


@dataclass(frozen=True, slots=True)
class AsteriskSettings:
    ari_url: str = "http://127.0.0.1:8088/ari"
    ari_user: str = "acd117"
    ari_password: str = ""
    ami_host: str = "127.0.0.1"
    ami_port: int = 5038
    ami_user: str = "acd117"
    ami_secret: str = ""
    app: str = APP

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AsteriskSettings:
        """ACD117_ARI_URL, ACD117_ARI_USER, ACD117_ARI_PASSWORD, ACD117_AMI_HOST,
        ACD117_AMI_PORT, ACD117_AMI_USER, ACD117_AMI_SECRET (unset: the defaults)."""
        env = os.environ if environ is None else environ
        d = cls()
        return cls(
            ari_url=env.get("ACD117_ARI_URL", d.ari_url),
            ari_user=env.get("ACD117_ARI_USER", d.ari_user),
            ari_password=env.get("ACD117_ARI_PASSWORD", d.ari_password),
            ami_host=env.get("ACD117_AMI_HOST", d.ami_host),
            ami_port=int(env.get("ACD117_AMI_PORT", str(d.ami_port))),
            ami_user=env.get("ACD117_AMI_USER", d.ami_user),
            ami_secret=env.get("ACD117_AMI_SECRET", d.ami_secret),
        )


class AsteriskSide:
    """ARI client, Stasis app, events websocket and AMI session, wired together."""

    def __init__(
        self,
        settings: AsteriskSettings,
        emit: Callable[[AdapterEvent], None],
        *,
        verify_pin: PinCheck | None = None,
        agent_at_device: Callable[[str], str | None] | None = None,
        recordings: Recordings | None = None,
        **stasis_options: Any,
    ) -> None:
        self.settings = settings
        self.client = AriClient(settings.ari_url, settings.ari_user, settings.ari_password)
        self.ami = AmiAdapter(
            settings.ami_host, settings.ami_port, settings.ami_user, settings.ami_secret, emit
        )
        self.app = StasisApp(
            self.client,
            emit,
            app=settings.app,
            verify_pin=verify_pin,
            agent_at_device=agent_at_device,
            recordings=recordings,
            on_handoff=self.ami.follow,
            **stasis_options,
        )
        self.stream = AriEventStream(
            self.client, settings.app, self.app.handle_ari_event, self.app.resync
        )
        # Whom the dialplan's fallback queue can ring while acd117 is down.
        self.fallback = FallbackQueueCheck(self.ami.request)
        self.ami.on_resync.append(self.fallback.wake)

    async def execute(self, command: AdapterCommand) -> None:
        await self.app.execute(command)

    async def run(self) -> None:
        """Run the websocket and the AMI session until cancelled; then close cleanly.
        Calls stay in Stasis: the next start re-adopts them. Run again after a failure (the
        daemon's supervisor does), it reopens what the last run's clean-up closed."""
        self.client.reopen()
        self.app.reopen()
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self.stream.run(), name="ari-events")
                tasks.create_task(self.ami.run(), name="ami")
                tasks.create_task(self.fallback.run(self.ami.logged_in), name="fallback-queue")
        finally:
            await self.stream.stop()
            await self.app.close()
            await self.client.close()
