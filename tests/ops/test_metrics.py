"""Every series an alert or a panel can ask about exists at 0 from the first scrape."""

from __future__ import annotations

import importlib.metadata
import platform
import re
from pathlib import Path

from acd.http.metrics import ALERT_KINDS, Metrics
from acd.service.health import Health
from acd.service.live import LiveFigures
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from tests.ops.test_live import metric
from tests.support import Harness, build_flows, centre

REPO = Path(__file__).resolve().parents[2]


def fresh() -> tuple[Harness, Metrics]:
    h = Harness()
    return h, Metrics(LiveFigures(h.acd, clock=lambda: h.now), Health(), clock=lambda: h.now)


def test_a_fresh_daemon_exports_every_alert_kind_at_zero() -> None:
    # increase() needs a sample before the first increment, or the first
    # national_long_wait after a restart raises no alert.
    _, m = fresh()
    text = m.exposition().decode()
    for kind in ALERT_KINDS:
        assert metric(text, "acd117_alerts_total", kind=kind) == 0


def test_a_fresh_daemon_exports_every_centres_call_counters_at_zero() -> None:
    _, m = fresh()
    text = m.exposition().decode()
    for name in ("offered", "answered", "abandoned", "blocked", "handed_off", "escalated"):
        assert metric(text, f"acd117_calls_{name}_total", centre="bnpb", tier="national") == 0
        if name != "escalated":  # nothing escalates to the lowest tier
            assert metric(text, f"acd117_calls_{name}_total", centre="bdg",
                          tier="kabkota") == 0
    assert 'acd117_calls_escalated_total{centre="bdg"' not in text
    assert metric(text, "acd117_config_reloads_total", result="applied") == 0
    assert metric(text, "acd117_ring_answer_seconds_count", tier="province") == 0


def test_a_centre_added_by_a_reload_is_exported_at_zero_and_a_removed_one_keeps_its_count(
        ) -> None:
    h, m = fresh()
    h.login("1001")
    h.call("c1")
    for out in h.log:
        if isinstance(out, rec.TierHop):
            m.live.observe(out)  # the read model counts; the metrics export its counts
    h.send(ev.CallerHungUp("c1"))
    h.send(ev.AgentLoggedOut("1001"))
    h.acd.reconfigure(build_flows(centres=[centre("jabar", "32"), centre("bnpb", "ID"),
                                           centre("cmh", "32.77")], agents=[]), h.now)
    text = m.exposition().decode()
    assert metric(text, "acd117_calls_offered_total", centre="cmh", tier="kabkota") == 0
    assert metric(text, "acd117_calls_offered_total", centre="bdg", tier="kabkota") == 1
    assert text.count('acd117_calls_offered_total{centre="bdg"') == 1


def test_every_alert_kind_the_code_raises_is_known_to_the_metrics() -> None:
    raised: set[str] = set()
    for source in (p for d in ("acd", "ari", "escalation") for p in (REPO / d).rglob("*.py")):
        raised |= set(re.findall(r'Alert\(\s*"([a-z_]+)"', source.read_text()))
    assert "national_long_wait" in raised
    assert raised <= set(ALERT_KINDS), f"add to ALERT_KINDS: {raised - set(ALERT_KINDS)}"


def test_the_process_platform_and_build_are_exported() -> None:
    _, m = fresh()
    text = m.exposition().decode()
    assert metric(text, "process_cpu_seconds_total") >= 0
    assert metric(text, "process_resident_memory_bytes") > 0
    assert re.search(r'^python_info\{.*implementation="CPython".*\} 1\.0$', text, re.M)
    version = importlib.metadata.version("acd117")
    assert metric(text, "acd117_build_info", python=platform.python_version(),
                  version=version) == 1


def test_the_wait_is_counted_at_the_tier_that_answered() -> None:
    h, m = fresh()
    h.login("9001")  # only the national centre is staffed: the call goes up to it at once
    h.call("c1")
    h.wait(5)
    h.answer("c1")
    h.send(ev.CallerHungUp("c1"))
    for out in h.log:
        if isinstance(out, rec.CallEnded):
            m.observe(out)
    text = m.exposition().decode()
    assert metric(text, "acd117_call_wait_seconds_count", outcome="answered",
                  tier="national") == 1
    assert metric(text, "acd117_call_wait_seconds_count", outcome="answered",
                  tier="kabkota") == 0
