"""The phone's own attended transfer through the Stasis adapter, the real core and the
in-process Asterisk: the agent holds the 117 call on the phone, dials a second call from
it (the agents' dialplan sends it to `Stasis(acd117,consult,<number>)`), then presses
Transfer, a REFER with Replaces that Asterisk reports as a ChannelTransfer (ari-only).

baresip 1.0.0, the tests' real phone, has only a blind transfer (no REFER with Replaces),
so the REFER here is the in-process Asterisk's, built as Asterisk 22's sources build it
(tests/fakes/asterisk/controls.py `phone_transfers_attended`)."""

from __future__ import annotations

from typing import Any

import pytest

from acd.vocabulary import records as rec
from acd.vocabulary.events import (
    AgentHungUp,
    ConsultEnded,
    ConsultRequested,
    OutsideAnswered,
    RingAnswered,
)
from tests.ari.routing import RealCore
from tests.ari.test_transfers import FIRE_BRIGADE, FLOWS
from tests.fakes.asterisk import FakeAsterisk

SECOND_CALL_ID = "5f1e2d3c@192.0.2.10"  # the SIP Call-ID of the phone's second call


async def _on_a_call(peer: FakeAsterisk, rig_factory: Any, answer: str = "auto",
                     logged_in: tuple[str, ...] = ("1001",)) -> tuple[Any, str]:
    """1001 answers a 117 call and holds it on the phone; 113 answers as `answer` says."""
    for agent in logged_in:
        peer.register(f"PJSIP/{agent}")
    peer.register(FIRE_BRIGADE, answer=answer)  # type: ignore[arg-type]
    rig = await rig_factory(RealCore(logged_in, flows=FLOWS))
    call = await peer.incoming_call()
    assert call is not None
    await peer.wait_for(lambda: RingAnswered("offer-1") in rig.events, what="answer")
    await rig.settle()
    await peer.hold("offer-1")
    await rig.settle()
    return rig, call


async def _second_call(peer: FakeAsterisk, rig: Any, number: str,
                       device: str = "PJSIP/1001") -> str:
    second = await peer.phone_dials(device, number, SECOND_CALL_ID)
    assert second is not None
    await rig.settle()
    return second


def _transfers(rig: Any) -> list[rec.CallTransferred]:
    return [r for r in rig.core.records if isinstance(r, rec.CallTransferred)]


@pytest.mark.parametrize("refer_on", ["first call", "second call"])
async def test_the_phones_attended_transfer_to_a_number_hands_the_caller_over(
    peer: FakeAsterisk, rig_factory: Any, refer_on: str
) -> None:
    rig, call = await _on_a_call(peer, rig_factory)
    second = await _second_call(peer, rig, "113")
    assert ConsultRequested(call, "1001", "113") in rig.events
    (leg_id,) = rig.app.legs.outside
    await peer.wait_for(lambda: OutsideAnswered(leg_id) in rig.events, what="113 answers")
    await rig.settle()
    bridge = peer.bridges[f"acd117-{call}"]
    assert sorted(bridge.channels) == sorted(["offer-1", leg_id, second]), (
        "the phone's second call talks with 113 in the call's bridge")
    assert peer.channels[second].state == "Up"
    assert peer.channels[call].moh, "the caller on music meanwhile, not hearing them"

    # Phones differ: the REFER comes on the held call naming the second, or the reverse.
    referrer, other = ("offer-1", second) if refer_on == "first call" else (second, "offer-1")
    await peer.phone_transfers_attended(referrer, other, destination="113")
    await peer.wait_for(lambda: peer.channels["offer-1"].gone and peer.channels[second].gone,
                        what="both of the phone's calls ended by acd117")
    await rig.settle()
    assert peer.transfer_answers == [(referrer, "channel_answered")], "NOTIFY 200, once"
    assert sorted(bridge.channels) == sorted([call, leg_id]), "the caller talks with 113"
    assert not peer.channels[call].moh and not peer.channels[call].gone
    assert ConsultEnded(call, "1001", complete=True) in rig.events
    assert AgentHungUp(call) not in rig.events, "the phone's calls were ended by acd117"
    (transfer,) = _transfers(rig)
    assert (transfer.mode, transfer.result, transfer.target) == (
        "attended", "connected", "113")
    assert call not in rig.core.outcomes, "the CDR goes on with 113"
    assert peer.rejected == []


