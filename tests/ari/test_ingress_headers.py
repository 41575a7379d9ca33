"""SIP headers the ingress rules read but the dialplan does not pass: read from the INVITE
before the call reaches the routing core (tests.ari.routing)."""

from __future__ import annotations

from typing import Any

from acd.vocabulary.events import CallAdopted, CallArrived, CallerHungUp, RingAnswered
from tests.ari.routing import RealCore
from tests.fakes.asterisk import FakeAsterisk

# The Stasis arguments as asterisk/extensions.conf makes them: these two headers only
# (an empty value: the INVITE had none).
DIALPLAN_HEADERS = [("P-Asserted-Identity", "<sip:+6281234567890@10.20.30.40>"),
                    ("P-Access-Network-Info", "")]


def header_reads(peer: FakeAsterisk, call: str | None) -> list[str]:
    return [r.query["variable"] for r in peer.requests_to("GET", f"/ari/channels/{call}/variable")]


def arrival(rig: Any, call: str | None) -> CallArrived:
    [arrived] = [e for e in rig.events if isinstance(e, CallArrived) and e.call_id == call]
    return arrived


async def test_a_header_a_rule_reads_is_read_from_the_invite_before_the_call_arrives(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    asked: list[str | None] = []

    def rules_read(trunk: str | None) -> list[str]:
        asked.append(trunk)
        return ["X-Cell-Region", "X-Carrier-Zone", "p-asserted-identity"]

    rig = await rig_factory(RealCore(), ingress_headers=rules_read)
    call = await peer.incoming_call(headers=DIALPLAN_HEADERS,
                                    invite_headers=[("x-cell-region", "32.73")])
    await peer.wait_for(lambda: any(isinstance(e, CallArrived) for e in rig.events))
    assert asked == ["trunk-telkomsel"]
    # Only what the dialplan did not pass; a header it passed empty is not asked again.
    assert sorted(header_reads(peer, call)) == [
        "PJSIP_HEADER(read,X-Carrier-Zone)", "PJSIP_HEADER(read,X-Cell-Region)"]
    ingress = arrival(rig, call).ingress
    assert ingress.header("X-Cell-Region") == "32.73"
    assert ingress.header("X-Carrier-Zone") is None  # not in the INVITE: 500 from Asterisk
    assert ingress.header("P-Asserted-Identity") == "<sip:+6281234567890@10.20.30.40>"
    assert peer.rejected == []


async def test_without_a_rule_reading_other_headers_the_call_arrives_without_a_request(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    rig = await rig_factory(RealCore(),
                            ingress_headers=lambda trunk: ["P-Access-Network-Info"])
    call = await peer.incoming_call(headers=DIALPLAN_HEADERS)
    await peer.wait_for(lambda: any(isinstance(e, CallArrived) for e in rig.events))
    await rig.settle()
    assert header_reads(peer, call) == []


async def test_a_header_that_cannot_be_read_in_time_never_loses_the_call(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    peer.register("PJSIP/1001")
    rig = await rig_factory(RealCore(), ingress_headers=lambda trunk: ["X-Slow"],
                            header_timeout_s=0.0)
    slow = await peer.incoming_call(invite_headers=[("X-Slow", "32.73")])
    await peer.wait_for(lambda: RingAnswered("offer-1") in rig.events, what="served without it")
    assert arrival(rig, slow).ingress.header("X-Slow") is None

    rig.app.header_timeout_s = 1.0
    peer.fail_requests("GET", "/variable", 503, "Asterisk not booted")
    failed = await peer.incoming_call(invite_headers=[("X-Slow", "32.73")])
    await peer.wait_for(lambda: any(isinstance(e, CallArrived) and e.call_id == failed
                                    for e in rig.events), what="arrived without it")
    assert arrival(rig, failed).ingress.header("X-Slow") is None


async def test_a_caller_hanging_up_while_headers_are_read_arrives_then_hangs_up(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    rig = await rig_factory(lambda event: [], ingress_headers=lambda trunk: ["X-Cell-Region"])
    call = await peer.incoming_call(invite_headers=[("X-Cell-Region", "32.73")])
    assert call is not None
    await peer.caller_hangs_up(call)  # StasisEnd overtakes the answer to the GET
    await rig.settle()
    assert [type(e) for e in rig.events] == [CallArrived, CallerHungUp]
    assert call not in rig.app.calls


async def test_a_readopted_call_is_routed_with_the_headers_it_came_with(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    rules = {"ingress_headers": lambda trunk: ["X-Cell-Region"]}
    first = await rig_factory(RealCore(), **rules)
    call = await peer.incoming_call(invite_headers=[("X-Cell-Region", "32.73")])
    await peer.wait_for(lambda: any(isinstance(e, CallArrived) for e in first.events))
    await first.stop()
    await peer.drop_websocket()
    second = await rig_factory(RealCore(offer_prefix="new"), **rules)
    await second.settle()
    [adopted] = [e for e in second.events if isinstance(e, CallAdopted)]
    assert adopted.call_id == call and adopted.ingress.header("X-Cell-Region") == "32.73"
