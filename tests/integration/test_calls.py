"""117 calls on a real Asterisk: answered, recorded, abandoned, rung out, ordered by
priority, announced. What counts is what Asterisk reports (who is bridged with whom) and
what acd117 wrote to PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib

import yaml

from tests.integration.scenario import (
    MOBILE,
    call_row,
    dial_117,
    feature,
    phone_login,
    ready_agent,
    rows,
    until_agent,
    until_call,
)

LISTED = "+6281311170117"  # callers.yaml: the "listed" class, served first
NUISANCE = "+6285700000117"


async def test_a_call_is_answered_at_the_regency_recorded_and_written_down(
        acd117, phones, ami, db, asterisk):
    acd = await acd117()
    await ready_agent(acd, phones, "1001")

    call_id = await dial_117(ami)
    await ami.bridged_with(call_id, "PJSIP/1001-", timeout=20)
    await asyncio.sleep(2.0)  # they talk
    await ami.hang_up_caller(call_id)

    call = await call_row(db, call_id)
    assert call["outcome"] == "answered"
    assert (call["caller"], call["region_code"], call["did"]) == (MOBILE, "32.73",
                                                                  "+62227100117")
    assert (call["answer_tier"], call["centre_id"], call["agent_id"]) == (
        "kabkota", "bpbd-kota-bandung", "1001")
    assert call["talk_s"] >= 1.5
    (hop,) = await rows(db, "SELECT * FROM call_hops WHERE call_id = $1", call_id)
    assert (hop["tier"], hop["centre_id"], hop["reason"]) == (
        "kabkota", "bpbd-kota-bandung", "arrival")
    (offer,) = await rows(db, "SELECT * FROM call_offers WHERE call_id = $1", call_id)
    assert (offer["agent_id"], offer["device"], offer["result"]) == (
        "1001", "PJSIP/1001", "answered")

    (rec,) = await rows(db, "SELECT * FROM recordings WHERE call_id = $1", call_id)
    path = asterisk.recordings / rec["path"]
    data = path.read_bytes()
    assert rec["size_bytes"] == len(data) > 1000
    assert rec["sha256"] == hashlib.sha256(data).hexdigest()
    assert rec["duration_s"] >= 1.5
    assert rec["agent_id"] == "1001"


async def test_a_caller_who_hangs_up_while_queued_is_counted_abandoned(
        acd117, phones, ami, db):
    acd = await acd117()
    phone = await phones("1001")
    await phone_login(phone, "1001")
    await feature(phone, "*131")  # logged in, but on a break: the centre is staffed
    await until_agent(acd, "1001", state="paused")

    call_id = await dial_117(ami)
    await asyncio.sleep(3)
    mark = ami.mark()
    await ami.hang_up_caller(call_id)
    await ami.gone(call_id, after=mark)
    call = await call_row(db, call_id)
    assert call["outcome"] == "abandoned"
    assert call["agent_id"] is None
    assert 2.5 <= call["wait_s"] <= 10


async def test_an_agent_who_lets_it_ring_out_is_passed_over_for_the_next(
        acd117, phones, ami, db):
    acd = await acd117()
    never = await phones("1001")  # best skill, never answers
    takes = await phones("1002", answer="auto")
    await asyncio.gather(phone_login(never, "1001"), phone_login(takes, "1002"))
    await until_agent(acd, "1002", state="available")
    await until_agent(acd, "1001", state="available")

    call_id = await dial_117(ami)
    await never.wait_event("CALL_INCOMING", timeout=15)
    await ami.bridged_with(call_id, "PJSIP/1002-", timeout=20)
    offers = await rows(db, "SELECT agent_id, result FROM call_offers WHERE call_id = $1 "
                            "ORDER BY offered_at", call_id, n=2)
    assert [(o["agent_id"], o["result"]) for o in offers] == [("1001", "no_answer"),
                                                              ("1002", "answered")]


async def test_a_listed_caller_is_served_before_one_who_waited_longer(
        acd117, phones, ami):
    acd = await acd117()
    phone = await phones("1001", answer="auto")
    await phone_login(phone, "1001")
    await feature(phone, "*131")
    await until_agent(acd, "1001", state="paused")
    first = await dial_117(ami, number=MOBILE)
    await asyncio.sleep(1.5)
    listed = await dial_117(ami, number=LISTED, name="RSUD Bandung")
    await until_call(acd, first, state="queued")  # both past the welcome, waiting
    await until_call(acd, listed, state="queued", caller_class="listed")
    mark = ami.mark()
    await feature(phone, "*14")
    await ami.bridged_with(listed, "PJSIP/1001-", after=mark, timeout=20)
    assert ami.together(first, "PJSIP/1001-", after=mark) is None


async def test_a_listed_nuisance_number_hears_the_warning(acd117, ami, asterisk):
    await acd117()
    mark = asterisk.log_mark()
    call_id = await dial_117(ami, number=NUISANCE)
    line = await asterisk.wait_log("acd117/nuisance-warning", mark, timeout=15)
    assert "Playing" in line
    await ami.hang_up_caller(call_id)


async def test_a_waiting_caller_hears_the_periodic_and_expected_wait_prompts(
        acd117, phones, ami, asterisk):
    acd = await acd117({"announcements": {"announcements": {"periodic_every_s": 6}}})
    await ready_agent(acd, phones, "1001")
    # One answered call gives the queue its expected wait.
    answered = await dial_117(ami)
    await ami.bridged_with(answered, "PJSIP/1001-", timeout=20)

    mark = asterisk.log_mark()
    waiting = await dial_117(ami, number="+6281298765432")
    await asterisk.wait_log("acd117/queue-periodic", mark, timeout=20)
    line = await asterisk.wait_log("acd117/expected-wait", mark, timeout=10)
    assert "Playing" in line
    await asterisk.wait_log("acd117/numbers/1", mark, timeout=10)
    await ami.hang_up_caller(waiting)
    await ami.hang_up_caller(answered)


async def test_the_agent_ends_wrap_up_from_the_phone(acd117, phones, ami):
    acd = await acd117(_long_wrap_up())
    phone = await ready_agent(acd, phones, "1001")
    call_id = await dial_117(ami)
    await ami.bridged_with(call_id, "PJSIP/1001-", timeout=20)
    await ami.hang_up_caller(call_id)
    await until_agent(acd, "1001", state="after_call_work")
    await asyncio.sleep(1)
    # the phone is free again once the call has gone
    await phone.wait_event("CALL_CLOSED", timeout=10)
    await feature(phone, "*15")
    await until_agent(acd, "1001", state="available")


async def test_a_required_classification_refuses_star_15_until_the_console_gives_it(
        acd117, phones, ami, db, migrated_dsn):
    from tests.integration.daemon import EXAMPLE
    from tests.integration.test_transfers import agent_console

    wrapup = yaml.safe_load((EXAMPLE / "wrapup.yaml").read_text())
    acd = await acd117({**_long_wrap_up(), "wrapup": wrapup})
    phone = await ready_agent(acd, phones, "1001")
    token = await agent_console(acd, migrated_dsn, "1001")
    call_id = await dial_117(ami)
    await ami.bridged_with(call_id, "PJSIP/1001-", timeout=20)
    await ami.hang_up_caller(call_id)
    await until_agent(acd, "1001", state="after_call_work")
    await phone.wait_event("CALL_CLOSED", timeout=10)
    await feature(phone, "*15")  # the phone hears "not accepted"
    await asyncio.sleep(1)
    assert (await acd.agent("1001"))["state"] == "after_call_work"
    status, _ = await acd.post("/api/agent/classify", {
        "code": "emergency", "emergency_type": "earthquake", "place": "Desa Lolu",
        "people_affected": 7, "notes": "rumah retak"}, token=token)
    assert status == 202
    await until_agent(acd, "1001", state="available")
    (row,) = await rows(db, "SELECT code, emergency_type, people_affected, agent_id"
                            " FROM call_classifications WHERE call_id = $1", call_id)
    assert tuple(row) == ("emergency", "earthquake", 7, "1001")


def _long_wrap_up() -> dict:
    from tests.integration.daemon import base_flows

    centres = base_flows()["centres"]["centres"]
    for c in centres:
        for q in c["queues"]:
            q["wrap_up_s"] = 300
    return {"centres": {"centres": centres}}
