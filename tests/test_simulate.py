"""The simulated day: same seed, same day; the report adds up; the CLI prints it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from acd.cli import main
from acd.people.simulate import Simulation, Traffic
from config.loader import load_flows
from config.regions import load_regions

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config" / "example"
TRAFFIC = ROOT / "config" / "traffic" / "example.yaml"


def simulate(seed: int, hours: float = 6, **traffic_changes: object) -> dict:
    traffic = Traffic.load(TRAFFIC).model_copy(update=traffic_changes)
    sim = Simulation(load_flows(EXAMPLE), load_regions(), traffic, seed=seed)
    return sim.run(hours).as_json()


def test_the_same_seed_gives_the_same_day_and_another_seed_another():
    assert simulate(7) == simulate(7)
    assert simulate(7) != simulate(8)


def test_every_call_is_accounted_for():
    r = simulate(3, hours=12)
    assert r["offered"] > 300
    finished = r["answered"] + r["abandoned"] + r["blocked"]
    assert 0 <= r["offered"] - finished <= 10, "only calls still in progress at the end differ"
    assert sum(t["answered"] for t in r["by_tier"].values()) == r["answered"]
    assert r["by_tier"]["kabkota"]["offered_to"] > 0


def test_understaffing_lowers_the_service_level_and_pushes_calls_up_the_tiers():
    normal = simulate(5, hours=8)
    busy = simulate(5, hours=8, peak_calls_per_hour=900)
    assert busy["service_level_20s"] < normal["service_level_20s"]
    assert busy["by_tier"]["national"]["answered"] > normal["by_tier"]["national"]["answered"]
    assert busy["abandoned"] > normal["abandoned"]


def test_simulate_json_has_the_documented_keys(capsys):
    assert main(["simulate", "--hours", "2", "--seed", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"offered", "answered", "abandoned", "service_level_20s", "asa_s", "by_tier"} <= set(
        report)
    assert set(report["by_tier"]) == {"kabkota", "province", "national"}
    assert set(report["by_tier"]["province"]) == {"offered_to", "answered"}


def test_simulate_prints_a_readable_report(capsys):
    assert main(["simulate", "--hours", "1"]) == 0
    out = capsys.readouterr().out
    assert "service level" in out and "kabkota" in out


def test_a_traffic_file_naming_an_unknown_region_is_refused(tmp_path: Path, capsys):
    bad = tmp_path / "traffic.yaml"
    bad.write_text(TRAFFIC.read_text().replace('"32.73": 30', '"32.99": 30'))
    assert main(["simulate", "--traffic", str(bad)]) == 1
    assert "unknown region codes 32.99" in capsys.readouterr().err


@pytest.mark.parametrize("hours", [0.5, 25])
def test_odd_lengths_of_day_run(hours: float):
    assert simulate(1, hours=hours)["hours"] == hours
