"""The Asterisk side as `acd117 run` starts it, and the benchmark it is measured with."""

from __future__ import annotations

import asyncio
import math

from acd.service.settings import Settings
from acd.vocabulary.events import CallArrived, DeviceStateChanged, RingAnswered
from ari.runtime import AsteriskSettings, AsteriskSide
from tests.ari.routing import RealCore
from tests.bench.asterisk_side import run_benchmark
from tests.fakes.asterisk import FakeAsterisk


def test_settings_come_from_the_environment() -> None:
    s = AsteriskSettings.from_settings(Settings.from_env({
        "ACD117_ARI_URL": "http://10.0.0.5:8088/ari", "ACD117_ARI_USER": "u",
        "ACD117_ARI_PASSWORD": "p", "ACD117_AMI_HOST": "10.0.0.5", "ACD117_AMI_PORT": "5039",
        "ACD117_AMI_USER": "m", "ACD117_AMI_SECRET": "s",
    }))
    assert (s.ari_url, s.ari_user, s.ari_password) == ("http://10.0.0.5:8088/ari", "u", "p")
    assert (s.ami_host, s.ami_port, s.ami_user, s.ami_secret) == ("10.0.0.5", 5039, "m", "s")
    assert AsteriskSettings.from_settings(Settings.from_env({})).ari_url == \
        "http://127.0.0.1:8088/ari"


def test_the_adapters_and_the_daemon_settings_have_one_set_of_defaults() -> None:
    unset = AsteriskSettings.from_settings(Settings.from_env({}))
    assert unset == AsteriskSettings()
    assert (unset.ari_user, unset.ami_host, unset.ami_port, unset.ami_user) == \
        ("acd117", "127.0.0.1", 5038, "acd117")
    assert not Settings.from_env({}).asterisk_configured  # the secrets have no default
    assert Settings.from_env({"ACD117_ARI_PASSWORD": "p",
                              "ACD117_AMI_SECRET": "s"}).asterisk_configured


async def test_asterisk_side_runs_ari_and_ami_together(peer: FakeAsterisk) -> None:
    core = RealCore()
    events = core.events
    side = AsteriskSide(
        AsteriskSettings(ari_url=peer.ari_url, ari_user=peer.ari_user,
                         ari_password=peer.ari_password, ami_port=peer.ami_port,
                         ami_user=peer.ami_user, ami_secret=peer.ami_secret),
        core.emit,
    )
    core.executor = side.execute
    core.start()
    task = asyncio.create_task(side.run())
    await peer.wait_for(lambda: side.stream.connected.is_set() and side.ami.logged_in.is_set())
    peer.register("PJSIP/1001")
    await peer.wait_for(lambda: DeviceStateChanged("PJSIP/1001", True) in events)
    await peer.incoming_call()
    await peer.wait_for(lambda: RingAnswered("offer-1") in events)
    assert any(isinstance(e, CallArrived) for e in events)
    await core.stop()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    # Stopped cleanly: HTTP session closed, the call left in Stasis for the next start.
    assert side.client._session is not None and side.client._session.closed
    assert peer.active_socket is None
    assert any(c.in_stasis for c in peer.channels.values())


def test_benchmark_measures_every_call() -> None:
    result = run_benchmark(calls=40, rate=100.0, agents=10, talk_s=0.2)
    assert result["originated"] == result["calls"] == 40
    assert result["rejected_requests"] == 0
    assert 0 < result["originate_p50_ms"] <= result["originate_p99_ms"]
    assert math.isfinite(result["cpu_per_call_ms"]) and result["cpu_per_call_ms"] > 0
