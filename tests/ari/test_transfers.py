"""The phone's Transfer button through the Stasis adapter and the in-process Asterisk:
a blind REFER to a centre re-queues the caller in the call's bridge-less wait and rings the
centre's agent, answered with NOTIFY 200; one to a destination not listed is declined and
changes nothing. (The proof on the real Asterisk: tests/integration/test_transfers.py.)"""

from __future__ import annotations

from typing import Any

from acd.vocabulary.events import RingAnswered, TransferRequested
from config.models import Transfers
from tests.ari.routing import RealCore, call_flows
from tests.fakes.asterisk import FakeAsterisk

FLOWS = call_flows().model_copy(update={"transfers": Transfers.model_validate({
    "destinations": [{"code": "3200", "label": "Jawa Barat", "centre": "jabar"}]})})


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
