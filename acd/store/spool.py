"""The spool: an append-only, fsync'd journal of records on their way to PostgreSQL.

Every record passes through it (it is the writer's write-ahead log), so a record taken off
the in-memory queue is on disk before anything else happens to it, and a database that is
down or slow only makes the journal longer: memory holds one batch, never the backlog.

Layout of the spool directory:

    0000000001.jsonl ...  segments, one record per line (see acd.store.codec), named by an
                          increasing sequence number; a new one starts past `segment_bytes`
    cursor                {"segment": N, "offset": B}: everything before it is committed
    rejected.jsonl        records PostgreSQL refused for good (bad data), and what could
                          not become a row (`StoreWriter.set_aside`), kept for a person
    lock                  flock'd while a process owns the spool

The cursor only moves after a confirmed commit, and segments before it are deleted then.
It is written without fsync: losing an update only means replaying records the database
already has, which the writer's idempotent statements absorb.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import structlog

from acd.store.codec import DecodeError, StoreRecord, decode, encode

log = structlog.get_logger()

SEGMENT_SUFFIX = ".jsonl"
DEFAULT_SEGMENT_BYTES = 16 * 2**20
# A read returns at most this many bytes of lines, whatever the record count asked for.
MAX_READ_BYTES = 8 * 2**20


REJECTED_FILE = "rejected.jsonl"


def keep_rejected(directory: Path, line: str, error: str) -> Path:
    """Append one entry to `directory/rejected.jsonl` and fsync it; returns the file.

    One JSON object per line, `{"rejected_at": epoch s, "error": why, "line": what}`, where
    `line` is the record as the spool writes it (or as close to it as could be had). The
    file is only ever appended to, and a crash between keeping an entry and moving the
    cursor keeps it again on replay: an operator may find an entry twice, never not at all.
    """
    path = Path(directory) / REJECTED_FILE
    entry = json.dumps({"rejected_at": time.time(), "error": error, "line": line})
    with path.open("a", encoding="utf-8") as f:
        f.write(entry + "\n")
        f.flush()
        os.fsync(f.fileno())
    return path


class SpoolLockedError(RuntimeError):
    """Another process owns this spool directory."""


@dataclass(frozen=True, slots=True, order=True)
class Position:
    segment: int
    offset: int


@dataclass(slots=True)
class SpoolBatch:
    """Records read from the cursor on; `end` is where the cursor goes once committed."""

    records: list[StoreRecord]
    end: Position
    lines: int  # lines consumed: the records plus any that could not be decoded
    undecodable: list[tuple[bytes, str]] = field(default_factory=list)


def _segment_name(seq: int) -> str:
    return f"{seq:010d}{SEGMENT_SUFFIX}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    def __init__(self, directory: Path, segment_bytes: int = DEFAULT_SEGMENT_BYTES) -> None:
        self.directory = Path(directory)
        self.segment_bytes = segment_bytes
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(self.directory / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self._lock_fd, 32, 0).decode("ascii", "replace").strip()
            os.close(self._lock_fd)
            by = f"process {holder}" if holder.isdigit() else "another process"
            raise SpoolLockedError(f"spool {self.directory} is in use by {by}") from None
        # Who holds it, for the message the next one gets (the flock is what counts).
        os.ftruncate(self._lock_fd, 0)
        os.pwrite(self._lock_fd, f"{os.getpid()}\n".encode(), 0)

        self._sizes: dict[int, int] = {}  # segment -> bytes, for every segment on disk
        for path in self.directory.glob(f"*{SEGMENT_SUFFIX}"):
            if path.stem.isdigit():
                self._sizes[int(path.stem)] = path.stat().st_size
        self._cursor = self._load_cursor()
        self._drop_committed_segments()
        self._write_seq = max(self._sizes, default=self._cursor.segment)
        self._write_seq = max(self._write_seq, self._cursor.segment)
        if self._write_seq in self._sizes:
            self._repair_tail(self._write_seq)
        self._write_fd = self._open_segment(self._write_seq)
        self._pending = self._count_pending()
        self.appended_total = 0  # records appended by this process
        self._write_gen = 0  # bumped by every append; compared with what was fsync'd
        self._synced_gen = 0
        self._synced_total = 0
        self._read_files: dict[int, BinaryIO] = {}
        self._closed = False

    # ----- opening ---------------------------------------------------------------------

    def _load_cursor(self) -> Position:
        oldest = min(self._sizes, default=1)
        try:
            data = json.loads((self.directory / "cursor").read_text())
            cursor = Position(int(data["segment"]), int(data["offset"]))
        except FileNotFoundError:
            return Position(oldest, 0)
        except (ValueError, KeyError, TypeError):
            # A cursor torn by a crash: start from the oldest segment; the replay is absorbed.
            log.warning("store: spool cursor unreadable, replaying from the oldest segment")
            return Position(oldest, 0)
        if self._sizes and cursor.segment < oldest:
            return Position(oldest, 0)
        # A crash of the machine can lose unsynced bytes that were already committed to the
        # database, leaving the cursor past the end of its segment.
        size = self._sizes.get(cursor.segment)
        if size is not None and cursor.offset > size:
            return Position(cursor.segment, size)
        return cursor

    def _drop_committed_segments(self) -> None:
        for seq in sorted(self._sizes):
            if seq < self._cursor.segment:
                (self.directory / _segment_name(seq)).unlink(missing_ok=True)
                del self._sizes[seq]

    def _repair_tail(self, seq: int) -> None:
        """Cut a line torn by a crash mid-write: it was never acknowledged as spooled."""
        path = self.directory / _segment_name(seq)
        size = self._sizes[seq]
        if size == 0:
            return
        with path.open("rb+") as f:
            end = size
            while end > 0:
                start = max(0, end - 65536)
                f.seek(start)
                chunk = f.read(end - start)
                if end == size and chunk.endswith(b"\n"):
                    return
                nl = chunk.rfind(b"\n")
                if nl >= 0:
                    keep = start + nl + 1
                    break
                end = start
            else:
                keep = 0
            log.warning(
                "store: spool segment had a torn last line; cut it", segment=seq, bytes=size - keep
            )
            f.truncate(keep)
            os.fsync(f.fileno())
        self._sizes[seq] = keep

    def _open_segment(self, seq: int) -> int:
        path = self.directory / _segment_name(seq)
        created = seq not in self._sizes
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        if created:
            self._sizes[seq] = 0
            _fsync_dir(self.directory)
        return fd

    def _count_pending(self) -> int:
        count = 0
        for seq in sorted(self._sizes):
            if seq < self._cursor.segment:
                continue
            with (self.directory / _segment_name(seq)).open("rb") as f:
                if seq == self._cursor.segment:
                    f.seek(self._cursor.offset)
                while chunk := f.read(2**20):
                    count += chunk.count(b"\n")
        return count

    # ----- writing ---------------------------------------------------------------------

    def append(self, records: Sequence[StoreRecord]) -> None:
        """Write records at the end of the journal (not yet fsync'd: see `sync`).

        One os.write of whole lines, straight to the kernel: a killed process loses
        nothing that was appended. On a failed write (disk full) the segment is cut back,
        so a partial line never sits in the middle of the journal, and the error is raised.
        """
        if not records:
            return
        data = b"".join(encode(r) for r in records)
        before = self._sizes[self._write_seq]
        try:
            view = memoryview(data)
            while view:
                written = os.write(self._write_fd, view)
                view = view[written:]
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(self._write_fd, before)
            raise
        self._sizes[self._write_seq] = before + len(data)
        self._pending += len(records)
        self.appended_total += len(records)
        self._write_gen += 1

    @property
    def dirty(self) -> bool:
        return self._write_gen != self._synced_gen

    async def sync(self) -> None:
        """fsync what was appended, off the event loop; appends may go on meanwhile."""
        if not self.dirty:
            return
        gen, total = self._write_gen, self.appended_total
        await asyncio.to_thread(os.fsync, self._write_fd)
        self._synced_gen = max(self._synced_gen, gen)
        self._synced_total = max(self._synced_total, total)

    def sync_now(self) -> None:
        if self.dirty:
            os.fsync(self._write_fd)
            self._synced_gen = self._write_gen
            self._synced_total = self.appended_total

    @property
    def synced_total(self) -> int:
        """Records appended by this process that are known to be on disk."""
        return self._synced_total

    def roll_if_full(self) -> None:
        """Start a new segment once the current one is big enough (never during a sync)."""
        if self._sizes[self._write_seq] < self.segment_bytes:
            return
        self.sync_now()
        os.close(self._write_fd)
        self._write_seq += 1
        self._write_fd = self._open_segment(self._write_seq)

    # ----- reading ---------------------------------------------------------------------

    def _reader(self, seq: int) -> BinaryIO:
        f = self._read_files.get(seq)
        if f is None:
            f = (self.directory / _segment_name(seq)).open("rb")
            self._read_files[seq] = f
        return f

    def read(self, max_records: int) -> SpoolBatch:
        """Up to `max_records` records from the cursor on, in the order they were appended."""
        records: list[StoreRecord] = []
        undecodable: list[tuple[bytes, str]] = []
        seq, offset = self._cursor.segment, self._cursor.offset
        lines = 0
        nbytes = 0
        while lines < max_records and nbytes < MAX_READ_BYTES:
            size = self._sizes.get(seq, 0)
            if offset >= size:
                if seq < self._write_seq:
                    seq, offset = seq + 1, 0
                    continue
                break
            f = self._reader(seq)
            f.seek(offset)
            while lines < max_records and nbytes < MAX_READ_BYTES and offset < size:
                line = f.readline()
                if not line.endswith(b"\n"):
                    # Appends are whole lines, so only damage outside this process can leave a
                    # partial one. In a finished segment it is skipped (and kept aside);
                    # at the live end it is left for the next read.
                    if seq < self._write_seq:
                        undecodable.append((line, "partial line"))
                        offset = size
                    break
                offset += len(line)
                nbytes += len(line)
                lines += 1
                try:
                    records.append(decode(line))
                except DecodeError as exc:
                    undecodable.append((line, str(exc)))
            if offset < size:
                break
        # A batch that ends exactly at the end of an older segment moves on to the next one,
        # so the committed segment can be deleted.
        if offset >= self._sizes.get(seq, 0) and seq < self._write_seq:
            seq, offset = seq + 1, 0
        return SpoolBatch(records, Position(seq, offset), lines, undecodable)

    def commit(self, batch: SpoolBatch) -> None:
        """The batch is in PostgreSQL: move the cursor past it and drop finished segments."""
        for line, error in batch.undecodable:
            self._reject_line(line.rstrip(b"\n").decode("utf-8", "replace"), error)
        self._cursor = batch.end
        tmp = self.directory / "cursor.tmp"
        tmp.write_text(json.dumps({"segment": batch.end.segment, "offset": batch.end.offset}))
        os.replace(tmp, self.directory / "cursor")
        self._pending -= batch.lines
        for seq in sorted(self._sizes):
            if seq >= batch.end.segment:
                break
            f = self._read_files.pop(seq, None)
            if f is not None:
                f.close()
            (self.directory / _segment_name(seq)).unlink(missing_ok=True)
            del self._sizes[seq]

    def reject(self, record: StoreRecord, error: str) -> None:
        """Keep a record PostgreSQL refused for good where a person can find it."""
        self._reject_line(encode(record).rstrip(b"\n").decode(), error)

    def reject_unencodable(self, text: str, error: str) -> None:
        self._reject_line(text, error)

    def _reject_line(self, line: str, error: str) -> None:
        path = keep_rejected(self.directory, line, error)
        log.error(
            "store: record rejected by the database, kept in the spool's rejected.jsonl",
            error=error,
            record=line[:300],
            file=str(path),
        )

    # ----- state -----------------------------------------------------------------------

    @property
    def pending_records(self) -> int:
        """Records (lines) appended but not yet committed to PostgreSQL."""
        return self._pending

    @property
    def pending_bytes(self) -> int:
        total = sum(size for seq, size in self._sizes.items() if seq >= self._cursor.segment)
        return total - self._cursor.offset

    @property
    def cursor(self) -> Position:
        return self._cursor

    @property
    def segments(self) -> list[int]:
        return sorted(self._sizes)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.sync_now()
        finally:
            os.close(self._write_fd)
            for f in self._read_files.values():
                f.close()
            self._read_files.clear()
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
