"""Supervisor listen / whisper / barge on an agent's call, with ARI snoop channels.

Recorded in [09, 09b]:

* listen  = snoop on the agent channel with `spy=both&whisper=none`; the supervisor hears
  caller and agent, nobody hears the supervisor.
* whisper = snoop with `spy=both&whisper=out`: the agent also hears the supervisor, the
  caller does not. (Whisper only reaches the agent while other audio frames are written
  to the agent channel - a real caller sends RTP all the time [09b].)
* barge   = the supervisor joins the call's mixing bridge: everyone hears everyone.

The supervisor's phone is rung with an originate into the app
(`appArgs=supervisor,<session>`); when it answers, a second mixing bridge holds the snoop
channel and the supervisor. Switching listen <-> whisper replaces the snoop channel [09].
A snoop channel gets StasisStart at once (possibly before the POST answer [09]) and ends
by itself (StasisEnd, no ChannelHangupRequest, no ChannelDestroyed) when the spied agent
channel hangs up; the supervisor then stays alone in its bridge until acd117 acts [09].
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal

from ari.client import AriClient, AriError, AriNotFound, SnoopDirection

log = logging.getLogger(__name__)

MonitorMode = Literal["listen", "whisper", "barge"]
# mode -> (spy, whisper) of the snoop channel on the agent leg
SNOOP_DIRECTIONS: dict[str, tuple[SnoopDirection, SnoopDirection]] = {
    "listen": ("both", "none"),
    "whisper": ("both", "out"),
}


@dataclass
class MonitorSession:
    session_id: str
    call_id: str
    agent_channel: str
    call_bridge: str | None
    supervisor_device: str
    mode: MonitorMode
    supervisor_channel: str
    bridge_id: str
    snoop_channel: str | None = None
    supervisor_up: bool = False
    bridge_created: bool = False
    ended: bool = False


class Supervisor:
    """Monitoring sessions. The Stasis adapter routes snoop/supervisor channel events here."""

    def __init__(
        self,
        client: AriClient,
        app: str,
        spawn: Callable[[Coroutine[Any, Any, None]], None],
        *,
        ring_timeout_s: int = 30,
    ) -> None:
        self.client = client
        self.app = app
        self.spawn = spawn
        self.ring_timeout_s = ring_timeout_s
        self.sessions: dict[str, MonitorSession] = {}
        self._by_channel: dict[str, MonitorSession] = {}
        self._seq = itertools.count(1)

    def owns(self, channel_id: str) -> bool:
        return channel_id in self._by_channel

    async def start(
        self,
        *,
        call_id: str,
        agent_channel: str,
        call_bridge: str | None,
        supervisor_device: str,
        mode: MonitorMode,
    ) -> str:
        sid = f"acd117-mon-{next(self._seq)}"
        session = MonitorSession(
            session_id=sid,
            call_id=call_id,
            agent_channel=agent_channel,
            call_bridge=call_bridge,
            supervisor_device=supervisor_device,
            mode=mode,
            supervisor_channel=f"{sid}-sup",
            bridge_id=sid,
        )
        self.sessions[sid] = session
        self._by_channel[session.supervisor_channel] = session
        try:
            if mode != "barge":
                await self._new_snoop(session)
            await self.client.originate(
                supervisor_device,
                app=self.app,
                app_args=("supervisor", sid),
                caller_id=f'"{mode} {call_id}" <117>',
                timeout=self.ring_timeout_s,
                channel_id=session.supervisor_channel,
            )
        except AriError:
            await self.stop(sid)
            raise
        return sid

    async def change(self, session_id: str, mode: MonitorMode) -> None:
        s = self.sessions[session_id]
        if s.ended or mode == s.mode:
            return
        old = s.mode
        s.mode = mode
        if not s.supervisor_up:
            # Not answered yet: only the snoop matters; the bridge is built on answer.
            await self._drop_snoop(s)
            if mode != "barge":
                await self._new_snoop(s)
            return
        if old == "barge" and s.call_bridge:
            await self._ignore_gone(
                self.client.remove_channels(s.call_bridge, [s.supervisor_channel])
            )
        await self._drop_snoop(s)
        if mode == "barge":
            if s.bridge_created:
                await self._ignore_gone(
                    self.client.remove_channels(s.bridge_id, [s.supervisor_channel])
                )
            await self._join(s)
        else:
            await self._new_snoop(s)
            await self._join(s, with_supervisor=(old == "barge"))

    async def stop(self, session_id: str) -> None:
        s = self.sessions.pop(session_id, None)
        if s is None:
            return
        s.ended = True
        for channel in (s.snoop_channel, s.supervisor_channel):
            if channel:
                self._by_channel.pop(channel, None)
                await self._ignore_gone(self.client.hangup(channel))
        if s.bridge_created:
            await self._ignore_gone(self.client.destroy_bridge(s.bridge_id))

    # --- events (called synchronously by the Stasis adapter) ---------------------------

    def on_stasis_start(self, channel_id: str) -> None:
        s = self._by_channel.get(channel_id)
        if s is None or s.ended:
            return
        if channel_id == s.supervisor_channel:
            s.supervisor_up = True
            self.spawn(self._join(s))

    def on_channel_gone(self, channel_id: str) -> None:
        """StasisEnd / ChannelDestroyed of a snoop or supervisor channel."""
        s = self._by_channel.pop(channel_id, None)
        if s is None or s.ended:
            return
        if channel_id == s.snoop_channel:
            s.snoop_channel = None
            # The spied agent channel hung up and took the snoop with it [09].
            log.info("monitor %s: snoop ended with the agent leg", s.session_id)
        else:
            log.info("monitor %s: supervisor leg ended", s.session_id)
        self.spawn(self.stop(s.session_id))

    def on_agent_gone(self, agent_channel: str) -> None:
        for s in list(self.sessions.values()):
            if s.agent_channel == agent_channel:
                self.spawn(self.stop(s.session_id))

    # --- internals ---------------------------------------------------------------------

    async def _new_snoop(self, s: MonitorSession) -> None:
        spy, whisper = SNOOP_DIRECTIONS[s.mode]
        snoop_id = f"{s.session_id}-snoop-{next(self._seq)}"
        s.snoop_channel = snoop_id
        self._by_channel[snoop_id] = s  # StasisStart may come before the answer [09]
        await self.client.snoop(
            s.agent_channel,
            app=self.app,
            spy=spy,
            whisper=whisper,
            app_args=("snoop", s.session_id),
            snoop_id=snoop_id,
        )

    async def _drop_snoop(self, s: MonitorSession) -> None:
        if s.snoop_channel is None:
            return
        old, s.snoop_channel = s.snoop_channel, None
        self._by_channel.pop(old, None)
        await self._ignore_gone(self.client.hangup(old))

    async def _join(self, s: MonitorSession, with_supervisor: bool = True) -> None:
        if s.ended:
            return
        if s.mode == "barge":
            if s.call_bridge is None:
                log.warning("monitor %s: call %s has no bridge", s.session_id, s.call_id)
                return
            await self.client.add_channels(s.call_bridge, [s.supervisor_channel])
            return
        if not s.bridge_created:
            await self.client.create_bridge(bridge_id=s.bridge_id, name=f"monitor-{s.call_id}")
            s.bridge_created = True
        members = [c for c in (s.snoop_channel,) if c]
        if with_supervisor:
            members.append(s.supervisor_channel)
        if members:
            await self.client.add_channels(s.bridge_id, members)

    @staticmethod
    async def _ignore_gone(request: Coroutine[Any, Any, None]) -> None:
        try:
            await request
        except AriNotFound:
            pass  # already gone (a snoop ends with its agent leg [09])
        except AriError as exc:
            log.warning("monitor cleanup: %s", exc)
