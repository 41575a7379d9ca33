"""A whole 117 call in the web consoles, in Indonesian, on the real Asterisk with real
phones: the call taker signs in at the console with a registered baresip phone, the call
rings and the screen pop shows the caller, the region and the number's history, the call
taker answers on the phone, classifies in the console and is ready again; the supervisor
sees it live, listens in from their own phone (which rings and answers), then finds the
recording Asterisk made and plays it in the browser.

Headless Chromium (Debian's `chromium`) is needed too: without it this test skips with one
line, and fails in CI, as the browser tests of tests/ops do."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import yaml

from acd.http.recordings import recording_id
from tests.integration.asterisk import ACD117, REPO
from tests.integration.conftest import SUPERVISOR, SUPERVISOR_PASSWORD
from tests.integration.daemon import EXAMPLE
from tests.integration.scenario import MOBILE, call_row, dial_117, rows
from tests.ops.browser import Page, chromium_binary, open_page
from tests.ops.test_consoles import an_earlier_call, fill, wait_for
from tests.store.db import write

AGENT_PASSWORD = "Agen1001Kuat"


def agent_account(dsn: str, agent_id: str) -> None:
    """The call taker's console account (the phone's PIN is another secret)."""
    subprocess.run([*ACD117, "user", "add", agent_id, "--role", "agent", "--dsn", dsn],
                   input=AGENT_PASSWORD + "\n", text=True, check=True, capture_output=True,
                   cwd=REPO)


def with_wrapup() -> dict[str, Any]:
    """The test call flows with the example's wrap-up classes (required before ready)."""
    return {"wrapup": yaml.safe_load((EXAMPLE / "wrapup.yaml").read_text())}


async def until_page(page: Page, expression: str, what: str, timeout: float = 20.0) -> None:
    try:
        await wait_for(page, expression, timeout=timeout)
    except TimeoutError:
        raise AssertionError(f"the page never showed {what}: {expression}") from None


def row(table: str, key: str, value: str) -> str:
    return f"document.querySelector('#{table} tr[data-{key}=\"{value}\"]')"


