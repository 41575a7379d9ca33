"""Supervisor listen / whisper / barge with ARI snoop channels (scenario 09)."""

from __future__ import annotations

from typing import Any

import pytest

from acd.vocabulary.events import RingAnswered
from tests.ari.routing import RealCore
from tests.fakes.asterisk import FakeAsterisk


async def connected_call(peer: FakeAsterisk, rig_factory: Any) -> tuple[Any, str]:
    peer.register("PJSIP/1001")
    peer.register("PJSIP/9001")  # the supervisor's phone
    rig = await rig_factory(RealCore())
    call = await peer.incoming_call()
    assert call is not None
    await peer.wait_for(lambda: RingAnswered("offer-1") in rig.events)
    await rig.settle()
    return rig, call


def members(peer: FakeAsterisk, bridge: str) -> int:
    return len(peer.bridges[bridge].channels) if bridge in peer.bridges else 0


def snoops(peer: FakeAsterisk) -> list[Any]:
    return [c for c in peer.channels.values() if c.kind == "snoop" and not c.gone]


async def test_listen_then_whisper_then_barge(peer: FakeAsterisk, rig_factory: Any) -> None:
    rig, call = await connected_call(peer, rig_factory)
    session = await rig.app.monitor(call, "PJSIP/9001", "listen")
    sup = f"{session}-sup"
    await peer.wait_for(lambda: members(peer, session) == 2, what="supervisor bridge")
    [snoop] = snoops(peer)
    assert (snoop.spied, snoop.spy, snoop.whisper) == ("offer-1", "both", "none")
    assert sorted(peer.bridges[session].channels) == sorted([snoop.id, sup])
    ring = peer.requests_to("POST", "/ari/channels")[-1].query
    assert ring["endpoint"] == "PJSIP/9001" and ring["appArgs"] == f"supervisor,{session}"

    await rig.app.change_monitor(session, "whisper")
    [whisper] = snoops(peer)
    assert whisper.id != snoop.id and peer.channels[snoop.id].gone
    assert (whisper.spy, whisper.whisper) == ("both", "out")  # the agent hears it [09]
    assert sorted(peer.bridges[session].channels) == sorted([whisper.id, sup])

    await rig.app.change_monitor(session, "barge")
    assert snoops(peer) == []
    assert sup in peer.bridges[f"acd117-{call}"].channels
    assert sup not in peer.bridges[session].channels

    await rig.app.change_monitor(session, "listen")
    assert sup not in peer.bridges[f"acd117-{call}"].channels
    [listen] = snoops(peer)
    assert sorted(peer.bridges[session].channels) == sorted([listen.id, sup])
    await rig.app.stop_monitor(session)
    assert peer.channels[sup].gone and session not in peer.bridges
    assert peer.rejected == []


async def test_agent_hanging_up_ends_the_monitoring(peer: FakeAsterisk, rig_factory: Any) -> None:
    rig, call = await connected_call(peer, rig_factory)
    session = await rig.app.monitor(call, "PJSIP/9001", "listen")
    await peer.wait_for(lambda: members(peer, session) == 2)
    await peer.agent_hangs_up("offer-1")
    # The snoop ends by itself with the agent [09]; the supervisor is hung up and its
    # bridge destroyed rather than left alone in it.
    await peer.wait_for(lambda: peer.channels[f"{session}-sup"].gone, what="supervisor hung up")
    await peer.wait_for(lambda: session not in peer.bridges, what="monitor bridge destroyed")
    assert rig.app.supervisor.sessions == {}


async def test_monitoring_needs_a_connected_call(peer: FakeAsterisk, rig_factory: Any) -> None:
    rig = await rig_factory(lambda event: [])
    call = await peer.incoming_call()
    with pytest.raises(LookupError):
        await rig.app.monitor(call or "", "PJSIP/9001", "listen")
