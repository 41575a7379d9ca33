"""The consoles in Chromium: a call taker takes a call with its screen pop, a supervisor
watches and listens in and plays a recording, an admin validates the call flows."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import shutil
import wave
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from argon2 import PasswordHasher

from acd.http.consoles import ASSETS, catalog
from acd.service.ports import TelephonyBase
from acd.service.settings import EXAMPLE_CONFIG
from acd.service.supervision import RecordingSupervision
from acd.store.recordings import RecordingStored
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from acd.vocabulary.tiers import Tier
from tests.ops.browser import Page, open_page
from tests.ops.support import serving, settings
from tests.store.db import write
from tests.support import from_region

FAST = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
UI = Path(__file__).parents[2] / "acd" / "http" / "ui"


class Phones(TelephonyBase):
    """Telephony that only listens: calls ring and connect when the test says so."""

    def __init__(self) -> None:
        self.supervision = RecordingSupervision()
        self.done: list[cmd.Command] = []

    async def execute(self, command: cmd.Command) -> None:
        self.done.append(command)


async def wait_for(page: Page, expression: str, timeout: float = 8.0) -> None:
    async with asyncio.timeout(timeout):
        # Errors count as "not yet": the page may still be loading.
        while not await page.evaluate(f"(() => {{ try {{ return Boolean({expression}); }}"
                                      " catch { return false; } })()"):
            await asyncio.sleep(0.05)


def js(value: str) -> str:
    return json.dumps(value)


async def fill(page: Page, form: str, **values: str) -> None:
    sets = "".join(f"f.elements[{js(k)}].value = {js(v)};" for k, v in values.items())
    await page.evaluate(f"(() => {{ const f = document.getElementById({js(form)}); {sets}"
                        "f.requestSubmit(); })()")


def recorded_call(dir_: Path) -> list[object]:
    """Yesterday's answered call with its recording (a real, playable WAV)."""
    at = datetime.now(ZoneInfo("Asia/Jakarta")) - timedelta(days=1)
    rel = "2026/old-1.wav"
    (dir_ / "2026").mkdir(parents=True)
    with wave.open(str(dir_ / rel), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 8000)
    data = (dir_ / rel).read_bytes()
    t = at.timestamp()
    return [rec.CallStarted("old-1", "+6281299990000", "+6281299990000", "other", "mobile", 0,
                            "32.73", "test", "darurat", None, None, t),
            rec.CallEnded("old-1", "answered", t, t + 4, t + 64, Tier.KABKOTA,
                          "bpbd-kota-bandung", "1001", 4.0, 60.0, 0.0, 0, Tier.KABKOTA),
            RecordingStored("old-1", "1001", "bpbd-kota-bandung", rel, "wav", t + 4, 1.0,
                            len(data), hashlib.sha256(data).hexdigest())]


def an_earlier_call(number: str) -> list[object]:
    """Two hours ago the same number rang and gave up after 40 s."""
    t = datetime.now(ZoneInfo("Asia/Jakarta")).timestamp() - 7200
    return [rec.CallStarted("prev-1", number, number, "mobile", "mobile", 0, "32.73", "test",
                            "darurat", None, None, t),
            rec.CallEnded("prev-1", "abandoned", t, None, t + 40, Tier.KABKOTA,
                          "bpbd-kota-bandung", None, 40.0, 0.0, 0.0, 0)]


