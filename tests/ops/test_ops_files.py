"""The alert rules and the dashboard use only metrics acd117 exports."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import yaml

from acd.http.metrics import Metrics
from acd.service.health import Health
from acd.service.live import LiveFigures
from acd.store.writer import WriterStats
from acd.vocabulary import records as rec
from acd.vocabulary.alerts import Alert
from acd.vocabulary.tiers import Tier
from tests.support import Harness
from tests.system_tools import require

OPS = Path(__file__).resolve().parents[2] / "ops"
NAME = re.compile(r"\bacd117_[a-z0-9_]+")
SERIES = re.compile(r"\b((?:acd117|process)_[a-z0-9_]+)(\{[^}]*\})?")
DS = {"type": "prometheus", "uid": "${datasource}"}


def scrape() -> str:
    """A scrape of a daemon after one call of every kind."""
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
        live.observe(r)
        m.observe(r)

    m.alert(Alert("national_long_wait", "x", h.now))
    m.reloads.labels("applied").inc()
    return m.exposition().decode()


def exported() -> set[str]:
    """Every acd117 series name a scrape of a daemon shows (after one call of every kind)."""
    return {name for name in exported_labels() if name.startswith("acd117_")}


def exported_labels() -> dict[str, set[str]]:
    """Series name -> the label names it has, over a whole scrape."""
    labels: dict[str, set[str]] = {}
    for line in scrape().splitlines():
        found = re.match(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})? ", line)
        if found and not line.startswith("#"):
            labels.setdefault(found.group(1), set()).update(
                re.findall(r'(\w+)="', found.group(2) or ""))
    return labels


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
    assert len(names) == 11
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


def dashboard() -> dict:  # type: ignore[type-arg]
    return json.loads((OPS / "grafana" / "acd117.json").read_text())


def test_the_dashboard_loads_under_file_provisioning() -> None:
    # Grafana's import dialog fills ${DS_...} inputs; file provisioning does not, so every
    # query names the data source through a template variable instead.
    text = (OPS / "grafana" / "acd117.json").read_text()
    assert "${DS_" not in text and "__inputs" not in text
    dash = dashboard()
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for p in dash["panels"]:
        assert p["datasource"] == DS, p["title"]
        assert all(t["datasource"] == DS for t in p["targets"]), p["title"]
    assert variables["tier"]["datasource"] == variables["centre"]["datasource"] == DS


def test_every_query_follows_the_tier_and_centre_variables() -> None:
    dash = dashboard()
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    assert "$tier" in variables["centre"]["query"]["query"]  # centres of the chosen tiers
    labels = exported_labels()
    for p in dash["panels"]:
        for t in p["targets"]:
            expr = t["expr"]
            for name, selector in SERIES.findall(expr):
                assert name in labels, f"{p['title']}: {name} is not exported"
                if "centre" in labels[name]:
                    assert 'centre=~"$centre"' in selector, f"{p['title']}: {name}"
                    # metrics without a tier keep the chosen tiers' centres by a join
                    assert "$tier" in expr, f"{p['title']}: {name}"
                if "tier" in labels[name]:
                    assert 'tier=~"$tier"' in selector, f"{p['title']}: {name}"
            if "{{centre}}" in t["legendFormat"]:  # at most 10 lines, not one per centre
                assert re.match(r"(top|bottom)k\(10,", expr), p["title"]


def test_component_up_and_down_are_shown_as_words() -> None:
    panel = next(p for p in dashboard()["panels"]
                 if any(t["expr"] == "acd117_component_up" for t in p["targets"]))
    mapped = {value: option["text"] for m in panel["fieldConfig"]["defaults"]["mappings"]
              for value, option in m["options"].items()}
    assert mapped == {"0": "down", "1": "up"}


def unit_kind(expr: str) -> str:
    if "_bytes" in expr:
        return "bytes"
    if "_ratio" in expr or "process_cpu_seconds_total" in expr:  # CPU s per s is a share
        return "ratio"
    if "_seconds" in expr:
        return "time"
    return "count"


UNITS = {"bytes": {"bytes"}, "ratio": {"percentunit"}, "time": {"s"},
         "count": {"short", "none", "cpm"}}


def test_each_axis_has_one_unit_that_fits_its_queries() -> None:
    for p in dashboard()["panels"]:
        defaults = p["fieldConfig"]["defaults"]
        assert "unit" in defaults, f"{p['title']} has no unit"
        by_ref = {}
        for o in p["fieldConfig"]["overrides"]:
            assert o["matcher"]["id"] == "byFrameRefID", p["title"]
            by_ref[o["matcher"]["options"]] = {x["id"]: x["value"] for x in o["properties"]}
        axes: dict[str, set[str]] = {}
        for t in p["targets"]:
            props = by_ref.get(t["refId"], {})
            unit = props.get("unit", defaults["unit"])
            axis = props.get("custom.axisPlacement", "left")
            assert unit in UNITS[unit_kind(t["expr"])], f"{p['title']}: {t['expr']} in {unit}"
            axes.setdefault(axis, set()).add(unit)
        assert all(len(units) == 1 for units in axes.values()), f"{p['title']}: {axes}"


def test_promtool_parses_every_dashboard_query(tmp_path: Path) -> None:
    promtool = require("prometheus", "promtool")
    exprs = [t["expr"] for p in dashboard()["panels"] for t in p["targets"]]
    exprs += [v["query"]["query"].split("(", 1)[1].rsplit(",", 1)[0]
              for v in dashboard()["templating"]["list"] if v["type"] == "query"]
    rules = [{"record": f"dashboard:query_{i}", "expr": e.replace("$tier", ".*")
              .replace("$centre", ".*")} for i, e in enumerate(exprs)]
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    checked = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True,
                             text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
