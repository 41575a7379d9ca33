"""A supervisor listens to, whispers to and barges into an agent's call from their own
phone: the topology as Asterisk reports it, and what each phone actually heard."""

from __future__ import annotations

import asyncio

from tests.integration.audio import CALLER_HZ, PHONE_HZ, decoded, tone_level
from tests.integration.scenario import dial_117, phone_login, until_agent


async def _agent_on_a_call(acd117, phones, ami):
    acd = await acd117()
    agent = await phones("1001", answer="auto")
    supervisor = await phones("sup-01", answer="auto")
    await phone_login(agent, "1001")
    await until_agent(acd, "1001", state="available")
    call_id = await dial_117(ami)
    await ami.bridged_with(call_id, "PJSIP/1001-", timeout=20)
    return acd, agent, supervisor, call_id


async def _monitor(acd, mode: str) -> None:
    status, body = await acd.post("/api/agents/1001/monitor",
                                  {"mode": mode, "device": "PJSIP/sup-01"})
    assert status == 202, body


async def test_listen_lets_the_supervisor_hear_both_sides_and_nobody_hear_them(
        acd117, phones, ami):
    acd, agent, supervisor, call_id = await _agent_on_a_call(acd117, phones, ami)
    mark = ami.mark()
    await _monitor(acd, "listen")
    await ami.bridged_with(f"{call_id}", "PJSIP/1001-", timeout=2)  # still together
    entered = await ami.wait_event("BridgeEnter", Channel="PJSIP/sup-01*", after=mark)
    assert ami.together(entered["Uniqueid"], "Snoop/", after=mark) is not None
    await asyncio.sleep(3)
    await ami.hang_up_caller(call_id)
    await supervisor.wait_event("CALL_CLOSED", timeout=15)
    await agent.wait_event("CALL_CLOSED", timeout=15)
    heard = decoded(supervisor.home)[-1]
    assert tone_level(heard, CALLER_HZ) > 0.005  # the caller
    assert tone_level(heard, PHONE_HZ) > 0.005  # and the agent
    agent_heard = decoded(agent.home)[-1]  # the call (before it: the login call)
    assert tone_level(agent_heard, CALLER_HZ) > 0.005
    assert tone_level(agent_heard, PHONE_HZ) < 0.002  # not the supervisor


async def test_whisper_reaches_the_agent_only(acd117, phones, ami):
    acd, agent, _supervisor, call_id = await _agent_on_a_call(acd117, phones, ami)
    mark = ami.mark()
    await _monitor(acd, "whisper")
    entered = await ami.wait_event("BridgeEnter", Channel="PJSIP/sup-01*", after=mark)
    assert ami.together(entered["Uniqueid"], "Snoop/", after=mark) is not None
    await asyncio.sleep(4)
    await ami.hang_up_caller(call_id)
    await agent.wait_event("CALL_CLOSED", timeout=15)
    heard = decoded(agent.home)[-1]
    assert tone_level(heard, CALLER_HZ) > 0.005
    assert tone_level(heard, PHONE_HZ) > 0.002  # the supervisor's voice


async def test_barge_puts_the_supervisor_in_the_call(acd117, phones, ami):
    acd, agent, supervisor, call_id = await _agent_on_a_call(acd117, phones, ami)
    await _monitor(acd, "barge")
    await ami.bridged_with(call_id, "PJSIP/sup-01-", timeout=15)  # in the call's bridge
    await asyncio.sleep(3)
    await ami.hang_up_caller(call_id)
    await supervisor.wait_event("CALL_CLOSED", timeout=15)
    await agent.wait_event("CALL_CLOSED", timeout=15)
    heard = decoded(supervisor.home)[-1]
    assert tone_level(heard, CALLER_HZ) > 0.005
    assert tone_level(heard, PHONE_HZ) > 0.005
    assert tone_level(decoded(agent.home)[-1], PHONE_HZ) > 0.002  # the agent hears them
