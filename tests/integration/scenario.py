"""The steps the scenarios are written in: a caller dials, an agent logs in at a phone,
and the waits for what Asterisk reports and acd117 writes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from tests.integration.ami import Ami
from tests.integration.daemon import BANDUNG_DID, PIN, Acd117
from tests.integration.phones import Phone

MOBILE = "+6281234567890"


async def dial_117(ami: Ami, did: str = BANDUNG_DID, number: str = MOBILE,
                   name: str = "Budi Santoso") -> str:
    """A PSTN caller dials 117 (delivered as `did`); the call's id in acd117."""
    call_id = f"t-{uuid.uuid4().hex[:12]}"
    await ami.originate_caller(number=did, caller_id=f'"{name}" <{number}>',
                               channel_id=call_id)
    return call_id


async def phone_login(phone: Phone, agent_id: str, pin: str = PIN) -> None:
    """`*11`, agent id `#`, PIN `#`, as an agent keys it in."""
    await feature(phone, "*11", agent_id + "#", pin + "#")


async def ready_agent(acd: Acd117, phones: Callable[..., Awaitable[Phone]], agent_id: str,
                      answer: str = "auto") -> Phone:
    """An agent logged in at their own phone (endpoint = agent id), available."""
    phone = await phones(agent_id, answer=answer)
    await phone_login(phone, agent_id)
    await until_agent(acd, agent_id, state="available")
    return phone


async def feature(phone: Phone, code: str, *keys: str) -> None:
    """Dial a feature code, key in each group of digits after a pause, wait for the
    hang-up that ends the dialog."""
    mark = phone.mark()
    await phone.dial(code)
    # The first RTP packet from Asterisk, not the 200 OK: keys pressed before media flows
    # are lost on a busy machine (RFC 4733 events ride the RTP stream), and three lost
    # attempts outlast the wait below.
    await phone.wait_event("CALL_RTPESTAB", after=mark)
    for group in keys:
        await asyncio.sleep(0.6)  # the prompt asking for it starts
        await phone.send_dtmf(group)
    try:
        await phone.wait_event("CALL_CLOSED", after=mark, timeout=25)
    except TimeoutError:
        raise AssertionError(f"{code} {keys} at {phone.name} still open: "
                             f"{[e.get('type') for e in phone.events[mark:]]}") from None


async def until_call(acd: Acd117, call_id: str, timeout: float = 15.0,
                     **want: Any) -> dict[str, Any]:
    """Wait until the supervisors' view shows the call with `want` (`state="queued"`)."""
    call: dict[str, Any] | None = None
    try:
        async with asyncio.timeout(timeout):
            while True:
                call = next((c for c in (await acd.state())["calls"] if c["id"] == call_id),
                            None)
                if call is not None and all(call.get(k) == v for k, v in want.items()):
                    return call
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"call {call_id} is {call}, never {want}") from None


async def until_agent(acd: Acd117, agent_id: str, timeout: float = 10.0,
                      **want: Any) -> dict[str, Any]:
    """Wait until the supervisors' view shows the agent with `want`."""
    agent: dict[str, Any] = {}
    try:
        async with asyncio.timeout(timeout):
            while True:
                agent = await acd.agent(agent_id)
                if all(agent.get(k) == v for k, v in want.items()):
                    return agent
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"agent {agent_id} is {agent}, never {want}") from None


async def rows(db: asyncpg.Connection, sql: str, *args: Any, n: int = 1,
               timeout: float = 15.0) -> list[asyncpg.Record]:
    """Wait until `sql` gives at least `n` rows (the writer is asynchronous)."""
    got: list[asyncpg.Record] = []
    try:
        async with asyncio.timeout(timeout):
            while True:
                got = await db.fetch(sql, *args)
                if len(got) >= n:
                    return got
                await asyncio.sleep(0.2)
    except TimeoutError:
        raise AssertionError(f"{len(got)} of {n} rows after {timeout} s: {sql}") from None


async def call_row(db: asyncpg.Connection, call_id: str, timeout: float = 15.0
                   ) -> asyncpg.Record:
    """The call's CDR once it has ended."""
    (row,) = await rows(db, "SELECT * FROM calls WHERE call_id = $1 AND ended_at IS NOT NULL",
                        call_id, timeout=timeout)
    return row
