"""`acd117 purge` keeps what the call flows' recording.retention_days says: recording rows
and their files older than that go, younger ones and files outside the recordings folder
stay; --older-than-days overrides it."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import asyncpg
import pytest

from acd.cli import main
from tests.store.db import counts
from tests.store.test_purge import fill

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example"


def _flows(tmp_path: Path, retention_days: int) -> Path:
    folder = tmp_path / f"flows-{retention_days}"
    if folder.exists():
        return folder
    shutil.copytree(EXAMPLE, folder)
    yaml = folder / "recording.yaml"
    text = yaml.read_text(encoding="utf-8").replace("retention_days: 366",
                                                    f"retention_days: {retention_days}")
    assert f"retention_days: {retention_days}" in text
    yaml.write_text(text, encoding="utf-8")
    return folder


async def _files(dsn: str, folder: Path) -> dict[str, Path]:
    """Every recording row gets a file in the folder; its path as Asterisk's (absolute)."""
    folder.mkdir(parents=True, exist_ok=True)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("UPDATE recordings SET path = $1 || '/' || md5(path) || '.wav'",
                           str(folder))
        rows = await conn.fetch("SELECT path, call_id FROM recordings")
    finally:
        await conn.close()
    files = {}
    for r in rows:
        Path(r["path"]).write_bytes(b"RIFF")
        files[Path(r["path"])] = r["call_id"]
    return {f"{call}|{path.name}": path for path, call in files.items()}


async def test_purge_applies_the_configured_retention_to_rows_and_files(
        migrated_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = time.time()
    await fill(migrated_dsn, now)  # calls and recordings 400 and 10 days old
    folder = tmp_path / "recording"
    files = await _files(migrated_dsn, folder)
    outside = tmp_path / "elsewhere.wav"
    outside.write_bytes(b"RIFF")
    conn = await asyncpg.connect(migrated_dsn)
    try:  # one old row whose file is not in the recordings folder: the file stays
        moved = await conn.fetchval("SELECT min(path) FROM recordings WHERE call_id LIKE 'old%'")
        await conn.execute("UPDATE recordings SET path = $1 WHERE path = $2",
                           str(outside), moved)
    finally:
        await conn.close()
    Path(moved).unlink()
    files = {k: f for k, f in files.items() if f != Path(moved)}
    monkeypatch.setenv("ACD117_RECORDINGS_DIR", str(folder))
    before = await counts(migrated_dsn)

    # Kept 600 days: nothing is old enough.
    keep = ["purge", "--dsn", migrated_dsn, "--config", str(_flows(tmp_path, 600))]
    assert await asyncio.to_thread(main, keep) == 0
    assert await counts(migrated_dsn) == before
    assert all(f.exists() for f in files.values()) and outside.exists()

    # Kept 366 days (the example's): the 400-day-old rows and files go.
    assert await asyncio.to_thread(
        main, ["purge", "--dsn", migrated_dsn, "--config", str(_flows(tmp_path, 366))]) == 0
    after = await counts(migrated_dsn)
    assert 0 < after["recordings"] < before["recordings"]
    old = {c: f for c, f in files.items() if c.startswith("old")}
    new = {c: f for c, f in files.items() if c.startswith("new")}
    assert old and new
    assert not any(f.exists() for f in old.values())
    assert all(f.exists() for f in new.values())
    assert outside.exists()

    # --older-than-days overrides the configuration.
    assert await asyncio.to_thread(
        main, ["purge", "--dsn", migrated_dsn, "--config", str(_flows(tmp_path, 600)),
               "--older-than-days", "5", "--force"]) == 0
    assert (await counts(migrated_dsn))["recordings"] == 0
    assert not any(f.exists() for f in new.values())
