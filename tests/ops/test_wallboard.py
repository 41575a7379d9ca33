"""The wallboard: served self-contained, live over server-sent events, seen in Chromium."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import aiohttp

from acd.service.ports import TelephonyBase
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from tests.ops.browser import open_page
from tests.ops.support import serving, settings, until
from tests.support import from_region


class Quiet(TelephonyBase):
    """Telephony that does what it is told and nothing more: calls wait until we act."""

    async def execute(self, command: cmd.Command) -> None:
        pass


async def test_the_page_is_self_contained_and_large() -> None:
    from acd.http.wallboard import _page

    html = _page()
    assert not re.search(r"""(src|href)=["']?https?:""", html)  # no CDN, no web font
    assert "@import" not in html and "http://" not in html and "https://" not in html
    assert re.search(r"\.tile \.value \{[^}]*font-size: 5vw", html)


async def test_server_sent_events_arrive_within_three_seconds(tmp_path: Path) -> None:
    async with serving(settings(tmp_path), simulate=False, telephony=Quiet()) as daemon, \
            aiohttp.ClientSession() as s, s.get(daemon.url + "/wallboard/events") as r:
        assert r.headers["Content-Type"].startswith("text/event-stream")
        started = time.monotonic()
        seen: list[dict] = []  # type: ignore[type-arg]
        async with asyncio.timeout(8):
            async for raw in r.content:
                line = raw.decode().strip()
                if line.startswith("data: "):
                    seen.append(json.loads(line[6:]))
                    if len(seen) == 2:
                        break
        assert time.monotonic() - started <= 3.5  # the first at once, the next within 3 s
        assert seen[0]["total"]["waiting"] == 0 and len(seen[0]["tiers"]) == 3


async def test_chromium_shows_live_numbers_that_change_when_calls_arrive(
        tmp_path: Path) -> None:
    async with serving(settings(tmp_path), simulate=False, telephony=Quiet()) as daemon:
        for agent in ("1001", "1002", "9001"):
            daemon.switchboard.post(ev.AgentLoggedIn(agent, f"PJSIP/{agent}"))
        daemon.switchboard.post(ev.AgentPaused("1002", "briefing"))
        async with open_page(daemon.url + "/wallboard", tmp_path / "chromium") as page:
            async with asyncio.timeout(15):
                while await page.text("total-waiting") != "0":
                    await asyncio.sleep(0.1)
            assert [await page.text(f"total-{k}") for k in ("available", "oncall", "paused")] \
                == ["2", "0", "1"]
            rows = await page.evaluate(
                "[...document.querySelectorAll('#rows tr')].map(r => r.dataset.id)")
            assert rows[0] == "kabkota" and "bpbd-kota-bandung" in rows
            # Three callers from Kota Bandung: one rings 1001, two wait at kabkota (the
            # national agent gets them only once they escalate, after 20 s).
            for n in range(3):
                call_id = f"tv-{n}"
                daemon.switchboard.post(ev.CallArrived(call_id, f"+62811000000{n}",
                                                       from_region("32.73")))
                daemon.switchboard.post(ev.PromptFinished(call_id, "welcome"))
            await until(lambda: len(daemon.acd.calls) == 3)
            changed_at = time.monotonic()
            async with asyncio.timeout(3.5):  # at most 3 s old
                while await page.text("total-waiting") != "3":
                    await asyncio.sleep(0.05)
            assert time.monotonic() - changed_at <= 3.5
            assert [await page.text(f"total-{k}") for k in ("available", "oncall", "paused")] \
                == ["1", "1", "1"]
            assert int(await page.evaluate("document.body.dataset.updates")) >= 2
            stale = await page.evaluate("document.body.classList.contains('stale')")
            assert stale is False


async def test_centres_that_do_not_fit_turn_by_pages_and_an_unstaffed_one_is_on_every_page(
        tmp_path: Path) -> None:
    async with serving(settings(tmp_path), simulate=False, telephony=Quiet()) as daemon:
        # Nobody logged in anywhere: a Kota Bandung caller ends up waiting at national,
        # where nobody is available.
        daemon.switchboard.post(ev.CallArrived("lone", "+628110000001", from_region("32.73")))
        daemon.switchboard.post(ev.PromptFinished("lone", "welcome"))
        url = daemon.url + "/wallboard?rows=3&rotate=2"
        async with open_page(url, tmp_path / "chromium") as page:
            pages: dict[str, list[str]] = {}
            async with asyncio.timeout(20):
                while len(pages) < 2:
                    shown = await page.evaluate(
                        "[document.getElementById('page')?.textContent,"
                        " [...document.querySelectorAll('#rows tr.centre')]"
                        ".map(r => r.dataset.id)]")
                    if shown[0]:
                        pages[shown[0]] = shown[1]
                    await asyncio.sleep(0.1)
        # Six centres, three rows: the national centre on each page, two others each time.
        assert set(pages) <= {"Halaman 1/3", "Halaman 2/3", "Halaman 3/3"}
        for ids in pages.values():
            assert len(ids) == 3 and "pusdalops-bnpb" in ids
        first, second = pages.values()
        assert set(first) & set(second) == {"pusdalops-bnpb"}
