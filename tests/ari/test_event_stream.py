"""The ARI events websocket: reconnects, ApplicationReplaced, restart sequence, duplicates."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from ari.client import AriClient
from ari.events import AriEventStream, Backoff
from tests.fakes.asterisk import FakeAsterisk


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.resyncs = 0
        self.fail_resyncs = 0

    async def on_event(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    async def on_connected(self) -> None:
        self.resyncs += 1
        if self.fail_resyncs:
            self.fail_resyncs -= 1
            raise RuntimeError("resync failed")


@pytest.fixture
async def stream(
    peer: FakeAsterisk, client: AriClient
) -> AsyncIterator[tuple[AriEventStream, Recorder]]:
    rec = Recorder()
    s = AriEventStream(client, "acd117", rec.on_event, rec.on_connected,
                       backoff=Backoff(initial=0.01, maximum=0.05))
    task = asyncio.create_task(s.run())
    await asyncio.wait_for(s.connected.wait(), 2)
    yield s, rec
    await s.stop()
    await asyncio.wait_for(task, 2)


async def test_events_arrive_in_order_after_a_resync(
    peer: FakeAsterisk, stream: tuple[AriEventStream, Recorder]
) -> None:
    _s, rec = stream
    assert rec.resyncs == 1
    call = await peer.incoming_call()
    await peer.caller_hangs_up(call or "")
    await peer.wait_for(lambda: len(rec.events) >= 3)
    assert [e["type"] for e in rec.events] == ["StasisStart", "ChannelHangupRequest", "StasisEnd"]


async def test_tcp_drop_1006_reconnects_and_resyncs(
    peer: FakeAsterisk, stream: tuple[AriEventStream, Recorder]
) -> None:
    s, rec = stream
    await peer.drop_websocket()
    await peer.wait_for(lambda: rec.resyncs == 2 and s.connected.is_set(), what="reconnect")
    assert s.stats.drops == 1
    assert await peer.incoming_call() is not None  # Stasis() works again


async def test_application_replaced_is_treated_as_a_reconnect(
    peer: FakeAsterisk, client: AriClient, stream: tuple[AriEventStream, Recorder]
) -> None:
    s, rec = stream
    # Another websocket takes the app: ours gets ApplicationReplaced and silence [13].
    intruder = await client.session.ws_connect(
        client.events_url("acd117"), headers=client.auth_headers
    )
    await peer.wait_for(lambda: s.stats.replaced == 1, what="ApplicationReplaced")
    await peer.wait_for(lambda: rec.resyncs == 2 and s.connected.is_set(), what="reconnect")
    msg = await asyncio.wait_for(intruder.receive(), 2)
    assert json.loads(msg.data)["type"] == "ApplicationReplaced"
    call = await peer.incoming_call()
    await peer.wait_for(lambda: any(e["type"] == "StasisStart" for e in rec.events))
    assert rec.events[-1]["channel"]["id"] == call
    await intruder.close()


async def test_asterisk_restart_is_survived(
    peer: FakeAsterisk, stream: tuple[AriEventStream, Recorder]
) -> None:
    s, rec = stream
    peer.register("PJSIP/1001")
    call = await peer.incoming_call()
    await peer.restart()
    await peer.wait_for(lambda: rec.resyncs == 2 and s.connected.is_set(), 3, "reconnect")
    # Refused, then 404 and 503 upgrades before the 101 [11].
    assert s.stats.failed_connects >= 1
    hangup = [e for e in rec.events if e["type"] == "ChannelHangupRequest"]
    assert hangup and hangup[0]["cause"] == 4 and hangup[0]["channel"]["id"] == call
    assert await peer.incoming_call() is not None


async def test_failed_resync_gives_up_the_connection_and_retries(
    peer: FakeAsterisk, stream: tuple[AriEventStream, Recorder]
) -> None:
    s, rec = stream
    rec.fail_resyncs = 1
    await peer.drop_websocket()
    await peer.wait_for(lambda: rec.resyncs == 3 and s.connected.is_set(), 3, "second resync")


async def test_identical_back_to_back_events_are_delivered_once() -> None:
    # With overlapping subscriptions Asterisk repeats events verbatim [01, 02b].
    dial = json.dumps({"type": "Dial", "dialstatus": "RINGING", "peer": {"id": "a"}})
    other = json.dumps({"type": "Dial", "dialstatus": "ANSWER", "peer": {"id": "a"}})

    async def events(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        for text in (dial, dial, "not json", other, other):
            await ws.send_str(text)
        async for _ in ws:  # until the client goes
            pass
        return ws

    app = web.Application()
    app.router.add_get("/ari/events", events)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    client = AriClient(f"http://127.0.0.1:{runner.addresses[0][1]}/ari", "u", "p")
    rec = Recorder()
    s = AriEventStream(client, "acd117", rec.on_event)
    task = asyncio.create_task(s.run())
    try:
        for _ in range(200):
            if len(rec.events) >= 2:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert [e["dialstatus"] for e in rec.events] == ["RINGING", "ANSWER"]
        assert s.stats.duplicates == 2
        assert s.stats.malformed == 1
    finally:
        await s.stop()
        task.cancel()
        await client.close()
        await runner.cleanup()


async def test_a_failing_handler_does_not_stop_the_stream(
    peer: FakeAsterisk, client: AriClient
) -> None:
    seen: list[str] = []

    async def flaky(event: dict[str, Any]) -> None:
        seen.append(event["type"])
        raise ValueError("boom")

    s = AriEventStream(client, "acd117", flaky)
    task = asyncio.create_task(s.run())
    await asyncio.wait_for(s.connected.wait(), 2)
    call = await peer.incoming_call()
    await peer.caller_hangs_up(call or "")
    await peer.wait_for(lambda: "StasisEnd" in seen)
    await s.stop()
    await asyncio.wait_for(task, 2)


def _stream_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "ari.events"]


async def test_an_unreachable_asterisk_is_logged_with_its_address_once_per_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A port nobody listens on: every attempt is refused.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = AriClient(f"http://127.0.0.1:{port}/ari", "u", "p", timeout=1.0)
    s = AriEventStream(client, "acd117", Recorder().on_event,
                       backoff=Backoff(initial=0.01, maximum=0.01), failure_log_s=0.3)
    with caplog.at_level(logging.INFO, logger="ari.events"):
        task = asyncio.create_task(s.run())
        await asyncio.sleep(0.5)
        await s.stop()
        await asyncio.wait_for(task, 2)
    await client.close()
    lines = _stream_lines(caplog)
    assert s.stats.failed_connects > 10
    assert len(lines) == 2, lines  # the first failure, then one line with the count
    assert lines[0] == (f"ari websocket: cannot connect to 127.0.0.1:{port} "
                        "(connection refused), retrying")
    assert re.search(r", retrying \(\d+ failures in the last 0\.3 s\)$", lines[1]), lines[1]
    assert all(r.levelname == "WARNING" for r in caplog.records if r.name == "ari.events")


async def test_connecting_again_is_logged_at_info_with_the_address_and_the_failures(
    peer: FakeAsterisk, stream: tuple[AriEventStream, Recorder],
    caplog: pytest.LogCaptureFixture,
) -> None:
    s, rec = stream
    with caplog.at_level(logging.INFO, logger="ari.events"):
        await peer.drop_websocket(refuse_s=0.2)
        await peer.wait_for(lambda: rec.resyncs == 2 and s.connected.is_set(), 3, "reconnect")
    where = f"127.0.0.1:{peer.ari_port}"
    lines = _stream_lines(caplog)
    assert lines[0] == f"ari websocket closed by {where} (code 1006), reconnecting"
    assert lines[-1].startswith(f"ari websocket connected to {where} for app acd117 after ")
    assert lines[-1].endswith(" failed attempts")
    assert [r.levelname for r in caplog.records if r.name == "ari.events"][-1] == "INFO"