async def test_a_shift_in_the_consoles(tmp_path: Path, migrated_dsn: str) -> None:
    config = tmp_path / "flows"
    shutil.copytree(EXAMPLE_CONFIG, config)
    s = settings(tmp_path, migrated_dsn, config=config)
    await write(migrated_dsn, recorded_call(s.recordings_dir)  # type: ignore[arg-type]
                + an_earlier_call("+6281234567890"))
    phones = Phones()
    # Real time: the call rings until the test answers it, wrap-up ends at the agent's word.
    async with serving(s, simulate=False, telephony=phones, time_scale=1.0) as daemon:
        assert daemon.users is not None
        daemon.users.hasher = FAST
        for name, role in (("admin1", "admin"), ("sup1", "supervisor"), ("1001", "agent")):
            await daemon.users.add(name, "Sekret117", role)  # type: ignore[arg-type]
        board = daemon.switchboard
        async with open_page(daemon.url + "/agent", tmp_path / "agent") as agent:
            await wait_for(agent, "document.body.dataset.ready")
            assert await agent.text("signin-button") == "Masuk"
            await fill(agent, "signin", agent_id="1001", password="Sekret117",
                       device="PJSIP/1001")
            await wait_for(agent, "document.getElementById('state').dataset.state"
                                  " === 'available'")
            assert await agent.text("state") == "Tersedia"
            # The pause reasons are the call flows', with the phone's digits.
            await wait_for(agent, "document.querySelector('#reason option[value=meal]')"
                                  ".textContent === 'Makan (*132)'")

            board.post(ev.CallArrived("c1", "+6281234567890", from_region("32.73")))
            board.post(ev.PromptFinished("c1", "welcome"))
            await wait_for(agent, "!document.getElementById('pop').hidden")
            assert await agent.text("pop-title") == "Panggilan masuk — angkat telepon"
            assert await agent.text("pop-caller") == "+6281234567890"
            assert await agent.text("pop-region") == "Kota Bandung (32.73)"
            assert await agent.text("pop-tier") == "Kabupaten / kota"
            assert await agent.text("pop-class") == "Seluler"
            assert await agent.text("pop-line") == "Seluler"
            assert (await agent.text("pop-source")).startswith("aturan masuk ")
            assert await agent.text("pop-path") == "langsung"
            # The caller's history: the call two hours ago, abandoned.
            await wait_for(agent, "document.querySelector('#history tr[data-call-id=\"prev-1\"]')")
            earlier = await agent.evaluate(
                "document.querySelector('#history tr[data-call-id=\"prev-1\"]').textContent")
            assert "Ditinggalkan" in earlier and "bpbd-kota-bandung" in earlier
            ring = next(c for c in phones.done if isinstance(c, cmd.RingAgent))
            board.post(ev.RingAnswered(ring.offer_id))
            await wait_for(agent, "document.getElementById('state').dataset.state"
                                  " === 'on_call'")
            assert await agent.text("state") == "Sedang menelepon"
            # The state and the screen pop come from two requests: the pop follows.
            await wait_for(agent, "document.getElementById('pop-title').textContent"
                                  " === 'Panggilan tersambung'")
            # A second caller waits: nobody else is free at Kota Bandung.
            board.post(ev.CallArrived("c2", "+6281311112222", from_region("32.73")))
            board.post(ev.PromptFinished("c2", "welcome"))

            async with open_page(daemon.url + "/supervisor", tmp_path / "sup") as sup:
                await wait_for(sup, "document.body.dataset.ready")
                await fill(sup, "signin", username="sup1", password="Sekret117")
                await wait_for(sup, "document.querySelector('#agents tr[data-id=\"1001\"]"
                                    "[data-state=\"on_call\"]')")
                await wait_for(sup, "document.querySelector('#calls tr[data-id=\"c2\"]')")
                row = await sup.evaluate(
                    "document.querySelector('#agents tr[data-id=\"1001\"]').textContent")
                assert "Sedang menelepon" in row and "+6281234567890" in row
                # Calls the agent answered today: this one.
                assert await sup.evaluate("document.querySelector('#agents tr[data-id=\"1001\"]"
                                          " td.calls-today').textContent") == "1"
                # The caller, the region, ..., and last its position: next in the queue.
                waiting = await sup.evaluate("[...document.querySelectorAll('#calls"
                                             " tr[data-id=\"c2\"] td')].map(c => c.textContent)")
                assert (waiting[0], waiting[2], waiting[-1]) == (
                    "+6281311112222", "Kota Bandung", "1")
                await sup.evaluate(
                    "(() => { const p = document.getElementById('sup-phone');"
                    " p.value = 'PJSIP/sup-1'; p.dispatchEvent(new Event('change'));"
                    " document.querySelector('#agents tr[data-id=\"1001\"]"
                    " [data-action=\"listen\"]').click(); })()")
                await wait_for(sup, "document.getElementById('action-result').textContent")
                assert [(r.mode, r.call_id, r.supervisor_device)
                        for r in phones.supervision.requests] == [
                    ("listen", "c1", "PJSIP/sup-1")]
                assert await sup.evaluate("localStorage.getItem('acd117.supervisor.phone')") \
                    == "PJSIP/sup-1"

                # The caller of c2 gives up; the agent hands c1 on to the fire brigade
                # and is in wrap-up, then ready.
                board.post(ev.CallerHungUp("c2"))
                await wait_for(agent, "!document.getElementById('transfer').hidden")
                options = await agent.evaluate(
                    "[...document.querySelectorAll('#transfer-to option')]"
                    ".map(o => o.textContent)")
                assert "Pemadam Kebakaran (113)" in options
                assert await agent.text("transfer-button") == "Alihkan"
                # Hold and back.
                await agent.evaluate("document.getElementById('hold').click()")
                await wait_for(agent, "document.getElementById('hold').dataset.on === '1'")
                assert await agent.text("hold") == "Lanjutkan"
                await agent.evaluate("document.getElementById('hold').click()")
                await wait_for(agent, "document.getElementById('hold').dataset.on === ''")
                assert [type(c).__name__ for c in phones.done
                        if isinstance(c, cmd.HoldCaller | cmd.ResumeCaller)] == [
                    "HoldCaller", "ResumeCaller"]
                # A consultation with the fire brigade, taken back.
                await agent.evaluate(
                    "(() => { document.getElementById('transfer-to').value = '113';"
                    " document.getElementById('consult-button').click(); })()")
                await wait_for(agent, "!document.getElementById('party').hidden")
                assert await agent.text("party-state") == "Memanggil 113…"
                (dial,) = [c for c in phones.done if isinstance(c, cmd.DialOut)]
                board.post(ev.OutsideAnswered(dial.leg_id))
                await wait_for(agent, "document.getElementById('party-state').textContent"
                                      " === '113 tersambung'")
                await agent.evaluate("document.getElementById('consult-cancel').click()")
                await wait_for(agent, "document.getElementById('party').hidden &&"
                                      " !document.getElementById('transfer').hidden")
                assert cmd.HangUp("c1", "outside") in phones.done
                # Then handed on to it, blind.
                await agent.evaluate(
                    "(() => { document.getElementById('transfer-to').value = '113';"
                    " document.getElementById('transfer-button').click(); })()")
                await wait_for(agent, "!document.getElementById('wrapup').hidden")
                dials = [c for c in phones.done if isinstance(c, cmd.DialOut)]
                assert [(d.call_id, d.dial) for d in dials] == [
                    ("c1", "PJSIP/113@trunk-telkomsel")] * 2
                assert await agent.text("state") == "Pekerjaan setelah panggilan"
                assert await agent.evaluate("document.getElementById('pop').hidden") is True
                # The wrap-up form: an emergency report (a flood), then ready. The call
                # flows require it: the phone's *15 would not end this wrap-up.
                board.post(ev.WrapUpDone("1001"))
                await wait_for(agent, "!document.getElementById('classify').hidden")
                labels = await agent.evaluate(
                    "[...document.querySelectorAll('#classes label')].map(l => l.textContent)")
                assert labels[:3] == [" Laporan darurat", " Permintaan informasi",
                                      " Panggilan iseng"]
                assert await agent.text("classify-ready") == "Simpan & siap"
                await agent.evaluate(
                    "(() => { const r = document.querySelector('#classes input[value=emergency]');"
                    " r.checked = true; r.dispatchEvent(new Event('change', {bubbles: true}));"
                    " })()")
                await wait_for(agent, "!document.getElementById('report').hidden")
                await agent.evaluate(
                    "(() => { document.getElementById('emergency-type').value = 'flood';"
                    " document.getElementById('place').value = 'Kelurahan Cibangkong';"
                    " document.getElementById('people').value = '12';"
                    " document.getElementById('notes').value = 'air setinggi 1 meter';"
                    " document.getElementById('classify').requestSubmit(); })()")
                await wait_for(agent, "document.getElementById('state').dataset.state"
                                      " === 'available'")
                assert await agent.evaluate("document.getElementById('wrapup').hidden") is True
                assert await agent.evaluate("document.getElementById('classify').hidden") is True
                # The supervisor calls the agent to a briefing: paused, and it shows.
                await wait_for(sup, "document.querySelector('#sup-pause-reason"
                                    " option[value=briefing]').textContent === 'Pengarahan'")
                await sup.evaluate("document.querySelector('#agents tr[data-id=\"1001\"]"
                                   " [data-action=\"pause\"]').click()")
                await wait_for(agent, "document.getElementById('state').dataset.state"
                                      " === 'paused'")
                assert "Pengarahan" in await agent.text("state-detail")
                await agent.evaluate("document.getElementById('ready').click()")
                await wait_for(agent, "document.getElementById('state').dataset.state"
                                      " === 'available'")

                # Recordings: found by the caller's number, played in the page.
                await sup.evaluate("document.querySelector('[data-tab=\"recordings\"]')"
                                   ".click()")
                await fill(sup, "rec-search", number="081299990000")
                await wait_for(sup, "document.querySelector('#recordings tr button')")
                await sup.evaluate("document.querySelector('#recordings tr button').click()")
                await wait_for(sup, "document.querySelector('#recordings audio')"
                                    "?.dataset.loaded === '1'")
                duration = await sup.evaluate("document.querySelector('#recordings audio')"
                                              ".duration")
                assert abs(duration - 1.0) < 0.05

                # Reports: yesterday's call per day, as a table and a bar chart.
                await sup.evaluate("document.querySelector('[data-tab=\"reports\"]').click()")
                day = (datetime.now(ZoneInfo("Asia/Jakarta")) - timedelta(days=1)).date()
                await fill(sup, "report-form", kind="calls", unit="day", **{"from": str(day)})
                await wait_for(sup, "document.querySelector('#report-table tbody tr')")
                headers = await sup.evaluate(
                    "[...document.querySelectorAll('#report-table th')].map(h => h.textContent)")
                assert "Masuk" in headers and "Tingkat layanan" in headers
                assert await sup.evaluate("document.querySelectorAll('#chart rect').length") >= 1
                # Today's calls by classification: the flood reported at wrap-up.
                today = datetime.now(ZoneInfo("Asia/Jakarta")).date()
                await fill(sup, "report-form", kind="classifications", unit="day",
                           **{"from": str(today)})
                await wait_for(sup, "[...document.querySelectorAll('#report-table td')]"
                                    ".some(td => td.textContent === 'flood')")
                headers = await sup.evaluate(
                    "[...document.querySelectorAll('#report-table th')].map(h => h.textContent)")
                assert "Jenis kejadian" in headers and "Orang terdampak" in headers

                # The admin's console: the call flows validate; a broken file is located.
                await sup.send("Page.navigate", url=daemon.url + "/admin")
                await wait_for(sup, "document.body.dataset.ready")
                await fill(sup, "signin", username="admin1", password="Sekret117")
                await wait_for(sup, "!document.getElementById('desk').hidden")
                await sup.evaluate("document.getElementById('validate').click()")
                await wait_for(sup, "document.getElementById('flows-result').dataset.outcome")
                assert (await sup.text("flows-result")).startswith("Valid: ")
                centres = config / "centres.yaml"
                centres.write_text(centres.read_text().replace("wrap_up_s: 30",
                                                               "wrap_up_s: -5", 1))
                await sup.evaluate("document.getElementById('validate').click()")
                await wait_for(sup, "document.getElementById('flows-result').dataset.outcome"
                                    " === 'invalid'")
                cells = await sup.evaluate(
                    "[...document.querySelectorAll('#problems tr:first-child td')]"
                    ".map(td => td.textContent)")
                assert cells[0].endswith("centres.yaml") and re.fullmatch(r"\d+:\d+", cells[1])
                assert "wrap_up_s" in cells[2]
                users = await sup.evaluate(
                    "[...document.querySelectorAll('#users tr')].map(r => r.dataset.username)")
                assert set(users) == {"admin1", "sup1", "1001"}
                # English on asking; the tab stays signed in.
                await sup.send("Page.navigate", url=daemon.url + "/admin?lang=en")
                await wait_for(sup, "document.body.dataset.ready &&"
                                    " !document.getElementById('desk').hidden")
                assert await sup.text("validate") == "Validate"


