"""The daemon as a whole: settings, bootstrap, running on simulated telephony, stopping."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from pydantic import ValidationError

from acd.bootstrap import StartupError, bootstrap
from acd.service.ports import TelephonyBase
from acd.service.settings import Settings, SettingsError
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from tests.ops.support import get_json, serving, settings, until

ACD117 = str(Path(sys.executable).parent / "acd117")


def test_settings_come_from_the_environment_over_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / "acd117.env"
    env_file.write_text("# acd117\nACD117_HTTP_PORT=9000\nACD117_DSN='postgresql://db/acd'\n"
                        "export ACD117_LOG_FORMAT=json\n")
    s = Settings.from_env({"ACD117_ENV_FILE": str(env_file), "ACD117_HTTP_PORT": "9117",
                           "HOME": "/root"})
    assert s.http_port == 9117  # the environment wins
    assert s.dsn == "postgresql://db/acd"
    assert s.log_format == "json"
    assert s.http_host == "127.0.0.1"
    with pytest.raises(ValidationError):
        s.http_port = 1  # type: ignore[misc]  # frozen


def test_defaults_listen_on_loopback_8117() -> None:
    s = Settings.from_env({})
    assert (s.http_host, s.http_port) == ("127.0.0.1", 8117)


def test_a_bad_setting_is_reported_by_its_variable_name() -> None:
    with pytest.raises(SettingsError, match="ACD117_HTTP_PORT"):
        Settings.from_env({"ACD117_HTTP_PORT": "eighty"})


def test_without_asterisk_adapters_the_daemon_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="Asterisk is not configured: set ACD117_ARI_URL"):
        bootstrap(settings(tmp_path))


def test_bootstrap_connects_nothing_and_attaches_a_given_telephony(tmp_path: Path) -> None:
    class Phones(TelephonyBase):
        def __init__(self) -> None:
            self.post = None

        def attach(self, post) -> None:  # type: ignore[no-untyped-def]
            self.post = post

        async def execute(self, command: cmd.Command) -> None:
            pass

    phones = Phones()
    # A DSN nobody listens on: bootstrap must not try it.
    daemon = bootstrap(settings(tmp_path, dsn="postgresql://x@127.0.0.1:1/none"), phones)
    assert phones.post == daemon.switchboard.post
    assert daemon.writer is not None and not daemon.writer.stats.connected


async def test_the_simulated_daemon_answers_calls_and_writes_them_to_postgres(
        tmp_path: Path, migrated_dsn: str) -> None:
    async with serving(settings(tmp_path, migrated_dsn, demo_calls_per_hour=3600)) as daemon:
        status, body = await get_json(daemon.url + "/health")
        assert status == 200 and body["status"] == "ok"
        answered = lambda: sum(  # noqa: E731
            c["answered_today"] for c in daemon.live.snapshot()["centres"])
        await until(lambda: answered() >= 3, timeout=10)
        status, ready = await get_json(daemon.url + "/ready")
        assert status == 200 and ready["checks"]["ari"]["detail"] == "simulated"
    conn = await asyncpg.connect(migrated_dsn)
    try:
        stored = await conn.fetchval(
            "SELECT count(*) FROM call_offers WHERE result = 'answered'")
    finally:
        await conn.close()
    assert stored >= 3  # the writer drained on stop


async def test_stopping_leaves_no_task_behind(tmp_path: Path) -> None:
    before = asyncio.all_tasks()
    async with serving(settings(tmp_path)) as daemon:
        await until(lambda: daemon.switchboard.events_handled > 0)
    await asyncio.sleep(0)
    left = {t for t in asyncio.all_tasks() - before if not t.done()}
    assert left == set()


async def test_agent_events_posted_to_a_running_daemon_change_the_state(tmp_path: Path) -> None:
    async with serving(settings(tmp_path), time_scale=100.0) as daemon:  # no simulated traffic
        daemon.switchboard.post(ev.AgentLoggedIn("9006", "PJSIP/desk-7"))
        await until(lambda: daemon.acd.agents["9006"].device == "PJSIP/desk-7")


def test_acd117_run_stops_cleanly_on_sigterm(tmp_path: Path, migrated_dsn: str) -> None:
    env = {**os.environ, "ACD117_DSN": migrated_dsn, "ACD117_HTTP_PORT": "0",
           "ACD117_SPOOL_DIR": str(tmp_path / "spool"), "ACD117_LOG_FORMAT": "json"}
    proc = subprocess.Popen([ACD117, "run", "--simulate"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "acd117 is running: wallboard http://127.0.0.1:" in line
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert '"event": "acd117 stopped"' in (proc.stderr.read() if proc.stderr else "")


def test_acd117_run_without_asterisk_explains_itself(tmp_path: Path) -> None:
    env = {**os.environ, "ACD117_HTTP_PORT": "0", "ACD117_SPOOL_DIR": str(tmp_path)}
    env.pop("ACD117_DSN", None)
    done = subprocess.run([ACD117, "run"], env=env,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert "Asterisk is not configured: set ACD117_ARI_URL" in done.stderr


async def test_state_and_metrics_are_served_over_http(tmp_path: Path) -> None:
    from acd.http.ops import state_json

    async with serving(settings(tmp_path), time_scale=100.0) as daemon:
        daemon.switchboard.post(ev.AgentLoggedIn("1001", "PJSIP/1001"))
        await until(lambda: daemon.acd.agents["1001"].device is not None)
        status, _ = await get_json(daemon.url + "/api/state")
        assert status == 503  # no user database, so nobody may see the calls
        state = state_json(daemon, daemon.live.clock())
        assert {"centres", "tiers", "queues", "calls", "agents"} <= set(state)
        agent = next(a for a in state["agents"] if a["id"] == "1001")
        assert agent["state"] == "available" and agent["device"] == "PJSIP/1001"
        import aiohttp

        async with aiohttp.ClientSession() as s, s.get(daemon.url + "/metrics") as r:
            text = await r.text()
        assert r.headers["Content-Type"].startswith("text/plain")
        logged_in = sum(a.device is not None for a in daemon.acd.agents.values()
                        if a.centre_id == "bpbd-kota-bandung")
        assert f'acd117_agents_logged_in{{centre="bpbd-kota-bandung"}} {logged_in}.0' in text


def test_the_demo_starts_its_own_postgres_prints_accounts_and_stops_on_ctrl_c(
        tmp_path: Path) -> None:
    env = {**os.environ, "ACD117_HTTP_PORT": "0", "ACD117_LOG_FORMAT": "json"}
    env.pop("ACD117_DSN", None)
    errors = (tmp_path / "stderr.log").open("w")
    proc = subprocess.Popen([ACD117, "run", "--simulate"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=errors, text=True)
    errors.close()
    try:
        assert proc.stdout is not None
        lines = []
        while not lines or not lines[-1].startswith("acd117 is running"):
            line = proc.stdout.readline()
            assert line, ("the demo ended before it was running:\n"
                          + (tmp_path / "stderr.log").read_text()[-2000:])
            lines.append(line)
        assert any(x.startswith("demo account: admin (admin) password Demo") for x in lines)
        assert (tmp_path / "var" / "demo-pg").is_dir()
        assert any(x.startswith("demo database: postgresql://") for x in lines)
        # `acd117 report` beside the running demo finds its database without being told.
        report = subprocess.run([ACD117, "report", "--kind", "tiers"], env=env, cwd=tmp_path,
                                capture_output=True, text=True, timeout=60)
        assert report.returncode == 0, report.stderr
        assert "using the running demo's database" in report.stderr
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert not (tmp_path / "var" / "demo-pg" / "dsn").exists()
    finally:
        if proc.poll() is None:
            proc.kill()


async def test_ready_is_503_naming_the_fallback_queue_while_it_has_no_member(
        tmp_path: Path) -> None:
    from tests.fakes.asterisk import FakeAsterisk

    async with FakeAsterisk() as peer:
        peer.queue_members["national-fallback"] = []  # no acd117-site file
        s = settings(tmp_path, ari_url=peer.ari_url, ari_user=peer.ari_user,
                     ari_password=peer.ari_password, ami_host="127.0.0.1",
                     ami_port=peer.ami_port, ami_user=peer.ami_user,
                     ami_secret=peer.ami_secret)
        async with bootstrap(s).serving() as daemon:
            await until(lambda: (c := daemon.health.get("fallback_queue")) is not None
                        and c.detail == "no member in national-fallback")
            status, ready = await get_json(daemon.url + "/ready")
            assert status == 503 and not ready["ready"]
            assert ready["checks"]["fallback_queue"] == {
                "ok": False, "detail": "no member in national-fallback"}
            assert ready["checks"]["ari"]["ok"] and ready["checks"]["ami"]["ok"]

            peer.queue_members["national-fallback"] = ["PJSIP/nas-01"]  # the site file
            await daemon.telephony.side.fallback.check()  # type: ignore[attr-defined]
            await until(lambda: daemon.health.get("fallback_queue").up, timeout=3)  # type: ignore[union-attr]
            status, ready = await get_json(daemon.url + "/ready")
            assert status == 200 and ready["checks"]["fallback_queue"]["ok"]


async def test_the_asterisk_adapters_report_their_connections_and_serve_monitoring(
        tmp_path: Path) -> None:
    from acd.service.health import connections_watch
    from acd.service.supervision import MonitorRequest, MonitorSupervision, SupervisionError

    s = Settings.from_env({
        "ACD117_ARI_URL": "http://127.0.0.1:1/ari", "ACD117_ARI_USER": "acd117",
        "ACD117_ARI_PASSWORD": "x", "ACD117_AMI_HOST": "127.0.0.1", "ACD117_AMI_PORT": "1",
        "ACD117_AMI_USER": "acd117", "ACD117_AMI_SECRET": "y"},
        spool_dir=tmp_path / "spool")
    daemon = bootstrap(s)  # nothing connects here
    watch = connections_watch(daemon.telephony, daemon.health, every_s=0.01)
    assert watch is not None
    task = asyncio.create_task(watch())
    try:
        await until(lambda: daemon.health.get("ari") is not None)
        assert not daemon.health.get("ari").up and not daemon.health.get("ami").up  # type: ignore[union-attr]
        side = daemon.telephony.side  # type: ignore[attr-defined]
        side.stream.connected.set()
        side.ami.logged_in.set()
        await until(lambda: daemon.health.get("ari").up and daemon.health.get("ami").up)  # type: ignore[union-attr]
    finally:
        task.cancel()
    assert isinstance(daemon.supervision, MonitorSupervision)
    with pytest.raises(SupervisionError, match="not connected"):
        await daemon.supervision.snoop(MonitorRequest("1001", "c-none", "PJSIP/1001",
                                                      "PJSIP/sup-1", "listen"))
