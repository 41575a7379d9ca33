"""SLA timers and tier skips on a real Asterisk: a call not answered in time at the
regency/city goes to the province, then to the national centre, with the escalation
prompts; a closed or unstaffed centre is skipped at once."""

from __future__ import annotations

import asyncio

from tests.integration.daemon import CIANJUR_DID, PALU_DID
from tests.integration.scenario import (
    dial_117,
    feature,
    phone_login,
    ready_agent,
    rows,
    until_agent,
)

FAST = {"escalation": {"escalation": {
    "kabkota": {"after_s": 4, "immediate_when_unstaffed": True, "mode": "widen"},
    "province": {"after_s": 4, "immediate_when_unstaffed": True, "mode": "widen"}}}}


async def test_an_unanswered_call_climbs_to_the_province_then_national(
        acd117, phones, ami, db, asterisk):
    acd = await acd117(FAST)
    kota, prov = await phones("1001"), await phones("2001")
    national = await phones("9001", answer="auto")
    await asyncio.gather(phone_login(kota, "1001"), phone_login(prov, "2001"),
                         phone_login(national, "9001"))
    # Staffed, but on a break: the call waits out each tier's timer.
    await asyncio.gather(feature(kota, "*131"), feature(prov, "*131"))
    await until_agent(acd, "1001", state="paused")
    await until_agent(acd, "2001", state="paused")
    await feature(national, "*131")
    await until_agent(acd, "9001", state="paused")

    mark = asterisk.log_mark()
    call_id = await dial_117(ami)
    await asterisk.wait_log("acd117/escalated-province", mark, timeout=15)
    await asterisk.wait_log("acd117/escalated-national", mark, timeout=15)
    await feature(national, "*14")
    await ami.bridged_with(call_id, "PJSIP/9001-", timeout=20)

    hops = await rows(db, "SELECT tier, centre_id, reason, at FROM call_hops WHERE call_id = $1"
                          " ORDER BY at", call_id, n=3)
    assert [(h["tier"], h["centre_id"], h["reason"]) for h in hops] == [
        ("kabkota", "bpbd-kota-bandung", "arrival"),
        ("province", "bpbd-jawa-barat", "timeout"),
        ("national", "pusdalops-bnpb", "timeout")]
    # each tier's timer: from the call's arrival, then from the escalation before
    (arrived,) = await rows(db, "SELECT arrived_at FROM calls WHERE call_id = $1", call_id)
    starts = [arrived["arrived_at"], hops[1]["at"]]
    for start, hop in zip(starts, hops[1:], strict=True):
        assert 3.9 <= (hop["at"] - start).total_seconds() <= 4.6


async def test_a_closed_regency_is_skipped_at_once_with_the_after_hours_prompt(
        acd117, phones, ami, db, asterisk):
    acd = await acd117()
    await ready_agent(acd, phones, "2001")
    mark = asterisk.log_mark()
    call_id = await dial_117(ami, did=CIANJUR_DID)
    await ami.bridged_with(call_id, "PJSIP/2001-", timeout=20)
    await asterisk.wait_log("acd117/after-hours", mark, timeout=5)
    hops = await rows(db, "SELECT tier, centre_id, reason FROM call_hops WHERE call_id = $1"
                          " ORDER BY at", call_id)
    assert [(h["tier"], h["centre_id"], h["reason"]) for h in hops][-1] == (
        "province", "bpbd-jawa-barat", "closed")


async def test_an_unstaffed_regency_and_a_province_without_centre_go_straight_to_national(
        acd117, phones, ami, db):
    acd = await acd117()
    await ready_agent(acd, phones, "9001")
    call_id = await dial_117(ami, did=PALU_DID)
    await ami.bridged_with(call_id, "PJSIP/9001-", timeout=20)
    hops = await rows(db, "SELECT tier, centre_id, reason FROM call_hops WHERE call_id = $1"
                          " ORDER BY at", call_id)
    assert hops[-1]["tier"] == "national"
    assert hops[-1]["reason"] in ("unstaffed", "no_centre")
    call = (await rows(db, "SELECT * FROM calls WHERE call_id = $1", call_id))[0]
    assert call["region_code"] == "72.71"
