"""The screen pop tells the agent where the call has been: a Kota Bandung call nobody is
logged in for reaches the province's agent with its path, line type and region source."""

from __future__ import annotations

import shutil
from pathlib import Path

from acd.bootstrap import Daemon
from acd.domain.model import AgentState
from acd.service.settings import EXAMPLE_CONFIG
from acd.vocabulary import events as ev
from tests.ops.browser import open_page
from tests.ops.support import serving, settings, until
from tests.ops.test_api import FAST, Client, Phones, api  # noqa: F401 (the fixture)
from tests.ops.test_consoles import fill, wait_for
from tests.support import from_region


async def test_the_pop_shows_the_path_of_an_escalated_call(
        api: tuple[Daemon, Client, Phones]) -> None:  # noqa: F811
    daemon, client, _ = api
    await daemon.users.add("2001", "Sekret117", "agent")  # type: ignore[union-attr]
    status, body = await client.call("POST", "/api/agent/login", {
        "agent_id": "2001", "password": "Sekret117", "device": "PJSIP/desk-21"})
    assert status == 200, body
    client.token = body["token"]
    daemon.switchboard.post(ev.CallArrived("c1", "081234567890", from_region("32.73")))
    daemon.switchboard.post(ev.PromptFinished("c1", "welcome"))
    await until(lambda: daemon.acd.agents["2001"].state is AgentState.RINGING)
    status, body = await client.call("GET", "/api/agent/call")
    call = body["call"]
    assert (call["line_type"], call["region"], call["tier"]) == ("mobile", "32.73", "province")
    assert call["region_source"] != "default"
    # Nobody at Kota Bandung: straight to the province, and the pop says why.
    assert [(h["centre_name"], h["reason"], h["after_s"]) for h in call["path"]] == [
        ("Pusdalops BPBD Provinsi Jawa Barat", "unstaffed", 0.0)]


async def test_the_console_says_where_an_escalated_call_comes_from(
        tmp_path: Path, migrated_dsn: str) -> None:
    config = tmp_path / "flows"
    shutil.copytree(EXAMPLE_CONFIG, config)
    s = settings(tmp_path, migrated_dsn, config=config)
    async with serving(s, simulate=False, telephony=Phones(), time_scale=1.0) as daemon:
        assert daemon.users is not None
        daemon.users.hasher = FAST
        await daemon.users.add("2001", "Sekret117", "agent")
        async with open_page(daemon.url + "/agent", tmp_path / "agent") as agent:
            await wait_for(agent, "document.body.dataset.ready")
            await fill(agent, "signin", agent_id="2001", password="Sekret117",
                       device="PJSIP/desk-21")
            await wait_for(agent, "document.getElementById('state').dataset.state"
                                  " === 'available'")
            daemon.switchboard.post(ev.CallArrived("c1", "081234567890", from_region("32.73")))
            daemon.switchboard.post(ev.PromptFinished("c1", "welcome"))
            await wait_for(agent, "document.getElementById('pop-path').textContent")
            assert await agent.text("pop-path") == (
                "langsung ke Pusdalops BPBD Provinsi Jawa Barat "
                "(tidak ada petugas di wilayahnya)")
            assert await agent.text("pop-tier") == "Provinsi"
