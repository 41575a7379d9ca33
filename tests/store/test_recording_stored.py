"""A finished recording becomes a stored row with the file's size and checksum."""

from __future__ import annotations

import hashlib
from pathlib import Path

from acd.store.recordings import recording_stored
from acd.tiers import Tier
from recording.hooks import RecordingMetadata


def meta(path: Path, state: str = "done") -> RecordingMetadata:
    return RecordingMetadata(name="c1", call_id="c1", caller="+6281234567890", agent_id="1001",
                             centre_id="bdg", tier=Tier.KABKOTA, format="wav",
                             started_at=1_800_000_000.0, ended_at=1_800_000_060.0,
                             duration_s=60.0, state=state, path=str(path))


async def test_a_finished_recording_is_stored_with_its_size_and_checksum(tmp_path: Path):
    wav = tmp_path / "c1.wav"
    wav.write_bytes(b"RIFF" + bytes(1000))
    stored = await recording_stored(meta(wav))
    assert stored is not None
    digest = hashlib.sha256(wav.read_bytes()).hexdigest()
    assert (stored.size_bytes, stored.sha256) == (1004, digest)
    assert (stored.call_id, stored.agent_id, stored.duration_s) == ("c1", "1001", 60.0)
    assert stored.path == "c1.wav", "relative to the recordings directory the API serves"


async def test_a_recording_not_readable_here_is_still_stored_without_checksum(tmp_path: Path):
    stored = await recording_stored(meta(tmp_path / "elsewhere.wav"))
    assert stored is not None and (stored.size_bytes, stored.sha256) == (0, "")


async def test_a_failed_recording_is_not_stored(tmp_path: Path):
    assert await recording_stored(meta(tmp_path / "c1.wav", state="failed")) is None
