"""The daemon and its journal: one acd117 per spool folder, and /ready says when records
are only in memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.bootstrap import StartupError, bootstrap
from tests.ops.support import get_json, serving, settings, until


async def test_a_second_acd117_on_the_same_spool_folder_does_not_start(
        tmp_path: Path, migrated_dsn: str) -> None:
    s = settings(tmp_path, migrated_dsn)
    async with serving(s) as first:
        status, _ = await get_json(first.url + "/ready")
        assert status == 200
        second = bootstrap(s, simulate=True, time_scale=0.02, seed=7)
        with pytest.raises(StartupError, match=r"in use by process .*one acd117 per spool"):
            await second.start()
        assert not second.running
        assert first.writer is not None and first.writer.stats.durable


async def test_ready_is_503_while_the_spool_folder_cannot_be_made(
        tmp_path: Path, migrated_dsn: str) -> None:
    (tmp_path / "blocked").write_text("")
    s = settings(tmp_path, migrated_dsn).model_copy(
        update={"spool_dir": tmp_path / "blocked" / "spool"})
    async with serving(s) as daemon:
        status, body = await get_json(daemon.url + "/ready")
        assert status == 503 and not body["ready"]
        store = body["checks"]["store"]
        assert not store["ok"] and not store["durable"]
        assert "journal not durable" in store["detail"]
        (tmp_path / "blocked").unlink()
        writer = daemon.writer
        assert writer is not None
        await until(lambda: writer.stats.durable, timeout=10.0)
        status, body = await get_json(daemon.url + "/ready")
        assert status == 200 and body["checks"]["store"]["durable"]


async def test_metrics_show_the_spool_down_while_it_cannot_be_written(
        tmp_path: Path, migrated_dsn: str) -> None:
    (tmp_path / "blocked").write_text("")
    s = settings(tmp_path, migrated_dsn).model_copy(
        update={"spool_dir": tmp_path / "blocked" / "spool"})
    async with serving(s) as daemon:
        text = daemon.metrics.exposition().decode()
        assert 'acd117_component_up{component="spool"} 0.0' in text
        (tmp_path / "blocked").unlink()
        writer = daemon.writer
        assert writer is not None
        await until(lambda: writer.stats.durable, timeout=10.0)
        assert 'acd117_component_up{component="spool"} 1.0' in daemon.metrics.exposition().decode()
