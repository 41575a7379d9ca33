"""Recording metadata: the one stored fact about a recording that the core does not emit.

The recording hook reports it once the file is closed and checksummed; the writer stores it
beside the call it belongs to.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path

import structlog

from recording.hooks import RecordingMetadata

log = structlog.get_logger("acd117.store")


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


async def recording_stored(meta: RecordingMetadata) -> RecordingStored | None:
    """The row for a finished recording (`path` relative to the recordings directory),
    with the file's size and checksum read, off the event loop, where Asterisk wrote it.
    A file acd117 cannot read (Asterisk on another host) is still recorded, with an empty
    checksum, so that it can be searched and fetched."""
    if meta.state != "done":
        return None
    size, digest = await asyncio.to_thread(_size_and_sha256, Path(meta.path))
    if not digest:
        log.warning("recording not readable here; stored without a checksum", path=meta.path)
    return RecordingStored(
        call_id=meta.call_id, agent_id=meta.agent_id, centre_id=meta.centre_id,
        # Stored relative to the recordings directory, where the API serves it from.
        path=f"{meta.name}.{meta.format}", format=meta.format,
        started_at=meta.started_at if meta.started_at is not None else meta.ended_at or 0.0,
        duration_s=meta.duration_s or 0.0, size_bytes=size, sha256=digest)


def _size_and_sha256(path: Path) -> tuple[int, str]:
    try:
        h = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return path.stat().st_size, h.hexdigest()
    except OSError:
        return 0, ""