def two_pranks(number: str) -> list[object]:
    """An hour ago and just now: two calls from one number, classified as pranks."""
    t = datetime.now(ZoneInfo("Asia/Jakarta")).timestamp()
    out: list[object] = []
    for i, at in enumerate((t - 3600, t - 60)):
        call_id = f"prank-{i}"
        out += [rec.CallStarted(call_id, number, number, "mobile", "mobile", 0, "32.73",
                                "test", "darurat", None, None, at),
                rec.CallEnded(call_id, "answered", at, at + 3, at + 20, Tier.KABKOTA,
                              "bpbd-kota-bandung", "1001", 3.0, 17.0, 0.0, 0, Tier.KABKOTA),
                rec.Classification(call_id, "1001", "prank", at + 25, notes="tertawa")]
    return out


async def test_a_supervisor_reviews_the_pranks_and_lists_the_number_as_a_nuisance(
        tmp_path: Path, migrated_dsn: str) -> None:
    config = tmp_path / "flows"
    shutil.copytree(EXAMPLE_CONFIG, config)
    s = settings(tmp_path, migrated_dsn, config=config)
    await write(migrated_dsn, two_pranks("+6281399998888"))  # type: ignore[arg-type]
    async with serving(s, simulate=False, telephony=Phones(), time_scale=1.0) as daemon:
        assert daemon.users is not None
        daemon.users.hasher = FAST
        await daemon.users.add("sup1", "Sekret117", "supervisor")
        async with open_page(daemon.url + "/supervisor", tmp_path / "sup") as sup:
            await wait_for(sup, "document.body.dataset.ready")
            await fill(sup, "signin", username="sup1", password="Sekret117")
            await wait_for(sup, "!document.getElementById('desk').hidden")
            await sup.evaluate("document.querySelector('[data-tab=\"reviews\"]').click()")
            row = "#review-numbers tr[data-caller=\"+6281399998888\"]"
            await wait_for(sup, f"document.querySelector('{row}')")
            assert "2" in await sup.evaluate(f"document.querySelector('{row}').textContent")
            assert await sup.evaluate(
                "document.querySelectorAll('#review-calls tr').length") == 2
            await sup.evaluate(f"document.querySelector('{row} button').click()")
            assert await sup.evaluate(
                "document.getElementById('nuisance-form').reason.value") == \
                "2 panggilan iseng dalam 7 hari"
            await sup.evaluate("document.getElementById('nuisance-form').requestSubmit()")
            listed = "#nuisance-list tr[data-number=\"+6281399998888\"]"
            await wait_for(sup, f"document.querySelector('{listed} button')")
            assert "+6281399998888" in daemon.acd.nuisance_listed
            # The call flows' own listing is shown, not removable here.
            flows_row = "#nuisance-list tr[data-number=\"+6285700000117\"]"
            assert await sup.evaluate(f"!document.querySelector('{flows_row} button')")
            await sup.evaluate(f"document.querySelector('{listed} button').click()")
            await wait_for(sup, f"!document.querySelector('{listed}')")
            assert "+6281399998888" not in daemon.acd.nuisance_listed


