"""A finished recording becomes a stored row with the file's size and checksum, read where
the settings say the recordings are; a file that cannot be read makes no row, and its
metadata is kept, counted and logged instead."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import asyncpg
import pytest
from structlog.testing import capture_logs

from acd.bootstrap import Daemon
from acd.store.codec import encode
from acd.store.recordings import RecordingSink, RecordingStored, recording_stored
from acd.vocabulary.tiers import Tier
from recording.hooks import LiveRecordingInfo, RecordingMetadata, Recordings
from tests.store.db import counts, expected_counts
from tests.store.helpers import asterisk_daemon, drained
from tests.store.streams import stream


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


async def test_a_recording_whose_file_cannot_be_read_builds_no_row(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        await recording_stored(meta(tmp_path / "elsewhere.wav"), attempts=2, backoff_s=0.0)


async def test_a_file_still_being_closed_is_found_by_a_later_attempt(tmp_path: Path):
    wav = tmp_path / "c1.wav"
    asyncio.get_running_loop().call_later(0.05, wav.write_bytes, b"RIFF-late")
    stored = await recording_stored(meta(wav), attempts=5, backoff_s=0.02)
    assert stored is not None and stored.sha256 == hashlib.sha256(b"RIFF-late").hexdigest()


@pytest.mark.parametrize("digest", ["", "not-a-digest", "A" * 64, "0" * 63])
def test_a_row_without_a_real_checksum_cannot_be_built(digest: str):
    with pytest.raises(ValueError, match="sha256"):
        RecordingStored("c1", "1001", "bdg", "c1.wav", "wav", 1.0, 1.0, 4, digest)


async def test_a_failed_recording_is_not_stored(tmp_path: Path):
    assert await recording_stored(meta(tmp_path / "c1.wav", state="failed")) is None


# --- the daemon's wiring, into a real PostgreSQL ------------------------------------------


def recordings_of(daemon: Daemon) -> Recordings:
    recordings: Recordings = daemon.telephony.side.app.recordings  # type: ignore[attr-defined]
    return recordings


def finish(recordings: Recordings, name: str = "1795380555.22") -> None:
    """What the Stasis app does for a bridge recording: begin, then RecordingFinished."""
    recordings.begin(LiveRecordingInfo(name=name, call_id=name, caller="+6281234567890",
                                       agent_id="1001", centre_id="bdg", tier=Tier.KABKOTA,
                                       format="wav", started_at=1_800_000_000.0))
    recordings.ended(name, state="done", at=1_800_000_060.0, duration_s=60.0, fmt="wav")


async def test_the_recording_is_found_in_the_recordings_dir_of_the_settings(
        migrated_dsn: str, tmp_path: Path):
    daemon = asterisk_daemon(tmp_path, migrated_dsn)
    recordings, writer = recordings_of(daemon), daemon.writer
    assert writer is not None
    audio = b"RIFF" + bytes(range(256)) * 40
    (daemon.settings.recordings_dir / "1795380555.22.wav").write_bytes(audio)
    await writer.start()
    try:
        finish(recordings)
        await recordings.drain()
        await drained(writer)
    finally:
        await writer.stop()
    assert recordings.finished[-1].path == str(
        daemon.settings.recordings_dir.absolute() / "1795380555.22.wav")
    conn = await asyncpg.connect(migrated_dsn)
    try:
        rows = await conn.fetch("SELECT path, size_bytes, sha256 FROM recordings")
    finally:
        await conn.close()
    assert [tuple(r) for r in rows] == [
        ("1795380555.22.wav", len(audio), hashlib.sha256(audio).hexdigest())]
    assert writer.stats.rejected_records == 0


async def test_an_unreadable_recording_makes_no_row_and_is_kept_counted_and_logged(
        migrated_dsn: str, tmp_path: Path):
    daemon = asterisk_daemon(tmp_path, migrated_dsn)
    recordings, writer = recordings_of(daemon), daemon.writer
    assert writer is not None and isinstance(recordings.on_metadata, RecordingSink)
    recordings.on_metadata.backoff_s = 0.01  # the daemon waits ~4 s in all; a test needn't
    records = list(stream(10))
    await writer.start()
    try:
        with capture_logs() as logs:
            finish(recordings)  # Asterisk wrote nothing where acd117 looks
            await recordings.drain()
        for r in records:  # the records behind it are written as ever
            writer.submit(r)
        await drained(writer)
    finally:
        await writer.stop()

    got = await counts(migrated_dsn)
    for table, n in expected_counts(records).items():
        assert got[table] == n, f"{table}: the stream's rows, and none for the recording"

    (entry,) = [json.loads(line) for line in
                (tmp_path / "spool" / "rejected.jsonl").read_text().splitlines()]
    kept = json.loads(entry["line"])
    expected_path = str(daemon.settings.recordings_dir.absolute() / "1795380555.22.wav")
    assert kept["t"] == "RecordingMetadata" and kept["path"] == expected_path
    assert (kept["call_id"], kept["agent_id"], kept["tier"], kept["duration_s"]) == (
        "1795380555.22", "1001", "kabkota", 60.0)
    assert "not readable" in entry["error"] and expected_path in entry["error"]

    errors = [e for e in logs if e["log_level"] == "error"]
    assert len(errors) == 1 and errors[0]["path"] == expected_path
    assert writer.stats.rejected_records == 1
    exposition = daemon.metrics.exposition().decode()
    assert "acd117_recordings_unreadable_total 1.0" in exposition
    assert "acd117_records_rejected_total 1.0" in exposition


async def test_a_spooled_row_without_a_checksum_is_set_aside_without_reaching_the_database(
        migrated_dsn: str, tmp_path: Path):
    # What an acd117 before this fix left in its spool: a row with an empty sha256.
    spool = tmp_path / "spool"
    spool.mkdir()
    records = list(stream(5))
    old = {"t": "RecordingStored", "call_id": "c-old", "agent_id": "1001", "centre_id": "bdg",
           "path": "c-old.wav", "format": "wav", "started_at": 1.0, "duration_s": 1.0,
           "size_bytes": 0, "sha256": ""}
    (spool / "0000000001.jsonl").write_bytes(
        json.dumps(old).encode() + b"\n" + b"".join(encode(r) for r in records))
    daemon = asterisk_daemon(tmp_path, migrated_dsn)
    writer = daemon.writer
    assert writer is not None
    await writer.start()
    try:
        await drained(writer)
    finally:
        await writer.stop()
    assert writer.stats.rejected_records == 1
    assert "c-old" in (spool / "rejected.jsonl").read_text()
    got = await counts(migrated_dsn)
    assert got["calls"] == expected_counts(records)["calls"]
    assert got["recordings"] == expected_counts(records)["recordings"]
