"""The spool journal: ordered, durable across restarts, bounded in what it reads at once,
and trimmed only past what was committed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from acd.store.spool import Spool, SpoolLockedError
from tests.store.streams import stream


def read_all(spool: Spool, batch: int = 100) -> list[object]:
    out: list[object] = []
    while spool.pending_records:
        b = spool.read(batch)
        out += b.records
        spool.commit(b)
    return out


def test_records_come_back_in_the_order_they_were_appended(tmp_path: Path) -> None:
    records = list(stream(50))
    spool = Spool(tmp_path)
    spool.append(records[:100])
    spool.append(records[100:])
    assert spool.pending_records == len(records)
    assert read_all(spool, batch=37) == records
    assert spool.pending_records == 0 and spool.pending_bytes == 0
    spool.close()


def test_a_read_is_not_committed_until_commit_is_called(tmp_path: Path) -> None:
    records = list(stream(10))
    spool = Spool(tmp_path)
    spool.append(records)
    first = spool.read(20)
    again = spool.read(20)  # e.g. the database failed: the same batch is read again
    assert first.records == again.records == records[:20]
    assert spool.pending_records == len(records)
    spool.commit(first)
    assert spool.read(5).records == records[20:25]
    spool.close()


def test_what_was_not_committed_survives_a_restart(tmp_path: Path) -> None:
    records = list(stream(30))
    spool = Spool(tmp_path)
    spool.append(records)
    spool.commit(spool.read(40))
    spool.sync_now()
    spool.close()
    reopened = Spool(tmp_path)
    assert reopened.pending_records == len(records) - 40
    assert read_all(reopened) == records[40:]
    reopened.close()


def test_a_line_torn_by_a_crash_is_cut_and_the_rest_kept(tmp_path: Path) -> None:
    records = list(stream(5))
    spool = Spool(tmp_path)
    spool.append(records)
    spool.close()
    (segment,) = tmp_path.glob("*.jsonl")
    with segment.open("ab") as f:
        f.write(b'{"t":"CallEnded","call_id":"c9","outc')
    reopened = Spool(tmp_path)
    assert reopened.pending_records == len(records)
    assert read_all(reopened) == records
    reopened.close()


def test_segments_roll_over_and_are_deleted_once_committed(tmp_path: Path) -> None:
    records = list(stream(200))
    spool = Spool(tmp_path, segment_bytes=20_000)
    for i in range(0, len(records), 50):
        spool.append(records[i : i + 50])
        spool.roll_if_full()
    assert len(spool.segments) > 5
    bytes_before = spool.pending_bytes
    assert bytes_before == sum(p.stat().st_size for p in tmp_path.glob("*.jsonl"))
    half = spool.read(len(records) // 2)
    spool.commit(half)
    assert spool.pending_bytes < bytes_before / 1.5
    assert len(list(tmp_path.glob("*.jsonl"))) < len(spool.segments) + 1
    assert read_all(spool, batch=333) == records[len(records) // 2 :]
    assert len(list(tmp_path.glob("*.jsonl"))) == 1  # only the one being written
    spool.close()


def test_reads_are_bounded_whatever_the_backlog(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append(list(stream(1000)))
    assert spool.pending_records > 10_000
    assert len(spool.read(250).records) == 250
    spool.close()


def test_an_undecodable_line_is_set_aside_and_the_stream_goes_on(tmp_path: Path) -> None:
    records = list(stream(3))
    spool = Spool(tmp_path)
    spool.append(records[:5])
    spool.close()
    (segment,) = tmp_path.glob("*.jsonl")
    with segment.open("ab") as f:
        f.write(b"this is not a record\n")
    spool = Spool(tmp_path)
    spool.append(records[5:])
    assert read_all(spool) == records
    (rejected,) = (tmp_path / "rejected.jsonl").read_text().splitlines()
    assert json.loads(rejected)["line"] == "this is not a record"
    spool.close()


def test_a_lost_cursor_means_a_replay_from_the_oldest_segment(tmp_path: Path) -> None:
    records = list(stream(10))
    spool = Spool(tmp_path)
    spool.append(records)
    spool.commit(spool.read(30))
    spool.close()
    (tmp_path / "cursor").write_text("{garbage")
    reopened = Spool(tmp_path)
    assert reopened.pending_records == len(records)  # replayed, and absorbed by the database
    reopened.close()


def test_two_processes_cannot_share_a_spool(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    with pytest.raises(SpoolLockedError):
        Spool(tmp_path)
    spool.close()
    Spool(tmp_path).close()
