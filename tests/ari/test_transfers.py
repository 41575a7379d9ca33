"""The phone's Transfer button through the Stasis adapter and the in-process Asterisk:
a blind REFER to a centre re-queues the caller in the call's bridge-less wait and rings the
centre's agent, answered with NOTIFY 200; one to a destination not listed is declined and
changes nothing; an outside number's leg whose end was lost with the events websocket is
reported and forgotten at the resync. (The proof on the real Asterisk:
tests/integration/test_transfers.py.)"""

from __future__ import annotations

from typing import Any

from acd.vocabulary.events import (
    AgentHungUp,
    AgentLoggedIn,
    CallAdopted,
    ConsultEnded,
    ConsultRequested,
    OutsideAnswered,
    OutsideFailed,
    OutsideHungUp,
    PartyAgentHungUp,
    RingAnswered,
    TransferRequested,
)
from config.models import Transfers
from tests.ari.routing import RealCore, call_flows
from tests.fakes.asterisk import FakeAsterisk

FLOWS = call_flows().model_copy(update={"transfers": Transfers.model_validate({
    "trunk": "agency-out", "ring_timeout_s": 5,
    "destinations": [{"code": "3200", "label": "Jawa Barat", "centre": "jabar"},
                     {"code": "113", "label": "Damkar", "number": "113"}]})})
FIRE_BRIGADE = "PJSIP/113@agency-out"


