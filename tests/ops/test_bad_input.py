"""Bad input gets a 4xx, never a 5xx: JSON nested thousands deep, NUL and lone surrogates
in names, a display name that is no string, query values that are no number, date, zone
or text PostgreSQL can hold, a recording id that is not base64, a recording file name
with a newline or a quote."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import pytest

from acd.bootstrap import Daemon
from acd.http.inputs import attachment
from acd.http.recordings import recording_id
from acd.store.recordings import RecordingStored
from tests.ops.test_api import Client, Phones, api  # noqa: F401  (the fixture)
from tests.ops.test_recordings import WIB, audit, get, library  # noqa: F401  (the fixture)
from tests.store.db import write

DEEP = "[" * 50_000 + "]" * 50_000


async def raw(client: Client, path: str, text: str, token: str | None = None) -> int:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with client.s.post(client.base + path, data=text.encode("utf-8", "surrogatepass"),
                             headers=headers) as r:
        return r.status


async def test_json_nested_fifty_thousand_deep_is_a_400_everywhere(
        api: tuple[Daemon, Client, Phones]) -> None:  # noqa: F811
    _daemon, client, _ = api
    admin = await client.login("admin1", "Sekret117")
    agent = await client.login("1001", "Sekret117")
    for path, token in (("/api/login", None), ("/api/agent/login", None),
                        ("/api/agent/pause", agent), ("/api/agents/1001/monitor", admin),
                        ("/api/users", admin)):
        assert await raw(client, path, DEEP, token) == 400, path
        assert await raw(client, path, '{"a": ' + DEEP + "}", token) == 400, path


@pytest.mark.parametrize("name", ["sup\\u00001", "sup\\ud8001"])
async def test_a_nul_or_a_lone_surrogate_in_a_name_is_a_400(
        api: tuple[Daemon, Client, Phones], name: str) -> None:  # noqa: F811
    _daemon, client, _ = api
    assert await raw(client, "/api/login",
                     f'{{"username": "{name}", "password": "Sekret117"}}') == 400
    assert await raw(client, "/api/agent/login", f'{{"agent_id": "{name}", "password": '
                     '"Sekret117", "device": "PJSIP/desk-1"}') == 400


async def test_a_display_name_that_is_no_string_is_a_400(
        api: tuple[Daemon, Client, Phones]) -> None:  # noqa: F811
    _daemon, client, _ = api
    client.token = await client.login("admin1", "Sekret117")
    for display_name in (5, ["x"], {"a": 1}, "a\u0000b"):
        status, body = await client.call("POST", "/api/users", {
            "username": "new1", "password": "Sekret117", "role": "agent",
            "display_name": display_name})
        assert status == 400, (display_name, body)


ALL = ("calls", "tiers", "agents", "forecast")


@pytest.mark.parametrize(("query", "kinds"), [
    ("short_abandon_s=abc", ("calls", "tiers")), ("short_abandon_s=nan", ("calls", "tiers")),
    ("short_abandon_s=-1", ("calls", "tiers")), ("centre=%00", ("forecast",)),
    ("from=0001-01-01", ALL), ("to=9999-12-31", ALL), ("from=2026-01-01&to=9999-12-31", ALL),
    ("tz=Not/AZone", ALL), ("tz=../../etc/passwd", ALL), ("tz=%00", ALL), ("from=%00", ALL),
    ("from=2026-03-02&to=2026-03-01", ALL), ("from=2026-03-02&to=2026-03-02", ALL)])
async def test_bad_report_query_values_are_a_400(
        api: tuple[Daemon, Client, Phones], query: str,  # noqa: F811
        kinds: tuple[str, ...]) -> None:
    daemon, client, _ = api
    client.token = await client.login("sup1", "Sekret117")
    for kind in kinds:
        async with client.s.get(f"{daemon.url}/api/reports/{kind}?unit=hour&{query}",
                                headers={"Authorization": f"Bearer {client.token}"}) as r:
            assert r.status == 400, (kind, query, await r.text())


@pytest.mark.parametrize("query", [
    "number=%00", "centre=%00", "agent=%00", "tz=Not/AZone", "from=0001-01-01",
    "to=9999-12-31"])
async def test_bad_recording_search_values_are_a_400(
        library: tuple[Daemon, dict], query: str) -> None:  # type: ignore[type-arg]  # noqa: F811
    daemon, tokens = library
    status, body, _ = await get(f"{daemon.url}/api/recordings?{query}", tokens["sup1"])
    assert status == 400, (query, body)


@pytest.mark.parametrize("rec_id", ["%C3%A9t%C3%A9", "AA%00", recording_id("a\x00b")])
async def test_a_recording_id_that_is_no_recording_is_a_404(
        library: tuple[Daemon, dict], rec_id: str) -> None:  # type: ignore[type-arg]  # noqa: F811
    daemon, tokens = library
    status, _, _ = await get(f"{daemon.url}/api/recordings/{rec_id}/download", tokens["sup1"])
    assert status == 404


async def test_a_recording_named_with_a_newline_and_a_quote_is_served_whole(
        library: tuple[Daemon, dict]) -> None:  # type: ignore[type-arg]  # noqa: F811
    daemon, tokens = library
    rel = '2026/03/c"7\nX-Evil: 1.wav'
    data = b"RIFF-c7"
    (daemon.settings.recordings_dir / rel).write_bytes(data)
    at = datetime(2026, 3, 4, 9, tzinfo=WIB).timestamp()
    await write(daemon.settings.dsn or "", [RecordingStored(
        "c7", "1001", "bpbd-kota-bandung", rel, "wav", at, 1.0, len(data),
        hashlib.sha256(data).hexdigest())])
    status, audio, headers = await get(
        f"{daemon.url}/api/recordings/{recording_id(rel)}/download", tokens["sup1"])
    assert status == 200 and audio == data
    assert "X-Evil" not in headers
    assert headers["Content-Disposition"] == (
        "attachment; filename=\"c_7_X-Evil: 1.wav\"; "
        "filename*=UTF-8''c%227%0AX-Evil%3A%201.wav")
    assert ("sup1", "recording.download", rel, "ok") in await audit(daemon.settings.dsn or "")


def test_a_content_disposition_never_carries_a_control_character_or_a_bare_quote() -> None:
    value = attachment("inline", 'a"b\\c\r\nd\x00é.wav')
    assert not any(ord(c) < 32 or ord(c) > 126 for c in value)
    assert value.startswith('inline; filename="a_b_c__d__.wav"; filename*=UTF-8\'\'')
    assert attachment("inline", "c2.wav") == 'inline; filename="c2.wav"'
    json.dumps(value)
