"""The consoles' event streams: an agent's carries their own state and call only, the
supervisors' the room and its alerts; a session that ends ends its stream; the pages read
them instead of polling, and poll again only while the stream is down."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from acd.bootstrap import Daemon
from acd.domain.model import AgentState
from acd.service.settings import EXAMPLE_CONFIG
from acd.vocabulary import events as ev
from tests.ops.browser import Page, open_page
from tests.ops.support import serving, settings, until
from tests.ops.test_api import FAST, Client, Phones, api  # noqa: F401 (the fixture)
from tests.ops.test_consoles import fill, wait_for
from tests.support import from_region


async def events(client: Client, path: str, token: str) -> AsyncIterator[tuple[str, Any]]:
    """(event, data) as the stream sends them."""
    async with client.s.get(client.base + path,
                            headers={"Authorization": f"Bearer {token}"}) as r:
        assert r.status == 200, await r.text()
        assert r.headers["Content-Type"].startswith("text/event-stream")
        name = "message"
        async for raw in r.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                yield name, json.loads(line[6:])
                name = "message"


async def agent_token(client: Client, agent_id: str, device: str) -> str:
    status, body = await client.call("POST", "/api/agent/login", {
        "agent_id": agent_id, "password": "Sekret117", "device": device})
    assert status == 200, body
    return str(body["token"])


async def test_an_agents_stream_carries_their_own_call_and_nothing_of_anyone_elses(
        api: tuple[Daemon, Client, Phones]) -> None:  # noqa: F811
    daemon, client, _ = api
    bandung = await agent_token(client, "1001", "PJSIP/1001")
    national = await agent_token(client, "9001", "PJSIP/9001")
    seen: dict[str, list[Any]] = {"1001": [], "9001": []}

    async def watch(agent_id: str, token: str) -> None:
        async for name, data in events(client, "/api/agent/events", token):
            assert name == "agent"
            seen[agent_id].append(data)

    watchers = [asyncio.create_task(watch("1001", bandung)),
                asyncio.create_task(watch("9001", national))]
    try:
        await until(lambda: bool(seen["1001"]) and bool(seen["9001"]))
        assert seen["1001"][0]["agent"]["state"] == "available"
        assert seen["1001"][0]["call"] is None
        daemon.switchboard.post(ev.CallArrived("c1", "+6281234567890", from_region("32.73")))
        daemon.switchboard.post(ev.PromptFinished("c1", "welcome"))
        # Rung at once: the change is sent, not waited for until the next refresh.
        await until(lambda: any(d["call"] for d in seen["1001"]), timeout=2.0)
        ringing = next(d for d in seen["1001"] if d["call"])
        assert ringing["agent"]["state"] == "ringing"
        assert (ringing["call"]["id"], ringing["call"]["caller"],
                ringing["call"]["region"]) == ("c1", "+6281234567890", "32.73")
    finally:
        for w in watchers:
            w.cancel()
    # The national agent's stream said nothing of Bandung's call or agent.
    assert all(d["call"] is None and d["agent"]["agent_id"] == "9001" for d in seen["9001"])


async def test_streams_keep_the_apis_sign_in_rules(
        api: tuple[Daemon, Client, Phones]) -> None:  # noqa: F811
    _daemon, client, _ = api
    agent = await agent_token(client, "1001", "PJSIP/1001")
    supervisor = await client.login("sup1", "Sekret117")
    for path, token, status in (("/api/agent/events", None, 401),
                                ("/api/state/events", None, 401),
                                ("/api/state/events", agent, 403),
                                ("/api/agent/events", supervisor, 403)):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with client.s.get(client.base + path, headers=headers) as r:
            assert r.status == status, (path, r.status)
            assert "error" in await r.json()


async def test_a_stream_ends_with_signed_out_when_its_session_ends(
        api: tuple[Daemon, Client, Phones]) -> None:  # noqa: F811
    daemon, client, _ = api
    supervisor = await client.login("sup1", "Sekret117")
    names: list[str] = []
    async with asyncio.timeout(10):
        async for name, _data in events(client, "/api/state/events", supervisor):
            names.append(name)
            if len(names) == 2:  # the room and its alerts: now an admin ends the sessions
                assert daemon.users is not None
                await daemon.users.end_sessions("sup1")
    # The loop above ended because the server closed the stream after saying why.
    assert names[:2] == ["state", "alerts"] and names[-1] == "signed_out"


async def test_the_supervisors_stream_shows_a_caller_waiting_and_the_alert_of_an_empty_centre(
        api: tuple[Daemon, Client, Phones]) -> None:  # noqa: F811
    daemon, client, _ = api
    supervisor = await client.login("sup1", "Sekret117")
    states: list[Any] = []
    alerts: list[Any] = []

    async def watch() -> None:
        async for name, data in events(client, "/api/state/events", supervisor):
            (states if name == "state" else alerts).append(data)

    watcher = asyncio.create_task(watch())
    try:
        await until(lambda: bool(states) and bool(alerts))
        assert states[0]["calls"] == [] and alerts[0]["alerts"] == []
        # Nobody is logged in anywhere: the call waits, and an alert is raised.
        daemon.switchboard.post(ev.CallArrived("c9", "+6281311112222", from_region("32.73")))
        daemon.switchboard.post(ev.PromptFinished("c9", "welcome"))
        await until(lambda: any(s["calls"] for s in states), timeout=3.0)
        (call,) = next(s["calls"] for s in states if s["calls"])
        assert (call["id"], call["caller"]) == ("c9", "+6281311112222")
        await until(lambda: any(a["alerts"] for a in alerts), timeout=3.0)
    finally:
        watcher.cancel()


# A page whose fetch counts the console's polls, and refuses the event streams when told
# (a proxy that buffers them, say): set before the page's own scripts run.
COUNTING_FETCH = """(() => {
  window.__polls = 0;
  const realFetch = window.fetch;
  window.fetch = (url, init) => {
    const path = String(url);
    if (path.endsWith("/events") && window.__refuseStreams) {
      return Promise.reject(new TypeError("stream refused"));
    }
    if (path === "/api/agent") window.__polls += 1;
    return realFetch(url, init);
  };
})();
"""


async def _signed_in_agent_page(page: Page, refuse_streams: bool) -> None:
    await page.send("Page.enable")  # else the script below is not run
    refuse = f"window.__refuseStreams = {json.dumps(refuse_streams)};"
    await page.send("Page.addScriptToEvaluateOnNewDocument", source=COUNTING_FETCH + refuse)
    await wait_for(page, "document.body.dataset.ready")
    # Signed out (the form is shown), and no "ready" until the new page says so.
    await page.evaluate("sessionStorage.clear(); delete document.body.dataset.ready")
    await page.send("Page.reload")
    await wait_for(page, "document.body.dataset.ready")
    await fill(page, "signin", agent_id="1001", password="Sekret117", device="PJSIP/1001")
    await wait_for(page, "document.getElementById('state').dataset.state === 'available'")


async def test_the_agents_console_is_live_over_its_stream_and_polls_only_when_it_is_down(
        tmp_path: Path, migrated_dsn: str) -> None:
    config = tmp_path / "flows"
    shutil.copytree(EXAMPLE_CONFIG, config)
    s = settings(tmp_path, migrated_dsn, config=config)
    async with serving(s, simulate=False, telephony=Phones(), time_scale=1.0) as daemon:
        assert daemon.users is not None
        daemon.users.hasher = FAST
        await daemon.users.add("1001", "Sekret117", "agent")
        board = daemon.switchboard
        async with open_page(daemon.url + "/agent", tmp_path / "agent") as page:
            await _signed_in_agent_page(page, refuse_streams=False)
            await wait_for(page, "document.body.dataset.live === 'stream'")
            polls = await page.evaluate("window.__polls")
            assert isinstance(polls, int)  # the counting fetch is in place
            board.post(ev.CallArrived("c1", "+6281234567890", from_region("32.73")))
            board.post(ev.PromptFinished("c1", "welcome"))
            await wait_for(page, "!document.getElementById('pop').hidden")
            assert await page.text("pop-caller") == "+6281234567890"
            await asyncio.sleep(1.5)  # a poller would have asked at least once by now
            assert await page.evaluate("window.__polls") == polls
            board.post(ev.CallerHungUp("c1"))
            await until(lambda: daemon.acd.agents["1001"].state is AgentState.AVAILABLE)

            # Streams refused: the console says so and polls, and still sees the call.
            await _signed_in_agent_page(page, refuse_streams=True)
            await wait_for(page, "document.body.dataset.live === 'poll'")
            board.post(ev.CallArrived("c2", "+6281299998888", from_region("32.73")))
            board.post(ev.PromptFinished("c2", "welcome"))
            await wait_for(page, "document.getElementById('pop-caller').textContent"
                                 " === '+6281299998888'")
            assert await page.evaluate("window.__polls") > 0
            # Back: the stream is taken up again and the polling stops.
            await page.evaluate("window.__refuseStreams = false")
            await wait_for(page, "document.body.dataset.live === 'stream'", timeout=20)
