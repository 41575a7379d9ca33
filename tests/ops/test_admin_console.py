"""The admin's console resets a forgotten password: the new one signs in, the old one and
the sessions opened with it no longer work."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from acd.service.ports import TelephonyBase
from tests.ops.browser import open_page
from tests.ops.support import serving, settings
from tests.ops.test_api import FAST, Client
from tests.ops.test_consoles import fill, wait_for


class Quiet(TelephonyBase):
    async def execute(self, command: object) -> None:
        pass


async def test_an_admin_resets_a_supervisors_password_in_the_console(
        tmp_path: Path, migrated_dsn: str) -> None:
    async with serving(settings(tmp_path, migrated_dsn), simulate=False,
                       telephony=Quiet()) as daemon, aiohttp.ClientSession() as http:
        assert daemon.users is not None
        daemon.users.hasher = FAST
        await daemon.users.add("admin1", "Sekret117", "admin")
        await daemon.users.add("sup1", "Lupa2026x", "supervisor")
        client = Client(http, daemon.url)
        old_session = await client.login("sup1", "Lupa2026x")
        async with open_page(daemon.url + "/admin", tmp_path / "admin") as page:
            await wait_for(page, "document.body.dataset.ready")
            await fill(page, "signin", username="admin1", password="Sekret117")
            await wait_for(page, "document.querySelector('#users tr[data-username=\"sup1\"]')")
            await page.evaluate("document.querySelector('#users tr[data-username=\"sup1\"]"
                                " [data-action=\"reset\"]').click()")
            assert await page.evaluate(
                "document.getElementById('reset-password').username.value") == "sup1"
            await page.evaluate("(() => { const f = document.getElementById('reset-password');"
                                " f.password.value = 'Baru2026x'; f.requestSubmit(); })()")
            await wait_for(page, "!document.getElementById('notice').hidden")
            assert await page.text("notice") == (
                "Kata sandi sup1 disetel ulang; semua sesinya diakhiri.")
        status, _ = await client.call("GET", "/api/me", token=old_session)
        assert status == 401
        status, _ = await client.call("POST", "/api/login",
                                      {"username": "sup1", "password": "Lupa2026x"})
        assert status == 401
        assert await client.login("sup1", "Baru2026x")
