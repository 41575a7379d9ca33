"""The alert rules and the dashboard use only metrics acd117 exports."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import yaml

from acd import records as rec
from acd.health import Health
from acd.live import LiveFigures
from acd.metrics import Metrics
from acd.store.writer import WriterStats
from acd.tiers import Tier
from tests.support import Harness
from tests.system_tools import require

OPS = Path(__file__).resolve().parents[2] / "ops"
NAME = re.compile(r"\bacd117_[a-z0-9_]+")


def exported() -> set[str]:
    """Every series name a scrape of a daemon shows (after one call of every kind)."""
    h = Harness()
    live = LiveFigures(h.acd, clock=lambda: h.now)
    stats = WriterStats(0, 10, 0, 0, True, None, None, 0, 0, 0, 0)
    m = Metrics(live, Health(), lambda: stats, clock=lambda: h.now)
    for r in (rec.TierHop("c", Tier.KABKOTA, "bdg", "timeout", h.now),
              rec.CallEnded("c", "answered", h.now, h.now, h.now, Tier.KABKOTA, "bdg", "1001",
                            1, 1, 0, 0, Tier.KABKOTA),
              rec.CallEnded("d", "abandoned", h.now, None, h.now, Tier.KABKOTA, "bdg", None,
                            1, 0, 0, 0),
              rec.CallEnded("e", "blocked", h.now, None, h.now, Tier.KABKOTA, "bdg", None,
                            1, 0, 0, 0),
              rec.OfferEnded("o", "c", "1001", "bdg", Tier.KABKOTA, "d", h.now, h.now,
                             "answered")):
        m.observe(r)
    from acd import commands as cmd

    m.alert(cmd.Notify("national_long_wait", "x", h.now))
    m.reloads.labels("applied").inc()
    text = m.exposition().decode()
    return {line.split("{")[0].split(" ")[0] for line in text.splitlines()
            if line.startswith("acd117_")}


def used_in(text: str) -> set[str]:
    return set(NAME.findall(text))


def test_alert_rules_are_well_formed_and_use_exported_metrics() -> None:
    text = (OPS / "prometheus" / "alerts.yml").read_text()
    rules = yaml.safe_load(text)["groups"][0]["rules"]
    names = {r["alert"] for r in rules}
    assert {"ACD117ServiceLevelLow", "ACD117AbandonRateHigh", "ACD117AsteriskUnreachable",
            "ACD117CentreWithoutAgents", "ACD117SpoolGrowing"} <= names
    for rule in rules:
        assert rule["expr"] and rule["labels"]["severity"] in ("warning", "critical")
        assert rule["annotations"]["summary"]
    missing = used_in(text) - exported()
    assert missing == set(), f"alert rules use metrics acd117 does not export: {missing}"


def test_every_alert_rule_has_a_promtool_unit_test_that_fires_it() -> None:
    rules = yaml.safe_load((OPS / "prometheus" / "alerts.yml").read_text())
    names = {r["alert"] for r in rules["groups"][0]["rules"]}
    tests = yaml.safe_load((OPS / "prometheus" / "alerts_test.yml").read_text())["tests"]
    fired = {case["alertname"] for test in tests for case in test["alert_rule_test"]
             if case["exp_alerts"]}
    assert len(names) == 10
    assert names - fired == set(), f"no promtool test sees these fire: {names - fired}"


def test_the_dashboard_uses_exported_metrics() -> None:
    dash = json.loads((OPS / "grafana" / "acd117.json").read_text())
    exprs = " ".join(t["expr"] for p in dash["panels"] for t in p["targets"])
    assert len(dash["panels"]) >= 10
    missing = used_in(exprs) - exported()
    assert missing == set(), f"the dashboard uses metrics acd117 does not export: {missing}"


def test_promtool_accepts_the_rules_and_their_unit_tests_pass() -> None:
    promtool = require("prometheus", "promtool")
    rules = OPS / "prometheus"
    checked = subprocess.run([promtool, "check", "rules", str(rules / "alerts.yml")],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run([promtool, "test", "rules", str(rules / "alerts_test.yml")],
                            capture_output=True, text=True, timeout=60)
    assert tested.returncode == 0, tested.stdout + tested.stderr