async def test_a_whole_call_in_the_consoles_in_indonesian_on_the_real_asterisk(
        acd117, phones, ami, db, asterisk, migrated_dsn: str, tmp_path: Path) -> None:
    chromium_binary()  # before Asterisk is put to work: skipped (or failed in CI) here
    await write(migrated_dsn, an_earlier_call(MOBILE))  # type: ignore[arg-type]
    agent_account(migrated_dsn, "1001")
    acd = await acd117(with_wrapup())
    desk = await phones("1001", answer="manual")
    sup_phone = await phones("sup-01", answer="auto")

    async with open_page(acd.url + "/agent", tmp_path / "agent") as agent, \
            open_page(acd.url + "/supervisor", tmp_path / "sup") as sup:
        # The call taker signs in at the console, at the phone on their desk.
        await until_page(agent, "document.body.dataset.ready", "the sign-in form")
        assert await agent.text("signin-button") == "Masuk"
        await fill(agent, "signin", agent_id="1001", password=AGENT_PASSWORD,
                   device="PJSIP/1001")
        await until_page(agent, "document.getElementById('state').dataset.state"
                                " === 'available'", "the agent available")
        assert await agent.text("state") == "Tersedia"
        await until_page(agent, "document.body.dataset.live === 'stream'", "the live stream")

        # The supervisor signs in and watches the room.
        await until_page(sup, "document.body.dataset.ready", "the supervisor's sign-in")
        await fill(sup, "signin", username=SUPERVISOR, password=SUPERVISOR_PASSWORD)
        await until_page(sup, row("agents", "id", "1001") + "?.dataset.state === 'available'",
                         "agent 1001 available in the supervisor's room")
        await until_page(sup, "document.body.dataset.live === 'stream'", "the room's stream")

        # A 117 call from Kota Bandung: the desk phone rings and the screen pop opens.
        mark = desk.mark()
        call_id = await dial_117(ami)
        await desk.wait_event("CALL_INCOMING", after=mark, timeout=20)
        await until_page(agent, "!document.getElementById('pop').hidden", "the screen pop")
        assert await agent.text("pop-title") == "Panggilan masuk — angkat telepon"
        assert await agent.text("pop-caller") == MOBILE
        assert await agent.text("pop-region") == "Kota Bandung (32.73)"
        assert await agent.text("pop-source") == "aturan masuk did-kota-bandung"
        assert await agent.text("pop-tier") == "Kabupaten / kota"
        await until_page(agent, row("history", "call-id", "prev-1"), "the number's history")
        earlier = await agent.evaluate(row("history", "call-id", "prev-1") + ".textContent")
        assert "Ditinggalkan" in earlier  # two hours ago this number gave up waiting

        # Answered on the phone: Asterisk bridges caller and agent; both consoles follow.
        await desk.accept()
        await ami.bridged_with(call_id, "PJSIP/1001-", timeout=15)
        await until_page(agent, "document.getElementById('pop-title').textContent"
                                " === 'Panggilan tersambung'", "the call connected")
        assert await agent.text("state") == "Sedang menelepon"
        await until_page(sup, row("agents", "id", "1001") + "?.dataset.state === 'on_call'",
                         "agent 1001 on a call in the supervisor's room")
        seen = await sup.evaluate(row("agents", "id", "1001") + ".textContent")
        assert "Sedang menelepon" in seen and MOBILE in seen

        # The supervisor listens in: their own phone rings, answers, and is bridged with
        # a snoop on the agent's channel.
        sup_mark, ami_mark = sup_phone.mark(), ami.mark()
        await sup.evaluate(
            "(() => { const p = document.getElementById('sup-phone');"
            " p.value = 'PJSIP/sup-01'; p.dispatchEvent(new Event('change'));"
            " document.querySelector('#agents tr[data-id=\"1001\"] [data-action=\"listen\"]')"
            ".click(); })()")
        await until_page(sup, "document.getElementById('action-result').textContent",
                         "the listen confirmed")
        assert (await sup.text("action-result")).startswith("Mendengarkan 1001")
        entered = await ami.wait_event("BridgeEnter", Channel="PJSIP/sup-01*", after=ami_mark,
                                       timeout=20)
        assert ami.together(entered["Uniqueid"], "Snoop/", after=ami_mark) is not None
        try:  # and the phone itself says it took a call
            await sup_phone.wait_event("CALL_ESTABLISHED", after=sup_mark, timeout=10)
        except TimeoutError:
            raise AssertionError("sup-01 answered nothing: "
                                 f"{[e.get('type') for e in sup_phone.events[sup_mark:]]}"
                                 ) from None
        await asyncio.sleep(2.0)  # they talk, recorded, listened to

        # The caller hangs up: wrap-up, the classification form, then ready again.
        await ami.hang_up_caller(call_id)
        await until_page(agent, "document.getElementById('state').dataset.state"
                                " === 'after_call_work'", "the agent in wrap-up")
        assert await agent.text("state") == "Pekerjaan setelah panggilan"
        await until_page(agent, "!document.getElementById('classify').hidden",
                         "the classification form")
        await agent.evaluate(
            "(() => { const r = document.querySelector('#classes input[value=emergency]');"
            " r.checked = true; r.dispatchEvent(new Event('change', {bubbles: true})); })()")
        await until_page(agent, "!document.getElementById('report').hidden",
                         "the emergency report fields")
        await agent.evaluate(
            "(() => { document.getElementById('emergency-type').value = 'flood';"
            " document.getElementById('place').value = 'Kelurahan Cibangkong';"
            " document.getElementById('people').value = '12';"
            " document.getElementById('notes').value = 'air setinggi 1 meter';"
            " document.getElementById('classify').requestSubmit(); })()")
        await until_page(agent, "document.getElementById('state').dataset.state"
                                " === 'available'", "the agent ready again")
        await until_page(sup, row("agents", "id", "1001") + "?.dataset.state === 'available'",
                         "agent 1001 available again in the supervisor's room")
        call = await call_row(db, call_id)
        assert (call["outcome"], call["agent_id"]) == ("answered", "1001")
        (kind,) = await rows(db, "SELECT * FROM call_classes WHERE call_id = $1", call_id)
        assert (kind["code"], kind["emergency_type"], kind["people_affected"]) == (
            "emergency", "flood", 12)

        # The recording Asterisk made, found by the caller's number and played in the page.
        (stored,) = await rows(db, "SELECT * FROM recordings WHERE call_id = $1", call_id)
        assert (asterisk.recordings / stored["path"]).stat().st_size > 1000
        await sup.evaluate("document.querySelector('[data-tab=\"recordings\"]').click()")
        await fill(sup, "rec-search", number=MOBILE)
        found = row("recordings", "id", recording_id(stored["path"]))
        await until_page(sup, found, "the call's recording in the search")
        await sup.evaluate(found + ".querySelector('button').click()")
        audio = found + ".querySelector('audio')"
        await until_page(sup, audio + "?.dataset.loaded === '1'", "the recording loaded")
        assert await sup.evaluate(audio + ".duration") >= 1.5
        # Played, as the supervisor's press of the player's button would (Chromium plays
        # nothing a user has not asked for: the evaluation counts as their gesture).
        played = await sup.send("Runtime.evaluate", userGesture=True, awaitPromise=True,
                                returnByValue=True, expression=audio + ".play()"
                                ".then(() => 'playing', e => String(e))")
        assert played["result"]["value"] == "playing"
        await until_page(sup, audio + ".currentTime > 0.2", "the recording playing")
