"""The ARI REST client against the in-process Asterisk (and its ARI documents)."""

from __future__ import annotations

import asyncio
import base64

import pytest
from aiohttp import web

from ari.client import (
    AllocationFailed,
    AriClient,
    AriConflict,
    AriNotFound,
    AriServerError,
    AriTransportError,
    AriUnauthorized,
    AriUnavailable,
)
from tests.fakes.asterisk import FakeAsterisk
from tests.fakes.asterisk.swagger import ApiDocs


async def test_originate_to_an_unregistered_endpoint_is_allocation_failed(
    peer: FakeAsterisk, client: AriClient
) -> None:
    with pytest.raises(AllocationFailed) as info:
        await client.originate("PJSIP/1003", app="acd117", app_args=("agent", "c", "a"))
    assert info.value.status == 500
    assert info.value.message == "Allocation failed"


async def test_originate_sends_basic_auth_and_no_api_key(
    peer: FakeAsterisk, client: AriClient
) -> None:
    peer.register("PJSIP/1001", answer="manual")
    channel = await client.originate(
        "PJSIP/1001",
        app="acd117",
        app_args=("agent", "call-1", "a1"),
        caller_id='"117 32.73 Kota Bandung" <+6281234567890>',
        timeout=15,
        channel_id="offer-1",
        variables={"ACD117_CALL_ID": "call-1"},
    )
    assert channel.id == "offer-1"
    assert channel.state == "Down"
    request = peer.requests_to("POST", "/ari/channels")[0]
    assert "api_key" not in request.query
    # The '+' of the caller's number survives the query string.
    assert request.query["callerId"] == '"117 32.73 Kota Bandung" <+6281234567890>'
    assert request.query["appArgs"] == "agent,call-1,a1"
    assert request.body == {"variables": {"ACD117_CALL_ID": "call-1"}}


async def test_wrong_password_is_unauthorized(peer: FakeAsterisk) -> None:
    bad = AriClient(peer.ari_url, peer.ari_user, "wrong")
    try:
        with pytest.raises(AriUnauthorized):
            await bad.list_channels()
    finally:
        await bad.close()


async def test_unset_variable_is_none_but_a_missing_channel_raises(
    peer: FakeAsterisk, client: AriClient
) -> None:
    call = await _call_in_stasis(peer, client)
    assert await client.get_variable(call, "NOT_SET_ANYWHERE") is None
    await client.set_variable(call, "ACD117_TIER", "province")
    assert await client.get_variable(call, "ACD117_TIER") == "province"
    await client.set_variable(call, "ACD117_TIER", "")  # empty = unset [10]
    assert await client.get_variable(call, "ACD117_TIER") is None
    with pytest.raises(AriNotFound):
        await client.get_variable("no-such-channel", "ACD117_TIER")


async def test_a_sip_header_the_invite_lacks_is_none_although_asterisk_answers_500(
    peer: FakeAsterisk, client: AriClient
) -> None:
    await client.session.ws_connect(client.events_url("acd117"), headers=client.auth_headers)
    call = await peer.incoming_call(invite_headers=[("X-Cell-Region", "32.73")])
    assert call is not None
    assert await client.get_sip_header(call, "x-cell-region") == "32.73"
    # PJSIP_HEADER(read,...) of a missing header fails: 500 "Unable to read provided
    # function" [10], not 404.
    assert await client.get_sip_header(call, "X-Carrier-Zone") is None
    assert [r.query["variable"] for r in peer.requests_to(
        "GET", f"/ari/channels/{call}/variable")][-1] == "PJSIP_HEADER(read,X-Carrier-Zone)"
    with pytest.raises(AriNotFound):
        await client.get_sip_header("no-such-channel", "X-Cell-Region")
    peer.fail_requests("GET", "/variable", 500, "Internal Server Error")
    with pytest.raises(AriServerError):
        await client.get_sip_header(call, "X-Cell-Region")
    for name in ("X-Cell,2", "X-Cell*", "X-Cell)", ""):
        with pytest.raises(ValueError):
            await client.get_sip_header(call, name)  # would change PJSIP_HEADER's arguments


async def test_duplicate_bridge_id_is_a_conflict(peer: FakeAsterisk, client: AriClient) -> None:
    await client.create_bridge(bridge_id="b1")
    with pytest.raises(AriConflict):
        await client.create_bridge(bridge_id="b1")


async def test_gone_channel_is_not_found(peer: FakeAsterisk, client: AriClient) -> None:
    with pytest.raises(AriNotFound):
        await client.hangup("no-such-channel", "normal")


async def test_asterisk_shutting_down_is_unavailable_even_with_an_html_body() -> None:
    async def html_503(request: web.Request) -> web.Response:
        return web.Response(status=503, text="<html><title>503 Service Unavailable</title>",
                            content_type="text/html")

    app = web.Application()
    app.router.add_get("/ari/asterisk/info", html_503)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    client = AriClient(f"http://127.0.0.1:{port}", "u", "p")
    try:
        with pytest.raises(AriUnavailable) as info:
            await client.asterisk_info()
        assert "503 Service Unavailable" in info.value.message
    finally:
        await client.close()
        await runner.cleanup()


