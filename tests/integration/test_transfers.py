"""Handing a 117 call on, on a real Asterisk with real phones: the phone's own Transfer
button (a SIP REFER, which acd117 takes over from Asterisk) and the agents' API, to another
centre's queue and to an outside number (a baresip phone stands for the fire brigade, 113).
The caller is never cut off and no ghost call appears."""

from __future__ import annotations

import asyncio
import subprocess
import time

from tests.integration.asterisk import ACD117, AGENCY_PORT, AGENCY_TRUNK, REPO
from tests.integration.scenario import (
    call_row,
    dial_117,
    ready_agent,
    rows,
    until_agent,
    until_call,
)

TRANSFERS = {"transfers": {"transfers": {
    "trunk": AGENCY_TRUNK,
    "ring_timeout_s": 10,
    "destinations": [
        {"code": "113", "label": "Pemadam Kebakaran", "number": "113"},
        {"code": "3200", "label": "Pusdalops BPBD Provinsi Jawa Barat",
         "centre": "bpbd-jawa-barat"},
    ],
}}}
AGENT_PASSWORD = "Agen1002Bandung"


async def calls_since(db, since: float) -> list[str]:
    return [r["call_id"] for r in await db.fetch(
        "SELECT call_id FROM calls WHERE arrived_at >= to_timestamp($1)", since)]


async def agency_phone(phones, answer: str = "auto"):
    """The fire brigade's line (113): a baresip phone behind the test trunk."""
    return await phones("113", answer=answer, register=False, sip_port=AGENCY_PORT)


async def test_the_phones_transfer_button_hands_the_call_to_the_province_caller_on_the_line(
        acd117, phones, ami, db):
    acd = await acd117(TRANSFERS)
    bandung = await ready_agent(acd, phones, "1001")
    await ready_agent(acd, phones, "2001")
    since = time.time() - 1
    call_id = await dial_117(ami)
    await ami.bridged_with(call_id, "PJSIP/1001-", timeout=20)
    await asyncio.sleep(1.0)
    mark, phone_mark = ami.mark(), bandung.mark()
    await bandung.command("transfer", "sip:3200@127.0.0.1")

    await ami.bridged_with(call_id, "PJSIP/2001-", after=mark, timeout=15)
    await bandung.wait_event("CALL_CLOSED", after=phone_mark)
    await until_agent(acd, "1001", state="after_call_work")
    await asyncio.sleep(1.0)
    await ami.hang_up_caller(call_id)

    call = await call_row(db, call_id)
    assert (call["outcome"], call["agent_id"], call["answer_tier"]) == (
        "answered", "2001", "province")
    (transfer,) = await rows(db, "SELECT * FROM call_transfers WHERE call_id = $1", call_id)
    assert (transfer["agent_id"], transfer["from_centre"], transfer["kind"],
            transfer["target"], transfer["result"]) == (
        "1001", "bpbd-kota-bandung", "centre", "bpbd-jawa-barat", "queued")
    hops = await rows(db, "SELECT reason, centre_id FROM call_hops WHERE call_id = $1"
                      " ORDER BY at", call_id, n=2)
    assert [(h["reason"], h["centre_id"]) for h in hops] == [
        ("arrival", "bpbd-kota-bandung"), ("transfer", "bpbd-jawa-barat")]
    recordings = await rows(db, "SELECT agent_id, path FROM recordings WHERE call_id = $1"
                            " ORDER BY started_at", call_id, n=2)
    assert [r["agent_id"] for r in recordings] == ["1001", "2001"], "one per agent"
    assert await calls_since(db, since) == [call_id], "no ghost call"


