"""Wrap-up over the API: the call taker classifies the call (required by the example call
flows), the classification lands in PostgreSQL with the call, supervisors review pranks."""

from __future__ import annotations

import asyncio

import asyncpg

from acd.bootstrap import Daemon
from acd.domain.model import AgentState
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from tests.ops.support import until
from tests.ops.test_api import Client, Phones, api  # noqa: F401 (the fixture)
from tests.support import from_region


async def take_a_call(daemon: Daemon, phones: Phones, call_id: str, caller: str) -> None:
    """A call from Kota Bandung rings agent 1001, is answered and the caller hangs up."""
    board = daemon.switchboard
    board.post(ev.CallArrived(call_id, caller, from_region("32.73")))
    board.post(ev.PromptFinished(call_id, "welcome"))
    await until(lambda: any(isinstance(c, cmd.RingAgent) and c.call_id == call_id
                            for c in phones.done))
    ring = next(c for c in phones.done if isinstance(c, cmd.RingAgent) and c.call_id == call_id)
    board.post(ev.RingAnswered(ring.offer_id))
    board.post(ev.CallerHungUp(call_id))
    await until(lambda: daemon.acd.agents["1001"].state is AgentState.AFTER_CALL_WORK)


async def at_the_desk(client: Client) -> None:
    """Agent 1001 signs in to the console at the phone PJSIP/desk-12."""
    status, body = await client.call("POST", "/api/agent/login", {
        "agent_id": "1001", "password": "Sekret117", "device": "PJSIP/desk-12"})
    assert status == 200, body
    client.token = body["token"]


async def rows(dsn: str, call_id: str, want: int) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        async with asyncio.timeout(10):
            while len(found := await conn.fetch(
                    "SELECT * FROM call_classifications WHERE call_id = $1"
                    " ORDER BY classified_at", call_id)) < want:
                await asyncio.sleep(0.05)
        return found
    finally:
        await conn.close()


async def test_a_call_taker_classifies_the_call_and_only_then_is_ready_again(
        api: tuple[Daemon, Client, Phones], migrated_dsn: str) -> None:  # noqa: F811
    daemon, client, phones = api
    await at_the_desk(client)
    status, wrapup = await client.call("GET", "/api/wrapup")
    assert status == 200 and wrapup["required"] is True
    assert [c["code"] for c in wrapup["classes"]][:3] == ["emergency", "information", "prank"]
    await take_a_call(daemon, phones, "c1", "+6281234567890")

    status, body = await client.call("POST", "/api/agent/ready")
    assert (status, body["error"]) == (409, "the call is not classified yet")
    assert (await client.call("POST", "/api/agent/classify", {"code": "gossip"}))[0] == 422
    assert (await client.call("POST", "/api/agent/classify", {
        "code": "prank", "people_affected": 3}))[0] == 422, "only reports count people"
    assert (await client.call("POST", "/api/agent/classify", {
        "code": "emergency", "emergency_type": "meteor"}))[0] == 422
    assert (await client.call("POST", "/api/agent/classify", {
        "code": "emergency", "notes": "x" * 2001}))[0] == 400
    status, _ = await client.call("POST", "/api/agent/classify", {
        "code": "emergency", "emergency_type": "flood", "place": "Kelurahan Cibangkong",
        "people_affected": 12, "notes": "air setinggi 1 meter"})
    assert status == 202
    await until(lambda: daemon.acd.agents["1001"].state is AgentState.AVAILABLE)
    (row,) = await rows(migrated_dsn, "c1", 1)
    assert (row["agent_id"], row["code"], row["emergency_type"], row["place"],
            row["people_affected"], row["notes"]) == (
        "1001", "emergency", "flood", "Kelurahan Cibangkong", 12, "air setinggi 1 meter")
    status, body = await client.call("POST", "/api/agent/classify", {"code": "prank"})
    assert status == 409, "the agent has moved on: no call to classify"


async def test_pranks_are_listed_for_review_by_number_and_in_the_next_screen_pop(
        api: tuple[Daemon, Client, Phones], migrated_dsn: str) -> None:  # noqa: F811
    daemon, client, phones = api
    await at_the_desk(client)
    prankster = "+6281399998888"
    for call_id in ("p1", "p2"):
        await take_a_call(daemon, phones, call_id, prankster)
        status, _ = await client.call("POST", "/api/agent/classify", {
            "code": "prank", "notes": "tertawa lalu menutup", "ready": call_id == "p1"})
        assert status == 202
    await rows(migrated_dsn, "p2", 1)
    assert daemon.acd.agents["1001"].state is AgentState.AFTER_CALL_WORK, "saved, not ready"
    assert (await client.call("POST", "/api/agent/ready"))[0] == 202
    await until(lambda: daemon.acd.agents["1001"].state is AgentState.AVAILABLE)

    agent_token = client.token
    assert (await client.call("GET", "/api/reviews"))[0] == 403
    client.token = await client.login("sup1", "Sekret117")
    status, body = await client.call("GET", "/api/reviews")
    assert status == 200 and body["codes"] == ["prank"]
    assert [c["call_id"] for c in body["calls"]] == ["p2", "p1"]
    assert body["numbers"] == [{"caller": prankster, "calls": 2}]
    assert (await client.call("GET", "/api/reviews?days=abc"))[0] == 400

    # The same number calls again: the screen pop shows what its calls were.
    client.token = agent_token
    daemon.switchboard.post(ev.CallArrived("p3", prankster, from_region("32.73")))
    daemon.switchboard.post(ev.PromptFinished("p3", "welcome"))
    await until(lambda: daemon.acd.agents["1001"].state is AgentState.RINGING)
    status, body = await client.call("GET", "/api/agent/call/history")
    assert status == 200
    assert [(c["call_id"], c["classification"], c["notes"]) for c in body["calls"]] == [
        ("p2", "prank", "tertawa lalu menutup"), ("p1", "prank", "tertawa lalu menutup")]


async def test_pause_reasons_come_from_the_call_flows(
        api: tuple[Daemon, Client, Phones]) -> None:  # noqa: F811
    daemon, client, _ = api
    await at_the_desk(client)
    status, body = await client.call("GET", "/api/pauses")
    assert status == 200
    assert [(r["code"], r["digit"], r["label"]) for r in body["reasons"]][:2] == [
        ("break", "1", "Istirahat"), ("meal", "2", "Makan")]
    status, body = await client.call("POST", "/api/agent/pause", {"reason": "nap"})
    assert status == 422 and "briefing" in body["reasons"]
    assert (await client.call("POST", "/api/agent/pause", {"reason": "meal"}))[0] == 202
    await until(lambda: daemon.acd.agents["1001"].state is AgentState.PAUSED)
