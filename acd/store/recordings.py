"""Recording metadata: the one stored fact about a recording that the core does not emit.

The recording hook reports it once the file is closed and checksummed; the writer stores it
beside the call it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass


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
