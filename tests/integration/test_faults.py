"""Faults on the real thing: connections cut, acd117 killed or down, Asterisk restarted,
a desk phone that never registers, the fallback queue left empty. No call may be lost."""

from __future__ import annotations

import asyncio
import subprocess
import time

from tests.integration.asterisk import STATIC_PHONE, STATIC_PHONE_PORT
from tests.integration.scenario import (
    call_row,
    dial_117,
    feature,
    phone_login,
    ready_agent,
    rows,
    until_agent,
    until_call,
)


def cut_connections_of(pid: int, port: int) -> None:
    """Kill the daemon's TCP connection to `port` (`ss -K`), as a network fault would."""
    out = subprocess.run(["ss", "-tnpH", "state", "established", f"( dport = :{port} )"],
                         capture_output=True, text=True, check=True).stdout
    local = [line.split()[2].rsplit(":", 1)[1] for line in out.splitlines()
             if f"pid={pid}," in line]
    assert local, f"acd117 has no connection to port {port}: {out}"
    for p in local:
        subprocess.run(["ss", "-K", "-tn", f"( sport = :{p} or dport = :{p} )"],
                       capture_output=True, check=True)


async def _paused_agent_and_waiting_call(acd, phones, ami, agent_id="1001"):
    phone = await phones(agent_id, answer="auto")
    await phone_login(phone, agent_id)
    await feature(phone, "*131")
    await until_agent(acd, agent_id, state="paused")
    call_id = await dial_117(ami)
    await until_call(acd, call_id, state="queued")
    return phone, call_id


async def test_the_events_websocket_cut_comes_back_within_two_seconds_and_no_call_is_stuck(
        acd117, phones, ami, asterisk):
    acd = await acd117()
    phone, call_id = await _paused_agent_and_waiting_call(acd, phones, ami)
    cut_connections_of(acd.proc.pid, 8088)
    # Asterisk keeps listing the app while no websocket serves it, so the reconnection is
    # timed from acd117's log, and proven by a feature call that reaches Stasis() again.
    closed = await acd.wait_log("ari websocket closed")
    connected = await acd.wait_log("ari websocket connected", after=closed)
    assert connected["at"] - closed["at"] < 2.0
    await feature(phone, "*14")
    await ami.bridged_with(call_id, "PJSIP/1001-", timeout=15)


async def test_the_ami_session_cut_comes_back_within_two_seconds_and_no_call_is_stuck(
        acd117, phones, ami, asterisk):
    acd = await acd117()
    phone, call_id = await _paused_agent_and_waiting_call(acd, phones, ami)
    cut_connections_of(acd.proc.pid, 5038)
    lost = await acd.wait_log("AMI connection lost")
    back = await acd.wait_log("AMI logged in", after=lost)
    assert back["at"] - lost["at"] < 2.0
    assert "acd117" in await asyncio.to_thread(asterisk.cli, "manager show connected")
    await acd.wait_ready(timeout=3)
    await feature(phone, "*14")
    await ami.bridged_with(call_id, "PJSIP/1001-", timeout=15)


async def test_killed_acd117_restarts_keeps_its_agents_and_the_calls_deadlines(
        acd117, phones, ami, db):
    flows = {"escalation": {"escalation": {
        "kabkota": {"after_s": 12, "immediate_when_unstaffed": True, "mode": "widen"}}}}
    acd = await acd117(flows)
    kota = await phones("1001", answer="auto")
    prov = await phones("2001", answer="auto")
    await asyncio.gather(phone_login(kota, "1001"), phone_login(prov, "2001"))
    await feature(kota, "*131")
    await feature(prov, "*1312")
    await until_agent(acd, "2001", state="paused", pause_reason="12")
    call_id = await dial_117(ami)
    await until_call(acd, call_id, state="queued")
    arrived = time.monotonic()

    await acd.kill()  # SIGKILL: no goodbye to Asterisk, records only in the spool
    again = await acd117(flows)
    # the agents are back where they were, without logging in
    await until_agent(again, "1001", state="paused", pause_reason="1", device="PJSIP/1001")
    await until_agent(again, "2001", state="paused", pause_reason="12", device="PJSIP/2001")
    await until_call(again, call_id, state="queued", tier="kabkota")
    await feature(prov, "*14")
    # the province gets it when the original 12 s are up, not 12 s after the restart
    await ami.bridged_with(call_id, "PJSIP/2001-", timeout=20)
    escalated_after = time.monotonic() - arrived
    assert 11.0 <= escalated_after <= 14.5, escalated_after
    # Once the escalation is stored, every hop is: the arrival recorded again by the
    # adopting acd117 (killed during the welcome, the call had no facts yet) is not kept.
    await rows(db, "SELECT 1 FROM call_hops WHERE call_id = $1 AND reason = 'timeout'",
               call_id)
    hops = await db.fetch("SELECT tier, reason FROM call_hops WHERE call_id = $1 ORDER BY at",
                          call_id)
    assert [(h["tier"], h["reason"]) for h in hops] == [("kabkota", "arrival"),
                                                        ("province", "timeout")]


async def test_with_acd117_down_117_rings_the_national_fallback_desk(
        acd117, phones, ami):
    acd = await acd117()
    await phones("nas-01", answer="auto")  # the national fallback desk
    await acd.stop()
    call_id = await dial_117(ami)
    await ami.bridged_with(call_id, "PJSIP/nas-01-", timeout=20)


async def test_asterisk_restarted_under_a_running_acd117(acd117, phones, ami, asterisk, db):
    acd = await acd117()
    phone = await ready_agent(acd, phones, "1001")
    await ami.close()
    await asterisk.restart()
    await acd.wait_ready(timeout=10)
    await ami.connect()
    await phone.registered(timeout=15)
    await until_agent(acd, "1001", state="available")
    call_id = await dial_117(ami)
    await ami.bridged_with(call_id, "PJSIP/1001-", timeout=20)
    await ami.hang_up_caller(call_id)
    assert (await call_row(db, call_id))["agent_id"] == "1001"


async def test_a_desk_phone_with_a_static_contact_is_rung(acd117, phones, ami):
    acd = await acd117()
    desk = await phones(STATIC_PHONE, answer="auto", register=False,
                        sip_port=STATIC_PHONE_PORT)
    await phone_login(desk, STATIC_PHONE)
    await until_agent(acd, STATIC_PHONE, state="available", device=f"PJSIP/{STATIC_PHONE}")
    call_id = await dial_117(ami)
    await ami.bridged_with(call_id, f"PJSIP/{STATIC_PHONE}-", timeout=20)


async def test_an_empty_fallback_queue_makes_acd117_unready_and_says_why(
        acd117, asterisk):
    site = asterisk.etc / "acd117-site" / "queue-national-fallback.conf"
    kept = site.read_text()
    site.write_text("; nobody\n")
    try:
        await asyncio.to_thread(asterisk.cli, "queue reload all")
        acd = await acd117(ready=False)
        line = await acd.wait_log("117 callers wait on hold music with nobody", timeout=15)
        assert line["level"] == "error"
        async with asyncio.timeout(10):
            while True:
                status, body = await acd.get("/ready")
                checks = body["checks"] if body else {}
                if status == 503 and all(checks.get(c, {}).get("ok") for c in ("ari", "ami")):
                    break  # connected, and still not ready: because of the fallback queue
                await asyncio.sleep(0.2)
        fallback = checks["fallback_queue"]
        assert not fallback["ok"] and "national-fallback" in fallback["detail"]
    finally:
        site.write_text(kept)
        await asyncio.to_thread(asterisk.cli, "queue reload all")
