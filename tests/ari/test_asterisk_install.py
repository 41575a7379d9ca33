"""The Asterisk configuration in asterisk/ is safe to run: loopback-only services, no secrets
in the repository, no DTMF in the logs, the modules acd117 needs, and an install script that
works."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from tests.ari.asterisk_conf import ASTERISK, conf, parse_conf, strip_comment


def test_ari_and_ami_listen_on_loopback_only() -> None:
    assert conf("http.conf").named("general")[0].get("bindaddr") == ["127.0.0.1"]
    manager = conf("manager.conf")
    assert manager.named("general")[0].get("bindaddr") == ["127.0.0.1"]
    user = manager.named("acd117-ami-user")[0]
    assert user.get("permit") == ["127.0.0.1/255.255.255.255"]
    assert user.get("deny") == ["0.0.0.0/0.0.0.0"]
    assert conf("ari.conf").named("general")[0].get("allowed_origins") == [""]


def test_no_secret_is_in_the_repository() -> None:
    for path in ASTERISK.iterdir():
        if path.suffix != ".conf":
            continue
        for number, raw in enumerate(path.read_text().splitlines(), 1):
            line = strip_comment(raw)
            assert not re.match(r"(password|secret)\s*=>?\s*\S", line), f"{path.name}:{number}"
            assert not line.startswith("#exec"), f"{path.name}:{number}"
    for name in ("ari.conf", "manager.conf"):
        assert any(i.startswith("acd117-secrets/") for i in conf(name).includes)


def logger_levels(value: str) -> set[str]:
    """The levels of a logger.conf channel: `[formatter]` first is optional, `*` is every
    level, names are case-insensitive (main/logger.c make_components)."""
    value = re.sub(r"^\s*\[[^\]]*\]", "", value)
    return {w.strip().lower() for w in value.split(",") if w.strip()}


def test_no_log_channel_records_dtmf() -> None:
    # Agents key their PINs as DTMF (*11 agent id, PIN): Asterisk logs every received
    # digit at the level `dtmf`, so a log channel with that level would hold the PINs.
    channels = conf("logger.conf").named("logfiles")[0].values
    assert channels
    for name, value in channels:
        levels = logger_levels(value)
        assert "dtmf" not in levels and "*" not in levels, f"logger.conf {name} => {value}"
    assert logger_levels("[json] Notice, DTMF") == {"notice", "dtmf"}


def test_modules_acd117_needs_are_not_disabled() -> None:
    modules = conf("modules.conf").named("modules")[0]
    assert modules.get("autoload") == ["yes"]
    noload = set(modules.get("noload"))
    for needed in ("res_ari.so", "res_stasis.so", "app_stasis.so", "res_pjsip.so",
                   "chan_pjsip.so", "app_queue.so", "res_musiconhold.so",
                   "res_http_websocket.so", "res_stasis_snoop.so", "res_stasis_recording.so"):
        assert needed not in noload


def run_install(etc: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {"PATH": os.environ["PATH"], "ASTERISK_ETC": str(etc), **env}
    return subprocess.run(["sh", str(ASTERISK / "install.sh")], env=full, text=True,
                          capture_output=True, timeout=30)


def test_install_script_writes_config_secrets_and_agent_phones(tmp_path: Path) -> None:
    ok = run_install(tmp_path, ACD117_ARI_PASSWORD="AriTest2026pass",
                     ACD117_AMI_SECRET="AmiTest2026secret", ACD117_AGENT_ENDPOINTS="1001 1002")
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "extensions.conf").read_text() == (ASTERISK / "extensions.conf").read_text()
    secrets = tmp_path / "acd117-secrets"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o750
    ari_user = secrets / "ari-user.conf"
    assert stat.S_IMODE(ari_user.stat().st_mode) == 0o640
    [user] = parse_conf(ari_user).categories
    assert (user.name, user.templates, user.get("password")) == (
        "acd117", ["acd117-ari-user"], ["AriTest2026pass"])
    assert parse_conf(secrets / "manager-user.conf").categories[0].get("secret") == [
        "AmiTest2026secret"]
    agents = parse_conf(tmp_path / "acd117-site" / "pjsip-agents.conf")
    templates = {c.name for c in conf("pjsip.conf").categories if c.is_template}
    assert [c.name for c in agents.categories] == ["1001"] * 3 + ["1002"] * 3
    assert all(set(c.templates) <= templates for c in agents.categories)
    passwords = (secrets / "agent-passwords.txt").read_text().split()
    assert passwords[0] == "1001" and len(passwords[1]) == 20
    assert stat.S_IMODE((secrets / "agent-passwords.txt").stat().st_mode) == 0o600

    # A second run keeps the secrets and does not duplicate the phones.
    again = run_install(tmp_path, ACD117_ARI_PASSWORD="OtherPass2026x",
                        ACD117_AGENT_ENDPOINTS="1001")
    assert again.returncode == 0, again.stderr
    assert "AriTest2026pass" in ari_user.read_text()
    assert (tmp_path / "acd117-site" / "pjsip-agents.conf").read_text().count("[1001]") == 3


def test_install_script_warns_loudly_while_the_fallback_queue_has_no_member(
        tmp_path: Path) -> None:
    # queues.conf takes callers into an empty queue (joinempty = yes): without members,
    # 117 callers would wait on hold music forever while acd117 is down.
    members = tmp_path / "acd117-site" / "queue-national-fallback.conf"
    assert "acd117-site/queue-national-fallback.conf" in conf("queues.conf").includes
    missing = run_install(tmp_path)
    assert missing.returncode == 0
    assert "WARNING: the national fallback queue 'national-fallback' has NO MEMBER" in (
        missing.stderr)
    assert str(members) in missing.stderr and "FOREVER" in missing.stderr

    members.write_text("; member => PJSIP/nas-01,0,Pusdalops Nasional 1\n")  # only a comment
    commented = run_install(tmp_path)
    assert commented.returncode == 0 and "NO MEMBER" in commented.stderr

    members.write_text("member => PJSIP/nas-01,0,Pusdalops Nasional 1\n")
    staffed = run_install(tmp_path)
    assert staffed.returncode == 0 and "NO MEMBER" not in staffed.stderr + staffed.stdout


@pytest.mark.parametrize("password", ["short1A", "alllowercase2026", "NoDigitsHereAtAll",
                                      "Semi;colon2026ab", "has space 2026A"])
def test_install_script_refuses_weak_or_unsafe_passwords(tmp_path: Path, password: str) -> None:
    result = run_install(tmp_path, ACD117_ARI_PASSWORD=password)
    assert result.returncode != 0
    assert not (tmp_path / "acd117-secrets").exists()
