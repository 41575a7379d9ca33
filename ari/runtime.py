"""acd117's Asterisk side in one object, for `acd117 run` to start and supervise.

    settings = AsteriskSettings.from_settings(Settings.from_env())
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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from acd.service.settings import Settings
from ari.adoption import AdapterCommand, AdapterEvent
from ari.ami import AmiAdapter
from ari.client import AriClient
from ari.events import AriEventStream
from ari.fallback import FallbackQueueCheck
from ari.features import PinCheck
from ari.stasis import APP, StasisApp
from recording.hooks import Recordings

_DEFAULTS = Settings()  # the one set of defaults: ACD117_ARI_* and ACD117_AMI_* unset


@dataclass(frozen=True, slots=True)
class AsteriskSettings:
    """The connection settings the adapters use; read from the environment only by
    acd.service.settings.Settings (`from_settings`)."""

    ari_url: str = _DEFAULTS.ari_url
    ari_user: str = _DEFAULTS.ari_user
    ari_password: str = ""
    ami_host: str = _DEFAULTS.ami_host
    ami_port: int = _DEFAULTS.ami_port
    ami_user: str = _DEFAULTS.ami_user
    ami_secret: str = ""
    app: str = APP

    @classmethod
    def from_settings(cls, settings: Settings) -> AsteriskSettings:
        def secret(value: SecretStr | None) -> str:
            return value.get_secret_value() if value is not None else ""

        return cls(ari_url=settings.ari_url, ari_user=settings.ari_user,
                   ari_password=secret(settings.ari_password), ami_host=settings.ami_host,
                   ami_port=settings.ami_port, ami_user=settings.ami_user,
                   ami_secret=secret(settings.ami_secret))


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