async def test_the_phones_attended_transfer_to_a_centre_gives_the_call_to_its_agent(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    rig, call = await _on_a_call(peer, rig_factory, logged_in=("1001", "2001"))
    peer.register("PJSIP/2001")
    second = await _second_call(peer, rig, "3200")
    await peer.wait_for(lambda: RingAnswered("offer-2") in rig.events, what="2001 answers")
    await rig.settle()
    bridge = peer.bridges[f"acd117-{call}"]
    assert sorted(bridge.channels) == sorted(["offer-1", "offer-2", second])

    await peer.phone_transfers_attended("offer-1", second, destination="3200")
    await peer.wait_for(lambda: peer.channels[second].gone, what="second call ended")
    await rig.settle()
    assert peer.transfer_answers == [("offer-1", "channel_answered")]
    assert sorted(bridge.channels) == sorted([call, "offer-2"])
    assert peer.channels[call].variables["ACD117_ANSWERED_BY"] == "2001"
    assert rig.app.legs.connected_agent(call) is rig.app.offers["offer-2"]
    (transfer,) = _transfers(rig)
    assert (transfer.kind, transfer.mode, transfer.result) == ("centre", "attended",
                                                               "connected")


async def test_an_attended_transfer_to_a_call_acd117_did_not_put_through_is_declined(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    rig, call = await _on_a_call(peer, rig_factory)
    # The second call went elsewhere (not a dialog of this Asterisk: no destination_channel).
    await peer.phone_transfers_attended("offer-1", None, call_id="a9@198.51.100.7",
                                        destination="1003")
    await peer.wait_for(lambda: peer.transfer_answers, what="the phone's answer")
    await rig.settle()
    assert peer.transfer_answers == [("offer-1", "channel_declined")], "NOTIFY 603, once"
    assert sorted(peer.bridges[f"acd117-{call}"].channels) == sorted([call, "offer-1"])
    assert not peer.channels["offer-1"].gone and not peer.channels[call].gone
    assert not any(isinstance(e, ConsultEnded) for e in rig.events)
    assert _transfers(rig) == []


async def test_a_transfer_before_the_number_answers_is_declined_and_hanging_up_cancels(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    rig, call = await _on_a_call(peer, rig_factory, answer="manual")
    second = await _second_call(peer, rig, "113")
    (leg_id,) = rig.app.legs.outside
    await peer.phone_transfers_attended("offer-1", second, destination="113")
    await peer.wait_for(lambda: peer.transfer_answers, what="the phone's answer")
    await rig.settle()
    assert peer.transfer_answers == [("offer-1", "channel_declined")]
    assert not peer.channels[leg_id].gone, "113 still rings: the consultation goes on"

    await peer.agent_hangs_up(second)  # the phone gives up its second call
    await peer.wait_for(lambda: peer.channels[leg_id].gone, what="113 hung up")
    await peer.wait_for(lambda: call in peer.bridges[f"acd117-{call}"].channels,
                        what="the caller back")
    await rig.settle()
    assert ConsultEnded(call, "1001", complete=False) in rig.events
    assert sorted(peer.bridges[f"acd117-{call}"].channels) == sorted([call, "offer-1"])
    assert not peer.channels[call].moh
    (transfer,) = _transfers(rig)
    assert (transfer.mode, transfer.result) == ("attended", "cancelled")


async def test_a_number_not_listed_dialled_from_the_phone_is_rejected_and_the_call_stays(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    rig, call = await _on_a_call(peer, rig_factory)
    second = await _second_call(peer, rig, "999")
    await peer.wait_for(lambda: peer.channels[second].gone, what="second call rejected")
    await rig.settle()
    hangup = peer.requests_to("DELETE", f"/ari/channels/{second}")
    assert [r.query.get("reason") for r in hangup] == ["rejected"]
    assert sorted(peer.bridges[f"acd117-{call}"].channels) == sorted([call, "offer-1"])
    assert not peer.channels[call].moh and rig.app.legs.outside == {}
    assert rig.app.offers["offer-1"].consult is None


async def test_a_second_call_from_a_phone_with_no_117_call_is_rejected(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    rig, call = await _on_a_call(peer, rig_factory, logged_in=("1001", "1002"))
    second = await _second_call(peer, rig, "113", device="PJSIP/1002")
    await peer.wait_for(lambda: peer.channels[second].gone, what="second call rejected")
    await rig.settle()
    assert not any(isinstance(e, ConsultRequested) for e in rig.events)
    assert sorted(peer.bridges[f"acd117-{call}"].channels) == sorted([call, "offer-1"])


async def test_a_second_call_survives_a_websocket_outage_and_its_hang_up_then_cancels(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    rig, call = await _on_a_call(peer, rig_factory)
    second = await _second_call(peer, rig, "113")
    (leg_id,) = rig.app.legs.outside
    await peer.wait_for(lambda: OutsideAnswered(leg_id) in rig.events, what="113 answers")
    await peer.drop_websocket(refuse_s=0.3)
    await peer.wait_for(lambda: rig.stream.stats.connects == 2, 3, "reconnected")
    await rig.settle()
    assert not peer.channels[second].gone, "the resync knows the phone's second call"
    await peer.drop_websocket(refuse_s=0.3)
    await peer.wait_for(lambda: peer.active_socket is None, what="websocket down")
    await peer.agent_hangs_up(second)  # the phone hangs it up, unseen
    assert any(e.get("type") == "StasisEnd" for e in peer.events_missed)
    await peer.wait_for(lambda: rig.stream.stats.connects == 3, 3, "reconnected")
    await peer.wait_for(lambda: peer.channels[leg_id].gone, what="113 hung up")
    await rig.settle()
    assert ConsultEnded(call, "1001", complete=False) in rig.events
    assert sorted(peer.bridges[f"acd117-{call}"].channels) == sorted([call, "offer-1"])
