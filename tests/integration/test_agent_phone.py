"""Agents at real SIP phones: the feature codes, keyed in by DTMF on a real Asterisk."""

from __future__ import annotations

from tests.integration.daemon import PIN
from tests.integration.scenario import feature, phone_login, rows, until_agent


async def test_an_agent_logs_in_at_a_phone_with_id_and_pin(acd117, phones, db):
    acd = await acd117()
    phone = await phones("1001")
    await phone_login(phone, "1001")
    agent = await until_agent(acd, "1001", state="available")
    assert agent["device"] == "PJSIP/1001"
    await rows(db, "SELECT 1 FROM agent_states WHERE agent_id = '1001' AND state = 'available'"
                   " AND device = 'PJSIP/1001'")


async def test_an_agent_dials_their_id_with_the_login_code_and_keys_only_the_pin(
        acd117, phones):
    acd = await acd117()
    phone = await phones("1002")
    await feature(phone, "*111002", PIN + "#")
    await until_agent(acd, "1002", state="available", device="PJSIP/1002")


async def test_a_wrong_pin_does_not_log_the_agent_in(acd117, phones):
    acd = await acd117()
    phone = await phones("1001")
    await feature(phone, "*111001", "0000#", "0001#", "0002#")
    await until_agent(acd, "1001", state="logged_out")


async def test_pause_with_one_and_two_digit_reasons_unpause_and_logout(acd117, phones, db):
    acd = await acd117()
    phone = await phones("1001")
    await phone_login(phone, "1001")
    await until_agent(acd, "1001", state="available")
    await feature(phone, "*131")  # the reason dialled with the code, one digit
    await until_agent(acd, "1001", state="paused", pause_reason="1")
    await feature(phone, "*14")
    await until_agent(acd, "1001", state="available")
    await feature(phone, "*1312")  # two digits
    await until_agent(acd, "1001", state="paused", pause_reason="12")
    await feature(phone, "*14")
    await feature(phone, "*13", "7#")  # asked for by the prompt
    await until_agent(acd, "1001", state="paused", pause_reason="7")
    await feature(phone, "*12")
    await until_agent(acd, "1001", state="logged_out")
    recorded = [(r["state"], r["reason"]) for r in await rows(
        db, "SELECT state, reason FROM agent_states WHERE agent_id = '1001' ORDER BY at", n=7)]
    assert [(s, r if s == "paused" else None) for s, r in recorded[:6]] == [
        ("available", None), ("paused", "1"), ("available", None), ("paused", "12"),
        ("available", None), ("paused", "7")]
    assert recorded[6][0] == "logged_out"


async def test_the_call_flows_pause_reasons_name_the_phones_digits(acd117, phones):
    acd = await acd117({"pauses": {"pauses": [
        {"code": "break", "digit": "1", "label": "Istirahat"},
        {"code": "briefing", "digit": "3", "label": "Pengarahan"}]}})
    phone = await phones("1001")
    await phone_login(phone, "1001")
    await until_agent(acd, "1001", state="available")
    await feature(phone, "*133")
    await until_agent(acd, "1001", state="paused", pause_reason="briefing")
    await feature(phone, "*14")
    await until_agent(acd, "1001", state="available")
    await feature(phone, "*13", "7#", "1#")  # 7 is no reason: asked again
    await until_agent(acd, "1001", state="paused", pause_reason="break")


async def test_the_pin_keyed_at_login_is_not_in_asterisks_logs(acd117, phones, asterisk):
    acd = await acd117()
    mark = asterisk.log_mark()
    phone = await phones("1003")
    await feature(phone, "*111003", PIN + "#")
    await until_agent(acd, "1003", state="available")
    logged = asterisk.log_since(mark)
    assert "DTMF" not in logged, [line for line in logged.splitlines() if "DTMF" in line][:3]


async def test_a_second_agent_at_an_occupied_phone_is_refused_and_the_first_stays(
        acd117, phones, asterisk):
    acd = await acd117()
    phone = await phones("1001")
    await phone_login(phone, "1001")
    await until_agent(acd, "1001", state="available")
    mark = asterisk.log_mark()
    await phone_login(phone, "1002")  # someone else keys in at the same desk
    await asterisk.wait_log("acd117/agent-login-failed", mark, timeout=10)
    await until_agent(acd, "1002", state="logged_out")
    await until_agent(acd, "1001", state="available", device="PJSIP/1001")
