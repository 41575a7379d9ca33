"""Recording hooks: what is recorded, how it is named, what happens when it ends.

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
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from acd.vocabulary.tiers import Tier

log = logging.getLogger(__name__)

IfExists = Literal["fail", "overwrite", "append"]


@dataclass(frozen=True, slots=True)
class RecordingPolicy:
    """Which connected calls are recorded, and how. (The YAML config will fill this.)

    The tenders ask for every call, wav or mp3, kept a year: record all tiers in wav and
    convert with a post hook where mp3 is wanted.
    """

    enabled: bool = True
    tiers: frozenset[Tier] | None = None  # None: every tier
    centres: frozenset[str] | None = None  # None: every centre
    format: str = "wav"  # what Asterisk writes when asked for a format it cannot write
    # Formats Asterisk writes itself; anything else (mp3) is recorded in `format` and left
    # to a post-recording hook to convert (RecordingMetadata.requested_format).
    asterisk_formats: frozenset[str] = frozenset(
        {"wav", "WAV", "wav49", "gsm", "ulaw", "alaw", "sln", "g722", "g729"}
    )
    max_duration_s: int | None = None
    beep: bool = False
    # A second StartRecording for the same call (e.g. after re-adoption) continues the
    # file rather than replacing it: never lose evidence.
    if_exists: IfExists = "append"
    # Where Asterisk's recording files are, as this host sees them: `RecordingMetadata.path`
    # points here, and the store reads the file's checksum here. The daemon sets it from
    # the settings (ACD117_RECORDINGS_DIR, the folder the recordings API serves); this
    # default, Asterisk's stock spool, is only for a `Recordings` built without settings.
    spool_dir: str = "/var/spool/asterisk/recording"

    def written_format(self, requested: str) -> str:
        return requested if requested in self.asterisk_formats else self.format

    def applies_to(self, tier: Tier, centre_id: str) -> bool:
        if not self.enabled:
            return False
        if self.tiers is not None and tier not in self.tiers:
            return False
        return self.centres is None or centre_id in self.centres


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def recording_name(call_id: str) -> str:
    """The file name (without extension) for a call: the call id, made file-safe.

    Call ids are channel ids such as `1795380555.22` or custom ids; `/` and other
    characters that would escape the spool directory are replaced.
    """
    name = _SAFE_NAME.sub("_", call_id).strip(".")
    return name or "call"


@dataclass(frozen=True, slots=True)
class RecordingMetadata:
    name: str
    call_id: str
    caller: str
    agent_id: str | None
    centre_id: str | None
    tier: Tier | None
    format: str  # what Asterisk wrote
    started_at: float | None  # epoch s
    ended_at: float | None
    duration_s: float | None
    state: str  # done, failed, canceled
    path: str  # where Asterisk wrote it: `<policy.spool_dir>/<name>.<format>`
    cause: str | None = None
    requested_format: str | None = None  # e.g. mp3: for a hook to convert to

    @property
    def needs_conversion(self) -> bool:
        return self.requested_format is not None and self.requested_format != self.format


MetadataSink = Callable[[RecordingMetadata], Awaitable[None] | None]
PostRecordingHook = Callable[[RecordingMetadata], Awaitable[None]]


@dataclass(slots=True)
class LiveRecordingInfo:
    name: str
    call_id: str
    caller: str
    agent_id: str | None
    centre_id: str | None
    tier: Tier | None
    format: str
    started_at: float | None = None
    requested_format: str | None = None


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