async def test_refused_connection_is_a_transport_error() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    client = AriClient(f"http://127.0.0.1:{port}/ari", "u", "p", timeout=1.0)
    try:
        with pytest.raises(AriTransportError) as info:
            await client.list_channels()
        assert info.value.status is None
    finally:
        await client.close()


async def test_a_request_the_server_drops_unread_is_sent_again() -> None:
    """Asterisk at its `sessionlimit` accepts a connection and closes it at once: the
    request was never read, so it goes again (twice at most)."""
    drops = 0
    served: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        if len(served) < drops:
            served.append(b"dropped")
            writer.close()
            return
        served.append(head.split(b"\r\n", 1)[0])
        writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = AriClient(f"http://127.0.0.1:{port}/ari", "u", "p", timeout=1.0)
    try:
        drops = 2  # (a POST: aiohttp would resend a GET once by itself)
        await client.answer("c1")
        assert served == [b"dropped", b"dropped", b"POST /ari/channels/c1/answer HTTP/1.1"]
        served.clear()
        drops = 3
        with pytest.raises(AriTransportError):
            await client.answer("c1")
        assert served == [b"dropped"] * 3
    finally:
        await client.close()
        server.close()
        await server.wait_closed()


def test_base_url_without_path_gets_the_ari_prefix() -> None:
    assert str(AriClient("http://127.0.0.1:8088", "u", "p").base_url) == "http://127.0.0.1:8088/ari"
    assert str(AriClient("http://h:8088/ari/", "u", "p").events_url("acd117")) == (
        "ws://h:8088/ari/events?app=acd117"
    )


async def test_every_request_the_client_makes_is_in_the_ari_documents(
    api_docs: ApiDocs, peer: FakeAsterisk, client: AriClient
) -> None:
    peer.register("PJSIP/1001", answer="auto")
    call = await _call_in_stasis(peer, client)
    await client.asterisk_info()
    await client.list_applications()
    await client.get_application("acd117")
    await client.answer(call)
    await client.ring(call)
    playback = await client.play(call, ["sound:welcome-117", "number:3"], playback_id="pb-1")
    await client.get_playback(playback.id)
    await client.stop_playback(playback.id)
    await client.start_moh(call, "default")
    await client.stop_moh(call)
    await client.set_variable(call, "ACD117_TIER", "kabkota")
    await client.get_variable(call, "ACD117_TIER")
    await client.originate("PJSIP/1001", app="acd117", app_args=("agent", call, "a1"),
                           caller_id="x <1>", timeout=5, channel_id="offer-9",
                           variables={"ACD117_CALL_ID": call})
    await peer.wait_for(lambda: peer.channels["offer-9"].in_stasis, what="agent answer")
    bridge = await client.create_bridge(bridge_id="acd117-b", name="call")
    await client.add_channels(bridge.id, [call, "offer-9"])
    await client.start_bridge_moh(bridge.id, "default")
    await client.stop_bridge_moh(bridge.id)
    await client.record_bridge(bridge.id, name="rec-1", format="wav", if_exists="append")
    await client.get_live_recording("rec-1")
    await client.stop_live_recording("rec-1")
    snoop = await client.snoop("offer-9", app="acd117", spy="both", whisper="out",
                               app_args=("snoop", "m1"), snoop_id="snoop-1")
    await client.hangup(snoop.id)
    await client.remove_channels(bridge.id, ["offer-9"])
    await client.hangup("offer-9", "answered_elsewhere")
    await client.continue_in_dialplan(call, context="acd117-fallback", extension="s", priority=1)
    await client.destroy_bridge(bridge.id)
    created = await client.create_channel("PJSIP/1001", app="acd117", app_args=("created",),
                                          channel_id="created-1", variables={"A": "b"})
    await client.dial(created.id, timeout=5)
    await client.send_dtmf(created.id, "12")
    await client.subscribe("acd117", ["endpoint:PJSIP/1001", "deviceState:PJSIP/1001"])
    await client.unsubscribe("acd117", ["deviceState:PJSIP/1001"])
    await client.list_stored_recordings()
    await client.get_stored_recording("rec-1")
    await client.list_endpoints("PJSIP")
    await client.get_endpoint("PJSIP", "1001")
    await client.set_device_state("Stasis:acd117-agent-a1", "NOT_INUSE")
    await client.list_channels()
    await client.list_bridges()
    assert peer.rejected == []
    assert len(peer.requests) >= 30


async def _call_in_stasis(peer: FakeAsterisk, client: AriClient) -> str:
    # A websocket must be connected for Stasis() to work [07].
    await client.session.ws_connect(client.events_url("acd117"), headers=client.auth_headers)
    call = await peer.incoming_call()
    assert call is not None
    return call


def test_basic_auth_header_value() -> None:
    c = AriClient("http://h/ari", "acd117", "s3cret")
    expected = "Basic " + base64.b64encode(b"acd117:s3cret").decode()
    assert c.auth_headers == {"Authorization": expected}
