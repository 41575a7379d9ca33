"""`acd117 run` with Asterisk: the adapters are wired from the environment; phone logins
are checked against argon2 hashes of the agents' PINs."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from acd.bootstrap import bootstrap
from acd.cli import main
from acd.service.pins import hash_pin, pin_checker
from acd.service.settings import Settings
from ari.telephony import AsteriskTelephony
from tests.support import agent, build_flows

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "example"


async def test_a_pin_is_checked_against_its_hash_and_never_stored_in_clear():
    hashed = hash_pin("117117")
    assert "117117" not in hashed and hashed.startswith("$argon2")
    flows = build_flows(agents=[{**agent("1001", "bdg"), "pin_hash": hashed},
                                agent("1002", "bdg")])
    verify = pin_checker(lambda: flows)
    assert await verify("1001", "117117")
    assert not await verify("1001", "117118")
    assert not await verify("1002", "117117"), "no PIN set: no phone login"
    assert not await verify("7777", "117117")


async def test_five_wrong_pins_lock_phone_login_for_five_minutes():
    flows = build_flows(agents=[{**agent("1001", "bdg"), "pin_hash": hash_pin("2468")}])
    now = [0.0]
    verify = pin_checker(lambda: flows, clock=lambda: now[0])
    for _ in range(5):
        assert not await verify("1001", "0000")
    assert not await verify("1001", "2468"), "locked, even with the right PIN"
    now[0] += 301
    assert await verify("1001", "2468")


async def test_wrong_pins_keyed_at_once_on_several_phones_are_held_to_the_lockout():
    import asyncio

    flows = build_flows(agents=[{**agent("1001", "bdg"), "pin_hash": hash_pin("2468")}])
    verify = pin_checker(lambda: flows, clock=lambda: 0.0)
    assert not any(await asyncio.gather(*(verify("1001", f"{i:04d}") for i in range(10))))
    assert not await verify("1001", "2468"), "counted before the checks: locked"


@pytest.mark.parametrize("pin", ["12", "abcd", "123456789"])
def test_a_pin_must_be_four_to_eight_digits(pin: str):
    with pytest.raises(ValueError, match="4 to 8 digits"):
        hash_pin(pin)


async def test_pin_hash_prints_a_hash_for_agents_yaml(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("2468\n"))
    assert main(["pin-hash"]) == 0
    flows = build_flows(agents=[{**agent("1001", "bdg"),
                                 "pin_hash": capsys.readouterr().out.strip()}])
    assert await pin_checker(lambda: flows)("1001", "2468")


async def test_with_asterisk_settings_the_adapters_are_wired_without_connecting():
    settings = Settings.from_env({
        "ACD117_ARI_URL": "http://127.0.0.1:1/ari", "ACD117_ARI_USER": "acd117",
        "ACD117_ARI_PASSWORD": "x", "ACD117_AMI_HOST": "127.0.0.1", "ACD117_AMI_PORT": "1",
        "ACD117_AMI_USER": "acd117", "ACD117_AMI_SECRET": "y"}, config=EXAMPLE)
    daemon = bootstrap(settings)
    assert isinstance(daemon.telephony, AsteriskTelephony)
    assert daemon.telephony.side.settings.ari_password == "x"
    assert not daemon.telephony.side.stream.connected.is_set()