def test_every_string_of_the_pages_is_in_both_catalogs() -> None:
    keys: set[str] = set()
    for page in UI.glob("*.html"):
        keys |= set(re.findall(r'data-i18n(?:-placeholder|-title)?="([^"]+)"', page.read_text()))
    for script in UI.glob("*.js"):
        keys |= set(re.findall(r'\bt\("([a-z_.]+)"', script.read_text()))
    assert len(keys) > 80
    for lang in ("id", "en"):
        messages = json.loads((UI / "i18n" / f"{lang}.json").read_text())
        assert keys - set(messages) == set(), lang
    assert set(json.loads((UI / "i18n" / "id.json").read_text())) == \
        set(json.loads((UI / "i18n" / "en.json").read_text()))
    assert catalog("id")["agent_state.available"] == "Tersedia"
    assert catalog("en")["agent_state.available"] == "Available"


async def test_pages_are_served_without_a_cdn_and_nothing_else_of_the_package(
        tmp_path: Path) -> None:
    class Quiet(TelephonyBase):
        async def execute(self, command: object) -> None:
            pass

    async with serving(settings(tmp_path), simulate=False, telephony=Quiet()) as daemon, \
            aiohttp.ClientSession() as http:
        for path in ("/agent", "/supervisor", "/admin", *(f"/consoles/{a}" for a in ASSETS)):
            async with http.get(daemon.url + path) as r:
                assert r.status == 200, path
                # The SVG namespace is a name, not an address: nothing is fetched from it.
                text = (await r.text()).replace('"http://www.w3.org/2000/svg"', "")
                assert "http://" not in text and "https://" not in text, path
        for path in ("/consoles/../consoles.py", "/consoles/ui/agent.html",
                     "/consoles/wallboard.html"):
            async with http.get(daemon.url + path) as r:
                assert r.status == 404, path
        async with http.get(daemon.url + "/wallboard") as r:
            assert '"wall.waiting": "Menunggu"' in await r.text()
        async with http.get(daemon.url + "/wallboard?lang=en") as r:
            page = await r.text()
            assert '"wall.waiting": "Waiting"' in page and '<html lang="en">' in page
        async with http.get(daemon.url + "/agent?lang=en") as r:
            assert '<html lang="en">' in await r.text()
