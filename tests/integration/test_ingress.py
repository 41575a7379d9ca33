"""Callers from a carrier's SIP trunk: a SIP header names the caller's regency, and a
SIP user agent (baresip) plays the carrier with its own BYE."""

from __future__ import annotations

import uuid

from tests.integration.asterisk import TRUNK_PASSWORD
from tests.integration.scenario import MOBILE, call_row, ready_agent


async def test_a_cell_region_header_from_the_trunk_routes_the_call_to_that_regency(
        acd117, phones, ami, db):
    acd = await acd117()
    await ready_agent(acd, phones, "1001")
    mark = ami.mark()
    caller = f"t-{uuid.uuid4().hex[:12]}"
    # 117 from the carrier, no DID rule: only the header says Kota Bandung (32.73)
    await ami.originate_sip_caller(number="117", caller_id=f'"Budi" <{MOBILE}>',
                                   channel_id=caller,
                                   headers={"X-Carrier": "telkomsel", "X-Cell-Region": "32.73"})
    entered = await ami.wait_event("Newchannel", Channel="PJSIP/trunk-telkomsel-*", after=mark)
    call_id = entered["Uniqueid"]
    await ami.bridged_with(call_id, "PJSIP/1001-", after=mark, timeout=20)
    await ami.hangup(await ami.channel_name(caller))
    call = await call_row(db, call_id)
    assert (call["region_code"], call["region_source"], call["trunk"]) == (
        "32.73", "telkomsel-cell-region", "trunk-telkomsel")


async def test_a_sip_caller_through_the_trunk_is_answered_and_its_bye_ends_the_call(
        acd117, phones, ami, db):
    acd = await acd117()
    agent = await ready_agent(acd, phones, "1002")
    carrier = await phones("carrier", user=MOBILE, register=False, password=TRUNK_PASSWORD,
                           auth_user="trunk-telkomsel", display="Budi Santoso")
    mark = ami.mark()
    await carrier.command("dial", "sip:+62227100117@127.0.0.1")
    entered = await ami.wait_event("Newchannel", Channel="PJSIP/trunk-telkomsel-*", after=mark)
    call_id = entered["Uniqueid"]
    await ami.bridged_with(call_id, "PJSIP/1002-", after=mark, timeout=20)
    await carrier.hangup()  # BYE
    await agent.wait_event("CALL_CLOSED", timeout=10)
    call = await call_row(db, call_id)
    assert (call["outcome"], call["agent_id"], call["region_code"]) == ("answered", "1002",
                                                                       "32.73")
    assert call["caller"] == MOBILE
