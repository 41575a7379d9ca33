"""Recordings: search, play and download for supervisors and admins only, all audited."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from acd.bootstrap import Daemon
from acd.service.ports import TelephonyBase
from acd.store.recordings import RecordingStored
from acd.vocabulary import records as rec
from acd.vocabulary.tiers import Tier
from tests.ops.support import audit_log, serving, settings
from tests.store.db import write

WIB = ZoneInfo("Asia/Jakarta")


class Quiet(TelephonyBase):
    async def execute(self, command: object) -> None:
        pass


def _call(call_id: str, caller: str, agent: str, centre: str, at: datetime) -> list:  # type: ignore[type-arg]
    t = at.timestamp()
    return [
        rec.CallStarted(call_id, caller, caller if caller.startswith("+") else None,
                        "other", "mobile", 0, "32.73", "test", "darurat", None, None, t),
        rec.CallEnded(call_id, "answered", t, t + 4, t + 64, Tier.KABKOTA, centre, agent,
                      4.0, 60.0, 0.0, 0, Tier.KABKOTA),
    ]


@pytest.fixture
async def library(tmp_path: Path, migrated_dsn: str) -> AsyncIterator[tuple[Daemon, dict]]:  # type: ignore[type-arg]
    s = settings(tmp_path, migrated_dsn)
    bdg, palu = "bpbd-kota-bandung", "bpbd-kota-palu"
    calls = [("c1", "+6281234567890", "1001", bdg, datetime(2026, 3, 1, 9, tzinfo=WIB)),
             ("c2", "+6281299990000", "1002", bdg, datetime(2026, 3, 2, 9, tzinfo=WIB)),
             ("c3", "+6281234567890", "3001", palu, datetime(2026, 3, 3, 9, tzinfo=WIB))]
    records: list = []  # type: ignore[type-arg]
    s.recordings_dir.mkdir(parents=True)
    for call_id, caller, agent, centre, at in calls:
        records += _call(call_id, caller, agent, centre, at)
        rel = f"2026/03/{call_id}.wav"
        data = f"RIFF-{call_id}".encode()
        (s.recordings_dir / "2026" / "03").mkdir(parents=True, exist_ok=True)
        (s.recordings_dir / rel).write_bytes(data)
        records.append(RecordingStored(call_id, agent, centre, rel, "wav", at.timestamp() + 4,
                                       60.0, len(data), hashlib.sha256(data).hexdigest()))
    # c1 was first taken for a prank, then corrected: the latest classification counts.
    records += [rec.Classification("c1", "1001", "prank", calls[0][4].timestamp() + 70),
                rec.Classification("c1", "1001", "emergency", calls[0][4].timestamp() + 80),
                rec.Classification("c3", "3001", "prank", calls[2][4].timestamp() + 70)]
    records.append(RecordingStored("c9", "1001", "bpbd-kota-bandung", "../../etc/passwd", "wav",
                                   calls[0][4].timestamp(), 1.0, 1, "0" * 64))
    await write(migrated_dsn, records)
    async with serving(s, simulate=False, telephony=Quiet()) as daemon:  # type: ignore[arg-type]
        assert daemon.users is not None
        tokens = {}
        for name, role in (("sup1", "supervisor"), ("admin1", "admin"), ("1001", "agent")):
            await daemon.users.add(name, "Sekret117", role)  # type: ignore[arg-type]
            token, _ = await daemon.users.open_session(await daemon.users.get(name))  # type: ignore[arg-type]
            tokens[name] = {"Authorization": f"Bearer {token}"}
        yield daemon, tokens


async def get(url: str, headers: dict | None = None) -> tuple[int, bytes, dict]:  # type: ignore[type-arg]
    async with aiohttp.ClientSession() as s, s.get(url, headers=headers or {}) as r:
        return r.status, await r.read(), dict(r.headers)


async def audit(dsn: str) -> list[tuple]:  # type: ignore[type-arg]
    return await audit_log(dsn)  # type: ignore[return-value]


async def test_only_supervisors_and_admins_may_search(library: tuple[Daemon, dict]) -> None:  # type: ignore[type-arg]
    daemon, tokens = library
    url = daemon.url + "/api/recordings"
    assert (await get(url))[0] == 401
    assert (await get(url, tokens["1001"]))[0] == 403
    assert (await get(url, tokens["admin1"]))[0] == 200
    rows = await audit(daemon.settings.dsn or "")
    assert (None, "recording.search", None, "denied") in rows
    assert ("1001", "GET /api/recordings", None, "denied") in rows


async def test_search_by_number_date_agent_centre_and_class(library: tuple[Daemon, dict]) -> None:  # type: ignore[type-arg]
    import json

    daemon, tokens = library

    async def ids(query: str) -> list[str]:
        status, body, _ = await get(daemon.url + "/api/recordings?" + query, tokens["sup1"])
        assert status == 200
        return sorted(r["call_id"] for r in json.loads(body)["recordings"])

    assert await ids("number=081234567890") == ["c1", "c3"]  # national format finds E.164
    assert await ids("from=2026-03-02&to=2026-03-02") == ["c2"]
    assert await ids("agent=1001") == ["c1", "c9"]
    assert await ids("centre=bpbd-kota-palu&number=%2B6281234567890") == ["c3"]
    assert await ids("class=prank") == ["c3"]
    assert await ids("class=emergency&agent=1001") == ["c1"]
    rows = await audit(daemon.settings.dsn or "")
    assert sum(1 for r in rows if r[1] == "recording.search" and r[3] == "ok") == 6


async def test_play_and_download_the_file_with_an_audit_line_each(
        library: tuple[Daemon, dict]) -> None:  # type: ignore[type-arg]
    import json

    daemon, tokens = library
    _, body, _ = await get(daemon.url + "/api/recordings?number=%2B6281299990000",
                           tokens["sup1"])
    found = json.loads(body)["recordings"][0]
    status, audio, headers = await get(daemon.url + found["play_url"], tokens["sup1"])
    assert status == 200 and audio == b"RIFF-c2"
    assert headers["Content-Type"] == "audio/wav"
    assert headers["Content-Disposition"].startswith("inline")
    status, audio, headers = await get(daemon.url + found["download_url"], tokens["admin1"])
    assert status == 200 and audio == b"RIFF-c2"
    assert headers["Content-Disposition"] == 'attachment; filename="c2.wav"'
    assert (await get(daemon.url + found["play_url"], tokens["1001"]))[0] == 403
    assert (await get(daemon.url + found["play_url"]))[0] == 401
    rows = await audit(daemon.settings.dsn or "")
    assert ("sup1", "recording.play", "2026/03/c2.wav", "ok") in rows
    assert ("admin1", "recording.download", "2026/03/c2.wav", "ok") in rows
    assert (None, "recording.play", "2026/03/c2.wav", "denied") in rows


async def test_a_path_outside_the_recordings_directory_is_never_served(
        library: tuple[Daemon, dict]) -> None:  # type: ignore[type-arg]
    from acd.http.recordings import recording_id

    daemon, tokens = library
    for path in ("../../etc/passwd", "2026/03/nope.wav"):
        status, body, _ = await get(
            f"{daemon.url}/api/recordings/{recording_id(path)}/download", tokens["sup1"])
        assert status == 404 and b"root:" not in body
    assert ("sup1", "recording.download", "../../etc/passwd", "missing") in await audit(
        daemon.settings.dsn or "")