async def test_a_destination_not_listed_is_declined_and_the_caller_is_not_lost(
        acd117, phones, ami, db):
    acd = await acd117(TRANSFERS)
    bandung = await ready_agent(acd, phones, "1001")
    await ready_agent(acd, phones, "1002")
    since = time.time() - 1
    call_id = await dial_117(ami)
    await ami.bridged_with(call_id, "PJSIP/1001-", timeout=20)
    mark = ami.mark()
    await bandung.command("transfer", "sip:2001@127.0.0.1")
    # baresip hangs up when its transfer is declined (a desk phone would take the call back
    # off hold): the caller waits again at Bandung and the next agent answers.
    await ami.bridged_with(call_id, "PJSIP/1002-", after=mark, timeout=15)
    await ami.hang_up_caller(call_id)
    call = await call_row(db, call_id)
    assert (call["outcome"], call["agent_id"]) == ("answered", "1002")
    (transfer,) = await rows(db, "SELECT * FROM call_transfers WHERE call_id = $1", call_id)
    assert (transfer["code"], transfer["result"]) == ("2001", "refused")
    assert await calls_since(db, since) == [call_id], "no ghost call"


async def agent_console(acd, dsn: str, agent_id: str = "1002") -> str:
    """The agent's console session (an API account for the agent): its token."""
    subprocess.run([*ACD117, "user", "add", agent_id, "--role", "agent", "--dsn", dsn],
                   input=AGENT_PASSWORD + "\n", text=True, check=True, capture_output=True,
                   cwd=REPO)
    status, signed_in = await acd.post("/api/login", {"username": agent_id,
                                                      "password": AGENT_PASSWORD})
    assert status == 200, signed_in
    return signed_in["token"]

async def at_the_console_on_a_call(acd117, phones, ami, dsn: str, *,
                                   agency: str | None = "auto"):
    """acd117 with the transfer destinations, the agency's phone (answering `agency`),
    agent 1002 at their phone and signed in to the console, on a 117 call: (acd117, agency
    phone, agent's phone, console token, call id)."""
    acd = await acd117(TRANSFERS)
    line = None if agency is None else await agency_phone(phones, agency)
    desk = await ready_agent(acd, phones, "1002")
    token = await agent_console(acd, dsn)
    call_id = await dial_117(ami)
    await ami.bridged_with(call_id, "PJSIP/1002-", timeout=20)
    return acd, line, desk, token, call_id


async def test_a_transfer_to_a_number_from_the_api_connects_the_caller_with_the_agency(
        acd117, phones, ami, db, migrated_dsn):
    acd = await acd117(TRANSFERS)
    agency = await agency_phone(phones)
    await ready_agent(acd, phones, "1002")
    token = await agent_console(acd, migrated_dsn)
    status, listed = await acd.get("/api/transfers", token=token)
    assert status == 200 and [d["code"] for d in listed["destinations"]] == ["113", "3200"]

    call_id = await dial_117(ami)
    await ami.bridged_with(call_id, "PJSIP/1002-", timeout=20)
    status, body = await acd.post("/api/agent/transfer", {"to": "113"}, token=token)
    assert status == 202, body
    await ami.bridged_with(call_id, f"PJSIP/{AGENCY_TRUNK}-", timeout=15)
    await until_agent(acd, "1002", state="after_call_work")
    await asyncio.sleep(1.0)
    mark = agency.mark()
    await ami.hang_up_caller(call_id)
    await agency.wait_event("CALL_CLOSED", after=mark)

    (transfer,) = await rows(db, "SELECT * FROM call_transfers WHERE call_id = $1", call_id)
    assert (transfer["agent_id"], transfer["kind"], transfer["target"],
            transfer["result"]) == ("1002", "number", "113", "connected")
    call = await call_row(db, call_id)
    assert (call["outcome"], call["agent_id"]) == ("answered", "1002")
    status, body = await acd.post("/api/agent/transfer", {"to": "113"}, token=token)
    assert status == 409, "no call any more"


async def test_a_caller_talking_with_the_agency_stays_so_across_an_acd117_crash(
        acd117, phones, ami, db, migrated_dsn):
    acd, agency, _desk, token, call_id = await at_the_console_on_a_call(
        acd117, phones, ami, migrated_dsn)
    status, body = await acd.post("/api/agent/transfer", {"to": "113"}, token=token)
    assert status == 202, body
    await ami.bridged_with(call_id, f"PJSIP/{AGENCY_TRUNK}-", timeout=15)
    await acd.kill()
    mark = ami.mark()
    again = await acd117(TRANSFERS)
    await until_call(again, call_id, state="outside")
    await asyncio.sleep(2.0)
    assert ami.together(call_id, f"PJSIP/{AGENCY_TRUNK}-", 0) is not None, "still talking"
    assert not [e for e in ami.events[mark:] if e.get("Event") == "MusicOnHoldStart"
                and e.get("Uniqueid") == call_id], "no music over the conversation"
    await agency.hangup()  # the agency is done: the caller's line is closed, the CDR ends
    await ami.gone(call_id, after=mark, timeout=10)
    call = await call_row(db, call_id)
    assert (call["outcome"], call["agent_id"]) == ("answered", "1002")


