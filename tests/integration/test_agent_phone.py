"""Agents at real SIP phones: feature codes keyed in by DTMF on a real Asterisk."""

from __future__ import annotations

import asyncio

from tests.integration.conftest import phone_login


async def until_agent(acd, agent_id: str, timeout: float = 10.0, **want):
    async with asyncio.timeout(timeout):
        while True:
            agent = await acd.agent(agent_id)
            if all(agent.get(k) == v for k, v in want.items()):
                return agent
            await asyncio.sleep(0.1)


async def test_an_agent_logs_in_at_a_phone_with_id_and_pin(acd117, phones, db):
    acd = await acd117()
    phone = await phones("1001")
    await phone_login(phone, "1001")
    agent = await until_agent(acd, "1001", state="available")
    assert agent["device"] == "PJSIP/1001"
    async with asyncio.timeout(10):
        while not await db.fetchval(
                "SELECT count(*) FROM agent_states WHERE agent_id = '1001' AND state = "
                "'available' AND device = 'PJSIP/1001'"):
            await asyncio.sleep(0.2)
