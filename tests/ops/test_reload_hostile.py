"""A reload of hostile YAML is refused (422, audited) fast, and the daemon stays small."""

from __future__ import annotations

import resource
import time

from acd.bootstrap import Daemon
from tests.ops.test_api import Client, Phones, api, audit_rows  # noqa: F401 (fixture)


async def test_a_reload_of_a_recursive_alias_or_an_alias_bomb_is_a_located_422_and_audited(
        api: tuple[Daemon, Client, Phones]) -> None:  # noqa: F811
    daemon, client, _ = api
    client.token = await client.login("admin1", "Sekret117")
    flows_before = daemon.acd.flows
    extra = daemon.settings.config / "extra.yaml"
    extra.write_text("callers: &loop\n  again: *loop\n")
    status, body = await client.call("POST", "/api/config/reload")
    assert status == 422 and "extra.yaml:2:10:" in body["problems"][0]
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
    extra.write_text("callers:\n" + "".join(f"  {line}\n" for line in lines))
    grown_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    status, body = await client.call("POST", "/api/config/reload")
    assert time.monotonic() - started < 2.0
    assert status == 422 and "alias bomb" in body["problems"][0]
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - grown_before < 100_000  # kB
    assert daemon.acd.flows is flows_before
    refused = [r for r in await audit_rows(daemon.settings.dsn or "")
               if r[1] == "config.reload"]
    assert [r[3] for r in refused] == ["refused", "refused"]