async def test_a_caller_who_hangs_up_while_the_agency_rings_ends_that_ring_too(
        acd117, phones, ami, db):
    acd = await acd117(TRANSFERS)
    agency = await agency_phone(phones, "manual")
    bandung = await ready_agent(acd, phones, "1001")
    call_id = await dial_117(ami)
    await ami.bridged_with(call_id, "PJSIP/1001-", timeout=20)
    mark = agency.mark()
    await bandung.command("transfer", "sip:113@127.0.0.1")
    await agency.wait_event("CALL_INCOMING", after=mark, timeout=10)
    await ami.hang_up_caller(call_id)
    await agency.wait_event("CALL_CLOSED", after=mark, timeout=10)
    (transfer,) = await rows(db, "SELECT * FROM call_transfers WHERE call_id = $1", call_id)
    assert transfer["result"] == "abandoned"
    call = await call_row(db, call_id)
    assert call["outcome"] == "answered"


async def test_a_consultation_holds_the_caller_then_connects_them_to_the_agency(
        acd117, phones, ami, db, migrated_dsn):
    acd, agency, desk, token, call_id = await at_the_console_on_a_call(
        acd117, phones, ami, migrated_dsn)
    mark, agency_mark = ami.mark(), agency.mark()
    status, body = await acd.post("/api/agent/consult", {"to": "113"}, token=token)
    assert status == 202, body
    await ami.wait_event("MusicOnHoldStart", after=mark, Uniqueid=call_id)
    await agency.wait_event("CALL_ESTABLISHED", after=agency_mark, timeout=15)
    await asyncio.sleep(1.5)  # the agent briefs the fire brigade; the caller hears music
    assert ami.together(call_id, "PJSIP/1002-", mark) is None, "the caller is on hold"
    desk_mark = desk.mark()
    status, body = await acd.post("/api/agent/consult/complete", {}, token=token)
    assert status == 202, body
    await ami.bridged_with(call_id, f"PJSIP/{AGENCY_TRUNK}-", after=mark, timeout=10)
    await desk.wait_event("CALL_CLOSED", after=desk_mark)
    await until_agent(acd, "1002", state="after_call_work")
    await ami.hang_up_caller(call_id)
    (transfer,) = await rows(db, "SELECT * FROM call_transfers WHERE call_id = $1", call_id)
    assert (transfer["mode"], transfer["target"], transfer["result"]) == (
        "attended", "113", "connected")
    call = await call_row(db, call_id)
    assert call["outcome"] == "answered" and call["hold_s"] >= 1.0


async def test_a_three_way_conference_goes_on_when_the_agency_leaves(
        acd117, phones, ami, db, migrated_dsn):
    acd, agency, _desk, token, call_id = await at_the_console_on_a_call(
        acd117, phones, ami, migrated_dsn)
    mark = ami.mark()
    status, body = await acd.post("/api/agent/consult", {"to": "113", "conference": True},
                                  token=token)
    assert status == 202, body
    await ami.rejoined(call_id, f"PJSIP/{AGENCY_TRUNK}-", after=mark, timeout=15)
    assert ami.together(call_id, "PJSIP/1002-", 0) is not None, "all three together"
    await asyncio.sleep(1.0)
    await agency.hangup()
    await asyncio.sleep(1.5)
    assert ami.together(call_id, "PJSIP/1002-", 0) is not None, "caller and agent go on"
    await ami.hang_up_caller(call_id)
    (transfer,) = await rows(db, "SELECT * FROM call_transfers WHERE call_id = $1", call_id)
    assert (transfer["mode"], transfer["result"]) == ("conference", "connected")
    call = await call_row(db, call_id)
    assert (call["outcome"], call["agent_id"]) == ("answered", "1002")


