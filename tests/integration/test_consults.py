"""Consulting another centre, on a real Asterisk with real phones: the Bandung agent (1002,
at the console) brings the province (Jawa Barat, agent 2001's baresip phone) into a 117
call: an attended transfer completed, one cancelled, and a three-way conference the first
agent leaves; and a consultation cut by a crash of acd117. The caller is never cut off;
the record says who, to where and how it ended."""

from __future__ import annotations

import asyncio

from tests.integration.scenario import call_row, ready_agent, rows, until_agent, until_call
from tests.integration.test_transfers import TRANSFERS, at_the_console_on_a_call

PROVINCE = "3200"  # bpbd-jawa-barat in test_transfers.TRANSFERS


def uid_of(ami, channel_prefix: str, after: int) -> str:
    """The Uniqueid of the channel named `channel_prefix...` that last entered a bridge."""
    entered = [e for e in ami.events[after:] if e.get("Event") == "BridgeEnter"
               and e.get("Channel", "").startswith(channel_prefix)]
    assert entered, f"no {channel_prefix} channel entered a bridge"
    return entered[-1]["Uniqueid"]


async def consulting_the_province(acd117, phones, ami, dsn: str, *, conference: bool = False):
    """1002 on a call consults Jawa Barat; 2001's phone answers and joins 1002 in the call's
    bridge: (acd117, 1002's phone, 2001's phone, console token, call id, AMI mark)."""
    acd, _line, desk, token, call_id = await at_the_console_on_a_call(
        acd117, phones, ami, dsn, agency=None)
    province = await ready_agent(acd, phones, "2001")
    mark = ami.mark()
    status, body = await acd.post("/api/agent/consult",
                                  {"to": PROVINCE, "conference": conference}, token=token)
    assert status == 202, body
    agent_1002 = uid_of(ami, "PJSIP/1002-", 0)
    await ami.rejoined(agent_1002, "PJSIP/2001-", after=mark, timeout=15)
    await until_agent(acd, "2001", state="on_call")
    return acd, desk, province, token, call_id, mark


async def test_a_consultation_with_the_province_hands_the_caller_to_its_agent(
        acd117, phones, ami, db, migrated_dsn):
    acd, desk, _province, token, call_id, mark = await consulting_the_province(
        acd117, phones, ami, migrated_dsn)
    await ami.wait_event("MusicOnHoldStart", after=mark, Uniqueid=call_id)
    assert ami.together(call_id, "PJSIP/1002-", mark) is None, "the caller is on hold"
    assert ami.together(call_id, "PJSIP/2001-", 0) is None, "and does not hear the agents"
    await asyncio.sleep(1.0)  # the agents talk
    desk_mark, mark = desk.mark(), ami.mark()
    status, body = await acd.post("/api/agent/consult/complete", {}, token=token)
    assert status == 202, body
    await ami.rejoined(call_id, "PJSIP/2001-", after=mark, timeout=10)
    await desk.wait_event("CALL_CLOSED", after=desk_mark)
    await until_agent(acd, "1002", state="after_call_work")
    await asyncio.sleep(1.0)
    assert ami.together(call_id, "PJSIP/2001-", 0) is not None, "the caller talks with 2001"
    await ami.hang_up_caller(call_id)

    (transfer,) = await rows(db, "SELECT * FROM call_transfers WHERE call_id = $1", call_id)
    assert (transfer["agent_id"], transfer["from_centre"], transfer["kind"],
            transfer["target"], transfer["mode"], transfer["result"]) == (
        "1002", "bpbd-kota-bandung", "centre", "bpbd-jawa-barat", "attended", "connected")
    call = await call_row(db, call_id)
    assert (call["outcome"], call["agent_id"], call["answer_tier"]) == (
        "answered", "2001", "province")
    assert call["hold_s"] >= 1.0
    hops = await rows(db, "SELECT reason, centre_id FROM call_hops WHERE call_id = $1"
                      " ORDER BY at", call_id, n=2)
    assert [(h["reason"], h["centre_id"]) for h in hops] == [
        ("arrival", "bpbd-kota-bandung"), ("transfer", "bpbd-jawa-barat")]


async def test_a_consultation_with_the_province_cancelled_gives_the_caller_back(
        acd117, phones, ami, db, migrated_dsn):
    acd, _desk, province, token, call_id, _mark = await consulting_the_province(
        acd117, phones, ami, migrated_dsn)
    province_mark, mark = province.mark(), ami.mark()
    status, body = await acd.post("/api/agent/consult/cancel", {}, token=token)
    assert status == 202, body
    await province.wait_event("CALL_CLOSED", after=province_mark)
    await ami.rejoined(call_id, "PJSIP/1002-", after=mark)
    await until_agent(acd, "2001", state="available")
    await ami.hang_up_caller(call_id)
    (transfer,) = await rows(db, "SELECT * FROM call_transfers WHERE call_id = $1", call_id)
    assert (transfer["kind"], transfer["mode"], transfer["result"]) == (
        "centre", "attended", "cancelled")
    call = await call_row(db, call_id)
    assert (call["outcome"], call["agent_id"]) == ("answered", "1002")


async def test_a_conference_with_the_province_goes_on_when_the_first_agent_leaves(
        acd117, phones, ami, db, migrated_dsn):
    acd, desk, _province, _token, call_id, _mark = await consulting_the_province(
        acd117, phones, ami, migrated_dsn, conference=True)
    assert ami.together(call_id, "PJSIP/2001-", 0) is not None, "all three together"
    assert ami.together(call_id, "PJSIP/1002-", 0) is not None
    await asyncio.sleep(1.0)
    await desk.hangup()  # Bandung leaves the three-way call
    await until_agent(acd, "1002", state="after_call_work")
    await asyncio.sleep(1.5)
    assert ami.together(call_id, "PJSIP/2001-", 0) is not None, "caller and 2001 go on"
    await ami.hang_up_caller(call_id)
    (transfer,) = await rows(db, "SELECT * FROM call_transfers WHERE call_id = $1", call_id)
    assert (transfer["mode"], transfer["result"]) == ("conference", "connected")
    call = await call_row(db, call_id)
    assert (call["outcome"], call["agent_id"]) == ("answered", "2001")


async def test_a_consultation_cut_by_an_acd117_crash_gives_the_caller_back_to_the_agent(
        acd117, phones, ami, db, migrated_dsn):
    """kill -9 while 1002 consults the fire brigade (113), the caller on music out of the
    bridge: the next acd117 adopts the call with 1002, ends the consulted leg and brings
    the caller back; the consultation itself is not carried over."""
    acd, agency, _desk, token, call_id = await at_the_console_on_a_call(
        acd117, phones, ami, migrated_dsn)
    mark, agency_mark = ami.mark(), agency.mark()
    assert (await acd.post("/api/agent/consult", {"to": "113"}, token=token))[0] == 202
    await ami.wait_event("MusicOnHoldStart", after=mark, Uniqueid=call_id)
    await agency.wait_event("CALL_ESTABLISHED", after=agency_mark, timeout=15)
    await acd.kill()
    mark = ami.mark()
    again = await acd117(TRANSFERS)
    await until_call(again, call_id, state="connected")
    await agency.wait_event("CALL_CLOSED", after=agency_mark, timeout=10)
    await ami.rejoined(call_id, "PJSIP/1002-", after=mark, timeout=10)
    await asyncio.sleep(1.0)
    assert ami.together(call_id, "PJSIP/1002-", 0) is not None, "caller and agent talk"
    await ami.hang_up_caller(call_id)
    call = await call_row(db, call_id)
    assert (call["outcome"], call["agent_id"]) == ("answered", "1002")
