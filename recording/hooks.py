"""Recording hooks: what happens when a recording ends (the policy and names are in
`recording.policy`).

The Stasis adapter records the *bridge* of a connected call (caller + agent mixed) with
ARI `POST /bridges/{id}/record`; Asterisk writes `<spool>/recording/<name>.<format>`
(`/var/spool/asterisk/recording/call-02.wav` [02]). The recording ends by itself when the
last channel leaves the bridge, with `RecordingFinished` (`state: done`, `duration` in
whole seconds) before the bridge is destroyed [02, 14].

This module keeps what acd117 knows about each live recording (caller, agent, centre,
tier), and when it ends:

1. builds a `RecordingMetadata`,
2. hands it to the `on_metadata` sink (the store writes it for search by number, date,
   agent, service: the tenders' recording search),
3. runs the post-recording hooks in order (e.g. convert to mp3, copy to archive
   storage). Hooks run in the background; a failing hook is logged and does not stop the
   next one or the event loop.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace

from recording.policy import (
    IfExists,
    LiveRecordingInfo,
    RecordingMetadata,
    RecordingPolicy,
    recording_name,
)

log = logging.getLogger(__name__)

MetadataSink = Callable[[RecordingMetadata], Awaitable[None] | None]
PostRecordingHook = Callable[[RecordingMetadata], Awaitable[None]]


class ExternalCommandHook:
    """Runs a program after each recording, e.g. to convert to mp3 or copy to archive.

    The program gets the file path as its last argument and the metadata in the
    environment (`ACD117_RECORDING_NAME`, `_CALL_ID`, `_CALLER`, `_AGENT_ID`, `_CENTRE_ID`,
    `_TIER`, `_FORMAT`, `_REQUESTED_FORMAT`, `_STARTED_AT`, `_DURATION_S`, `_PATH`,
    `_STATE`). Example, mp3 next to the wav:
    `ExternalCommandHook(["sh", "-c", 'lame --quiet "$1" "${1%.wav}.mp3"', "convert"])`.
    """

    def __init__(self, argv: Sequence[str], *, timeout_s: float = 300.0) -> None:
        if not argv:
            raise ValueError("ExternalCommandHook needs a program")
        self.argv = list(argv)
        self.timeout_s = timeout_s

    @staticmethod
    def environment(meta: RecordingMetadata) -> dict[str, str]:
        def s(value: object) -> str:
            return "" if value is None else str(value)

        return {
            "ACD117_RECORDING_NAME": meta.name,
            "ACD117_RECORDING_CALL_ID": meta.call_id,
            "ACD117_RECORDING_CALLER": meta.caller,
            "ACD117_RECORDING_AGENT_ID": s(meta.agent_id),
            "ACD117_RECORDING_CENTRE_ID": s(meta.centre_id),
            "ACD117_RECORDING_TIER": s(meta.tier.value if meta.tier else None),
            "ACD117_RECORDING_FORMAT": meta.format,
            "ACD117_RECORDING_STARTED_AT": s(meta.started_at),
            "ACD117_RECORDING_DURATION_S": s(meta.duration_s),
            "ACD117_RECORDING_PATH": meta.path,
            "ACD117_RECORDING_STATE": meta.state,
            "ACD117_RECORDING_REQUESTED_FORMAT": meta.requested_format or meta.format,
        }

    async def __call__(self, meta: RecordingMetadata) -> None:
        env = dict(os.environ)
        env.update(self.environment(meta))
        proc = await asyncio.create_subprocess_exec(
            *self.argv,
            meta.path,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            _, err = await asyncio.wait_for(proc.communicate(), self.timeout_s)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise RuntimeError(f"{self.argv[0]} timed out after {self.timeout_s} s") from None
        if proc.returncode != 0:
            raise RuntimeError(
                f"{self.argv[0]} exited {proc.returncode}: {err.decode(errors='replace')[:300]}"
            )


@dataclass
class Recordings:
    """Book-keeping of live recordings and the hooks that run when one ends."""

    policy: RecordingPolicy = field(default_factory=RecordingPolicy)
    on_metadata: MetadataSink | None = None
    post_hooks: Sequence[PostRecordingHook] = ()
    _live: dict[str, LiveRecordingInfo] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    finished: list[RecordingMetadata] = field(default_factory=list)

    def path_for(self, name: str, fmt: str) -> str:
        return f"{self.policy.spool_dir.rstrip('/')}/{name}.{fmt}"

    def begin(self, info: LiveRecordingInfo) -> None:
        """acd117 asked Asterisk to record; events for `info.name` follow."""
        self._live[info.name] = info

    def live_names(self) -> list[str]:
        """Recordings this process started that have not been reported ended."""
        return list(self._live)

    def started(self, name: str, at: float | None) -> None:
        info = self._live.get(name)
        if info is not None and info.started_at is None:
            info.started_at = at

    def ended(
        self,
        name: str,
        *,
        state: str,
        at: float | None,
        duration_s: float | None,
        fmt: str | None = None,
        cause: str | None = None,
    ) -> RecordingMetadata | None:
        """The recording `name` finished or failed: hand the metadata on, run the hooks."""
        info = self._live.pop(name, None)
        if info is None:
            log.info("recording %s ended but was not started by this process", name)
            return None
        started = info.started_at
        if started is None and at is not None and duration_s is not None:
            started = at - duration_s
        fmt = fmt or info.format
        meta = RecordingMetadata(
            name=name,
            call_id=info.call_id,
            caller=info.caller,
            agent_id=info.agent_id,
            centre_id=info.centre_id,
            tier=info.tier,
            format=fmt,
            started_at=started,
            ended_at=at,
            duration_s=duration_s,
            state=state,
            path=self.path_for(name, fmt),
            cause=cause,
            requested_format=info.requested_format,
        )
        self.finished.append(meta)
        if len(self.finished) > 1000:
            del self.finished[:500]
        task = asyncio.get_running_loop().create_task(self._hand_on(meta))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return meta

    async def _hand_on(self, meta: RecordingMetadata) -> None:
        if self.on_metadata is not None:
            try:
                result = self.on_metadata(meta)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("recording metadata sink failed for %s", meta.name)
        if meta.state != "done":
            return  # nothing to convert or archive
        for hook in self.post_hooks:
            try:
                await hook(meta)
            except Exception:
                log.exception("post-recording hook %r failed for %s", hook, meta.name)

    async def drain(self) -> None:
        """Wait for running hooks (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def adopt(self, info: LiveRecordingInfo) -> None:
        """A recording that was running before a restart (see `ari.adoption`)."""
        self._live.setdefault(info.name, replace(info))


__all__ = ["ExternalCommandHook", "IfExists", "LiveRecordingInfo", "MetadataSink",
           "PostRecordingHook", "RecordingMetadata", "RecordingPolicy", "Recordings",
           "recording_name"]
