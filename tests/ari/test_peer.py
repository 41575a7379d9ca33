"""The in-process Asterisk itself: it must refuse what Asterisk's documents do not allow
and send events shaped as events.json says, or the other tests prove nothing."""

from __future__ import annotations

from typing import Any

import pytest

from acd.vocabulary.events import RingAnswered
from ari.client import AriBadRequest, AriClient, AriError
from tests.ari.routing import RealCore
from tests.fakes.asterisk import FakeAsterisk
from tests.fakes.asterisk.swagger import ApiDocs


@pytest.mark.parametrize(
    ("method", "segments", "params", "status"),
    [
        ("POST", ("channels",), {"endpoint": "PJSIP/1001", "api_key": "u:p"}, 400),
        ("POST", ("channels",), {"app": "acd117"}, 400),  # endpoint is required
        ("DELETE", ("channels", "c1"), {"reason": "because"}, 400),
        ("POST", ("channels", "c1", "snoop"), {"app": "acd117", "spy": "all"}, 400),
        ("POST", ("channels",), {"endpoint": "PJSIP/1001", "timeout": "soon"}, 400),
        ("PATCH", ("channels", "c1"), {}, 405),
        ("GET", ("queues",), {}, 404),
    ],
)
async def test_requests_outside_the_documents_are_rejected(
    api_docs: ApiDocs, peer: FakeAsterisk, client: AriClient,
    method: str, segments: tuple[str, ...], params: dict[str, str], status: int,
) -> None:
    with pytest.raises(AriError) as info:
        await client.request(method, segments, params)
    assert info.value.status == status
    assert peer.rejected and peer.rejected[-1].method == method


async def test_documented_request_to_a_missing_channel_is_not_found_not_rejected(
    api_docs: ApiDocs, peer: FakeAsterisk, client: AriClient
) -> None:
    with pytest.raises(AriError) as info:
        await client.request("DELETE", ("channels", "c1"), {"reason": "no_answer"})
    assert info.value.status == 404 and peer.rejected == []


async def test_variable_without_a_name_is_a_bad_request(
    api_docs: ApiDocs, client: AriClient
) -> None:
    with pytest.raises(AriBadRequest):
        await client.request("POST", ("channels", "c1", "variable"), {"value": "x"})


async def test_every_event_sent_has_the_fields_events_json_requires(
    api_docs: ApiDocs, peer: FakeAsterisk, rig_factory: Any
) -> None:
    peer.register("PJSIP/1001")
    peer.register("PJSIP/1002", answer="reject")
    rig = await rig_factory(RealCore(["1002", "1001"]))  # 1002 idle longest: rung first
    call = await peer.incoming_call()
    await peer.wait_for(lambda: RingAnswered("offer-2") in rig.events)
    await rig.settle()
    await rig.app.monitor(call or "", "PJSIP/1001", "listen")
    await rig.settle()
    await peer.caller_hangs_up(call or "")
    await rig.settle()
    kinds = {e["type"] for e in peer.events_sent}
    assert {"StasisStart", "StasisEnd", "Dial", "ChannelDestroyed", "PlaybackFinished",
            "ChannelEnteredBridge", "RecordingFinished"} <= kinds
    for event in peer.events_sent:
        assert api_docs.missing_event_fields(event) == [], event
