"""Recording metadata: the one stored fact about a recording that the core does not emit.

When a recording ends, `RecordingSink` (the `on_metadata` of `recording.hooks.Recordings`)
reads the file where Asterisk wrote it — under the recordings directory of the settings
(`ACD117_RECORDINGS_DIR`), the one the API serves files from — and submits a
`RecordingStored` with its size and SHA-256 to the writer, which stores it beside the call.

A row is only ever built with a real checksum: `RecordingStored` refuses anything the
schema's CHECK would refuse (sql/002), so an invalid row cannot reach the spool at all.

A file that cannot be read is tried again a few times with a short, doubling backoff, off
the event loop: `RecordingFinished` can overtake the last write of the file. When it stays
unreadable there is no honest row to write. The sink then logs one error with the path,
counts it (`acd117_recordings_unreadable_total`), and hands the whole metadata to the
writer's `set_aside`, which keeps it in the spool's `rejected.jsonl` beside the records
PostgreSQL refused (and counts it in `acd117_records_rejected_total`). That is the one file
an operator already watches for what did not reach the database, it is fsync'd, and its
entry holds all that is needed to rebuild the row once the file is found: call, agent,
centre, times, format and the path that was looked at.

Why not a row with an empty checksum, or a table of unverified recordings: the checksum is
what shows that the file served later is the file recorded. A row without one would look
like a searchable, verified recording of a file acd117 has never seen.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from recording.policy import RecordingMetadata

if TYPE_CHECKING:
    from acd.store.writer import StoreWriter

log = structlog.get_logger("acd117.store")

_SHA256 = re.compile(r"[0-9a-f]{64}")  # sql/002_recordings.sql: CHECK (sha256 ~ '^[0-9a-f]{64}$')

# How often, and how patiently, a file that cannot be read is tried: 0.25 + 0.5 + 1 + 2 s,
# enough for Asterisk to close a file, short enough not to keep the metadata in memory long.
READ_ATTEMPTS = 5
READ_BACKOFF_S = 0.25


@dataclass(frozen=True, slots=True)
class RecordingStored:
    call_id: str
    agent_id: str | None
    centre_id: str | None
    path: str  # where the recording store keeps the file; unique per recording
    format: str  # wav, mp3
    started_at: float  # epoch seconds
    duration_s: float
    size_bytes: int
    sha256: str  # lower-case hex digest of the file

    def __post_init__(self) -> None:
        # The schema's own rules: a row the database would refuse is never built. (A spool
        # line that breaks them, left by an older acd117, fails to decode and is set aside
        # in rejected.jsonl without a trip to the database.)
        if not isinstance(self.sha256, str) or not _SHA256.fullmatch(self.sha256):
            raise ValueError(f"recording {self.path}: sha256 must be 64 lower-case hex digits, "
                             f"not {self.sha256!r}")
        if not isinstance(self.size_bytes, int) or self.size_bytes < 0:
            raise ValueError(f"recording {self.path}: size_bytes must be a count of bytes, "
                             f"not {self.size_bytes!r}")


async def recording_stored(meta: RecordingMetadata, *, attempts: int = READ_ATTEMPTS,
                           backoff_s: float = READ_BACKOFF_S) -> RecordingStored | None:
    """The row for a finished recording (`path` relative to the recordings directory),
    with the size and checksum of the file at `meta.path`; None for a recording that did
    not finish (failed, canceled: there is no file to find).

    Raises OSError (the last one) when the file is still unreadable after `attempts`."""
    if meta.state != "done":
        return None
    size, digest = await read_size_and_sha256(Path(meta.path), attempts=attempts,
                                              backoff_s=backoff_s)
    return RecordingStored(
        call_id=meta.call_id, agent_id=meta.agent_id, centre_id=meta.centre_id,
        # Stored relative to the recordings directory, where the API serves it from.
        path=f"{meta.name}.{meta.format}", format=meta.format,
        started_at=meta.started_at if meta.started_at is not None else meta.ended_at or 0.0,
        duration_s=meta.duration_s or 0.0, size_bytes=size, sha256=digest)


async def read_size_and_sha256(path: Path, *, attempts: int = READ_ATTEMPTS,
                               backoff_s: float = READ_BACKOFF_S) -> tuple[int, str]:
    """Size and SHA-256 of the file, read in a worker thread (a year-long archive holds
    files of many megabytes); tried `attempts` times in all, waiting `backoff_s`, then twice
    as long each time, in between. Raises the last OSError."""
    delay = backoff_s
    for attempt in range(1, max(1, attempts) + 1):
        try:
            return await asyncio.to_thread(_size_and_sha256, path)
        except OSError:
            if attempt >= attempts:
                raise
        await asyncio.sleep(delay)
        delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover


def _size_and_sha256(path: Path) -> tuple[int, str]:
    # The size is what was hashed, not a separate stat: both describe the same bytes.
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return size, h.hexdigest()


@dataclass(eq=False)
class RecordingSink:
    """`Recordings.on_metadata` for the daemon: a finished recording becomes a
    `RecordingStored` submitted to the writer, or, when its file cannot be read, an entry
    kept by `writer.set_aside` (see the module's docstring)."""

    writer: StoreWriter
    on_unreadable: Callable[[], None] = lambda: None  # the metric
    attempts: int = READ_ATTEMPTS
    backoff_s: float = READ_BACKOFF_S

    async def __call__(self, meta: RecordingMetadata) -> None:
        try:
            stored = await recording_stored(meta, attempts=self.attempts,
                                            backoff_s=self.backoff_s)
        except OSError as exc:
            self._unreadable(meta, exc)
            return
        if stored is not None:
            self.writer.submit(stored)

    def _unreadable(self, meta: RecordingMetadata, exc: OSError) -> None:
        reason = (f"recording file not readable after {self.attempts} attempts: "
                  f"{exc.strerror or exc} ({meta.path})")
        self.on_unreadable()
        fields = dataclasses.asdict(meta)
        fields["tier"] = meta.tier.value if meta.tier is not None else None
        kept_in = self.writer.set_aside(type(meta).__name__, fields, reason)
        log.error("recording file not readable; no row stored, metadata kept for recovery",
                  path=meta.path, call_id=meta.call_id, attempts=self.attempts,
                  error=str(exc), kept_in=str(kept_in) if kept_in else None)
