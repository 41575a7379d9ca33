"""Recording policy and names: which connected calls are recorded and how, what the file is
called, and what is known of a recording. Pure: no I/O, nothing runs here (the hooks that
run when a recording ends are in `recording.hooks`).

Which calls are recorded, and in which format, is the call flows' `recording` section
(`config.models.Recording`): the core asks for a recording (StartRecording) only for those.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from acd.vocabulary.tiers import Tier

IfExists = Literal["fail", "overwrite", "append"]


@dataclass(frozen=True, slots=True)
class RecordingPolicy:
    """How Asterisk records a connected call the core asked to record, and where the files
    are. Which calls, and in which format, is only the call flows' `recording` section.

    The tenders ask for every call, wav or mp3, kept a year: record in wav and convert with
    a post hook where mp3 is wanted.
    """

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