async def test_the_phones_transfer_to_a_centre_rings_it_and_tells_the_phone(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    peer.register("PJSIP/1001")
    peer.register("PJSIP/2001")
    rig = await rig_factory(RealCore(["1001", "2001"], flows=FLOWS))
    call = await peer.incoming_call()
    assert call is not None
    await peer.wait_for(lambda: RingAnswered("offer-1") in rig.events, what="answer")
    await rig.settle()
    assert rig.app.offers["offer-1"].channel_id == "offer-1"
    originate = peer.requests_to("POST", "/ari/channels")[0]
    assert originate.body["variables"]["PJSIP_TRANSFER_HANDLING()"] == "ari-only"

    await peer.phone_transfers("offer-1", "3200")
    await peer.wait_for(lambda: RingAnswered("offer-2") in rig.events, what="province")
    await rig.settle()
    assert TransferRequested(call, "1001", "3200") in rig.events
    assert peer.transfer_answers == [("offer-1", "channel_answered")]
    assert peer.channels["offer-1"].gone
    bridge = peer.bridges[f"acd117-{call}"]
    assert sorted(bridge.channels) == sorted([call, "offer-2"]), "the same bridge"
    assert not peer.channels[call].moh
    assert peer.rejected == []


async def test_a_destination_not_listed_is_declined_and_the_call_stays(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    peer.register("PJSIP/1001")
    rig = await rig_factory(RealCore(["1001"], flows=FLOWS))
    call = await peer.incoming_call()
    await peer.wait_for(lambda: RingAnswered("offer-1") in rig.events, what="answer")
    await peer.phone_transfers("offer-1", "2001")
    await peer.wait_for(lambda: peer.transfer_answers, what="the phone's answer")
    await rig.settle()
    assert peer.transfer_answers == [("offer-1", "channel_declined")], (
        "once: the ChannelTransfer reporting our own answer is not a new request")
    assert sorted(peer.bridges[f"acd117-{call}"].channels) == sorted([call, "offer-1"])
    assert peer.rejected == []


async def _handed_to_113(peer: FakeAsterisk, rig_factory: Any, answer: str) -> tuple[Any, str]:
    """A call answered by 1001 and handed to 113 with the phone's Transfer button; the
    rig and the outside leg's channel id."""
    peer.register("PJSIP/1001")
    peer.register(FIRE_BRIGADE, answer=answer)  # type: ignore[arg-type]
    rig = await rig_factory(RealCore(["1001"], flows=FLOWS))
    await peer.incoming_call()
    await peer.wait_for(lambda: RingAnswered("offer-1") in rig.events, what="answer")
    await peer.phone_transfers("offer-1", "113")
    await peer.wait_for(lambda: rig.app.legs.outside, what="113 dialled")
    await rig.settle()
    (leg_id,) = rig.app.legs.outside
    return rig, leg_id


async def _gone_during_an_outage(peer: FakeAsterisk, rig: Any, channel_id: str) -> None:
    """The events websocket drops; `channel_id` ends meanwhile (its StasisEnd and
    ChannelDestroyed are lost [07]); the websocket comes back and acd117 resyncs."""
    await peer.drop_websocket(refuse_s=0.3)
    await peer.wait_for(lambda: peer.active_socket is None, what="websocket down")
    await peer.agent_hangs_up(channel_id)
    assert any(e.get("type") == "ChannelDestroyed" for e in peer.events_missed)
    await peer.wait_for(lambda: rig.stream.stats.connects == 2, 3, "reconnected")
    await rig.settle()


async def test_a_number_that_hung_up_unseen_ends_the_call_at_the_resync(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    rig, leg_id = await _handed_to_113(peer, rig_factory, "auto")
    call = next(iter(rig.app.calls))
    assert OutsideAnswered(leg_id) in rig.events
    await _gone_during_an_outage(peer, rig, leg_id)
    await peer.wait_for(lambda: rig.core.outcomes.get(call) == "answered", what="call ended")
    assert OutsideHungUp(call) in rig.events
    assert rig.app.legs.outside == {}, "the leg's index entry is dropped"
    assert peer.channels[call].gone, "the caller, left alone, is hung up"


async def test_a_ringing_number_gone_unseen_brings_the_call_back_to_the_queue(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    rig, leg_id = await _handed_to_113(peer, rig_factory, "manual")
    call = next(iter(rig.app.calls))
    peer.register("PJSIP/1002")
    rig.core.emit(AgentLoggedIn("1002", "PJSIP/1002"))
    await _gone_during_an_outage(peer, rig, leg_id)
    assert OutsideFailed(leg_id, "no_answer") in rig.events
    assert rig.app.legs.outside == {}
    await peer.wait_for(lambda: RingAnswered("offer-3") in rig.events, what="1002 rung")
    assert not peer.channels[call].gone


async def _consulting_the_province(peer: FakeAsterisk, rig_factory: Any,
                                   conference: bool = False) -> tuple[Any, str]:
    """1001 answers a call, then consults Jawa Barat from the console: 2001 answers."""
    peer.register("PJSIP/1001")
    peer.register("PJSIP/2001")
    rig = await rig_factory(RealCore(["1001", "2001"], flows=FLOWS))
    call = await peer.incoming_call()
    assert call is not None
    await peer.wait_for(lambda: RingAnswered("offer-1") in rig.events, what="answer")
    await rig.settle()
    rig.core.emit(ConsultRequested(call, "1001", "3200", conference))
    await peer.wait_for(lambda: RingAnswered("offer-2") in rig.events, what="2001 answers")
    await rig.settle()
    return rig, call


async def test_a_consultation_with_the_province_is_completed_on_the_same_bridge(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    rig, call = await _consulting_the_province(peer, rig_factory)
    bridge = peer.bridges[f"acd117-{call}"]
    assert sorted(bridge.channels) == ["offer-1", "offer-2"], "the two agents talk"
    assert peer.channels[call].moh, "the caller hears music meanwhile"
    originate = peer.requests_to("POST", "/ari/channels")[1]
    assert originate.body["variables"]["PJSIP_TRANSFER_HANDLING()"] == "ari-only"

    rig.core.emit(ConsultEnded(call, "1001", complete=True))
    await peer.wait_for(lambda: peer.channels["offer-1"].gone, what="1001 released")
    await rig.settle()
    assert sorted(bridge.channels) == sorted([call, "offer-2"])
    assert not peer.channels[call].moh
    assert peer.channels[call].variables["ACD117_ANSWERED_BY"] == "2001"
    assert AgentHungUp(call) not in rig.events, "1001's leg was ended by acd117"
    assert rig.app.legs.connected_agent(call) is rig.app.offers["offer-2"]

    await peer.agent_hangs_up("offer-2")  # now the call's agent: the call ends
    await peer.wait_for(lambda: rig.core.outcomes.get(call) == "answered", what="call ended")
    assert AgentHungUp(call) in rig.events
    assert peer.rejected == []


async def test_the_province_hanging_up_a_consultation_gives_the_caller_back(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    rig, call = await _consulting_the_province(peer, rig_factory)
    await peer.agent_hangs_up("offer-2")
    await peer.wait_for(lambda: PartyAgentHungUp(call, "offer-2", "2001") in rig.events,
                        what="the party's hang-up")
    await peer.wait_for(lambda: call in peer.bridges[f"acd117-{call}"].channels,
                        what="the caller back")
    await rig.settle()
    assert sorted(peer.bridges[f"acd117-{call}"].channels) == sorted([call, "offer-1"])
    assert not peer.channels[call].moh and not peer.channels[call].gone
    assert AgentHungUp(call) not in rig.events
    assert peer.rejected == []


async def test_a_conference_with_the_province_puts_three_in_the_bridge(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    rig, call = await _consulting_the_province(peer, rig_factory, conference=True)
    bridge = peer.bridges[f"acd117-{call}"]
    assert sorted(bridge.channels) == sorted([call, "offer-1", "offer-2"])
    await peer.agent_hangs_up("offer-1")  # the first agent leaves: 2001 has the caller
    await peer.wait_for(lambda: rig.app.legs.connected_agent(call) is rig.app.offers.get(
        "offer-2"), what="handed to 2001")
    await rig.settle()
    assert sorted(bridge.channels) == sorted([call, "offer-2"])
    assert not peer.channels[call].gone


async def test_a_restart_during_a_consultation_gives_the_caller_back_to_their_agent(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    """acd117 dies while 1001 consults the province (the caller out of the bridge, on
    music): the next process adopts the call with 1001, not with the agent consulted, whose
    leg is ended, and brings the caller back into the call's bridge."""
    first, call = await _consulting_the_province(peer, rig_factory)
    assert call not in peer.bridges[f"acd117-{call}"].channels
    await first.stop()
    await peer.drop_websocket()
    second = await rig_factory(RealCore(["2001"], flows=FLOWS, offer_prefix="new"))
    await second.settle()
    (adopted,) = [e for e in second.events if isinstance(e, CallAdopted)]
    assert (adopted.call_id, adopted.agent_id) == (call, "1001")
    await peer.wait_for(lambda: peer.channels["offer-2"].gone, what="the consulted leg ended")
    await peer.wait_for(lambda: call in peer.bridges[f"acd117-{call}"].channels,
                        what="the caller back in the bridge")
    assert sorted(peer.bridges[f"acd117-{call}"].channels) == sorted([call, "offer-1"])
    assert not peer.channels[call].moh and not peer.channels[call].gone
    await peer.caller_hangs_up(call)
    await peer.wait_for(lambda: peer.channels["offer-1"].gone, what="1001's leg hung up")
    assert peer.rejected == []