async def test_hold_from_the_console_plays_music_to_the_caller_and_counts_in_the_cdr(
        acd117, phones, ami, db, migrated_dsn):
    acd, _line, _desk, token, call_id = await at_the_console_on_a_call(
        acd117, phones, ami, migrated_dsn, agency=None)
    mark = ami.mark()
    assert (await acd.post("/api/agent/hold", {"on": True}, token=token))[0] == 202
    await ami.wait_event("MusicOnHoldStart", after=mark, Uniqueid=call_id)
    await asyncio.sleep(2.0)
    mark = ami.mark()
    assert (await acd.post("/api/agent/hold", {"on": False}, token=token))[0] == 202
    await ami.rejoined(call_id, "PJSIP/1002-", after=mark)
    assert (await acd.post("/api/agent/mute", {"on": True}, token=token))[0] == 202
    await asyncio.sleep(0.5)
    await ami.hang_up_caller(call_id)
    call = await call_row(db, call_id)
    assert 1.5 <= call["hold_s"] <= 4.0


async def test_a_consultation_cancelled_gives_the_agent_the_caller_back(
        acd117, phones, ami, db, migrated_dsn):
    acd, agency, _desk, token, call_id = await at_the_console_on_a_call(
        acd117, phones, ami, migrated_dsn)
    agency_mark = agency.mark()
    assert (await acd.post("/api/agent/consult", {"to": "113"}, token=token))[0] == 202
    await agency.wait_event("CALL_ESTABLISHED", after=agency_mark, timeout=15)
    await asyncio.sleep(1.0)
    mark = ami.mark()
    status, body = await acd.post("/api/agent/consult/cancel", {}, token=token)
    assert status == 202, body
    await agency.wait_event("CALL_CLOSED", after=agency_mark)
    await ami.rejoined(call_id, "PJSIP/1002-", after=mark)
    await ami.hang_up_caller(call_id)
    (transfer,) = await rows(db, "SELECT * FROM call_transfers WHERE call_id = $1", call_id)
    assert (transfer["mode"], transfer["result"]) == ("attended", "cancelled")
    call = await call_row(db, call_id)
    assert (call["outcome"], call["agent_id"]) == ("answered", "1002")


async def test_a_second_call_from_the_agents_phone_consults_the_agency_and_hanging_it_up_cancels(
        acd117, phones, ami, db, migrated_dsn):
    # The first half of the phone's own attended transfer: the phone holds the 117 call and
    # dials 113 itself; acd117 makes it a consultation (the caller on music) and puts the
    # second call through to the agency. (baresip 1.0.0 cannot send the REFER with Replaces
    # that would complete it: tests/ari/test_phone_transfers.py has that half.)
    _acd, agency, desk, _token, call_id = await at_the_console_on_a_call(
        acd117, phones, ami, migrated_dsn)
    mark, agency_mark, desk_mark = ami.mark(), agency.mark(), desk.mark()
    await desk.command("hold")
    await desk.dial("113")
    await ami.wait_event("MusicOnHoldStart", after=mark, Uniqueid=call_id)
    await agency.wait_event("CALL_ESTABLISHED", after=agency_mark, timeout=15)
    await desk.wait_event("CALL_ESTABLISHED", after=desk_mark, timeout=10)
    assert ami.together(call_id, "PJSIP/1002-", mark) is None, "the caller is on hold"
    await asyncio.sleep(1.0)  # the agent briefs the fire brigade
    mark = ami.mark()
    await desk.hangup()  # the second call (baresip's current one)
    await agency.wait_event("CALL_CLOSED", after=agency_mark)
    await ami.rejoined(call_id, "PJSIP/1002-", after=mark)
    await ami.hang_up_caller(call_id)
    (transfer,) = await rows(db, "SELECT * FROM call_transfers WHERE call_id = $1", call_id)
    assert (transfer["mode"], transfer["target"], transfer["result"]) == (
        "attended", "113", "cancelled")
    call = await call_row(db, call_id)
    assert (call["outcome"], call["agent_id"]) == ("answered", "1002")
