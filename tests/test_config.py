"""The admins' YAML call flows: the example loads; every mistake is named with its place."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from acd.cli import main
from config.loader import ConfigError, Problem, load_flows
from config.models import CallFlows, readable_header

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "example"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "flows"
    shutil.copytree(EXAMPLE, target)
    return target


def problems_for(folder: Path) -> list[str]:
    with pytest.raises(ConfigError) as e:
        load_flows(folder)
    return [str(p) for p in e.value.problems]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def test_the_shipped_example_is_valid_and_realistic():
    flows = load_flows(EXAMPLE)
    assert isinstance(flows, CallFlows)
    assert {c.region for c in flows.centres} >= {"ID", "32", "32.73", "72", "72.71"}
    assert len(flows.announcements.prompts) >= 20
    assert flows.announcements.language == "id-ID"


def test_config_is_frozen():
    flows = load_flows(EXAMPLE)
    with pytest.raises(ValidationError):
        flows.centres[0].queues[0].ring_timeout_s = 99  # type: ignore[misc]


def test_a_misspelt_setting_is_named_with_file_line_column_and_a_suggestion(folder: Path):
    edit(folder / "centres.yaml", "ring_timeout_s: 15", "ring_timout_s: 15")
    [problem] = problems_for(folder)
    where = f"{folder / 'centres.yaml'}:13:9: centres[0].queues[0].ring_timout_s:"
    assert problem.startswith(where)
    assert "did you mean 'ring_timeout_s'" in problem


def test_a_value_out_of_range_points_at_the_value(folder: Path):
    (folder / "escalation.yaml").write_text("escalation:\n  kabkota:\n    after_s: -3\n")
    [problem] = problems_for(folder)
    assert problem.startswith(f"{folder / 'escalation.yaml'}:3:14: escalation.kabkota.after_s:")
    assert "greater than 0" in problem


def test_times_and_region_codes_are_read_as_written_not_as_yaml_numbers(folder: Path):
    # Unquoted 06:00 is 360 and 32.03 a float in YAML 1.1; admins mean a time and a code.
    edit(folder / "centres.yaml", 'open: "06:00"', "open: 06:00")
    edit(folder / "centres.yaml", 'region: "32.03"', "region: 32.03")
    flows = load_flows(folder)
    cianjur = next(c for c in flows.centres if c.id == "bpbd-kab-cianjur")
    assert cianjur.region == "32.03"
    assert cianjur.hours != "always" and cianjur.hours[0].open.hour == 6


def test_an_unknown_region_code_is_reported_at_the_centre(folder: Path):
    edit(folder / "centres.yaml", 'region: "32.03"', 'region: "32.99"')
    [problem] = problems_for(folder)
    assert ":18:13: centres[1].region: unknown region code '32.99'" in problem


def test_a_duplicated_key_is_an_error_not_a_silent_override(folder: Path):
    edit(folder / "escalation.yaml", "    after_s: 20\n", "    after_s: 20\n    after_s: 60\n")
    [problem] = problems_for(folder)
    assert "escalation.kabkota.after_s: this key appears twice" in problem


def test_broken_yaml_is_reported_with_its_position(folder: Path):
    (folder / "recording.yaml").write_text("recording:\n  enabled: [true\n")
    [problem] = problems_for(folder)
    assert problem.startswith(f"{folder / 'recording.yaml'}:3:")
    assert "not valid YAML" in problem


def test_a_missing_required_setting_is_named(folder: Path):
    edit(folder / "announcements.yaml", "  welcome: welcome\n", "")
    [problem] = problems_for(folder)
    assert "announcements.welcome: required setting 'welcome' is missing" in problem


def test_an_undefined_prompt_is_reported(folder: Path):
    edit(folder / "announcements.yaml", "periodic: queue-periodic", "periodic: queue-music")
    [problem] = problems_for(folder)
    assert "prompts used but not defined under 'prompts': queue-music" in problem


def test_a_national_centre_is_required(folder: Path):
    text = (folder / "centres.yaml").read_text()
    (folder / "centres.yaml").write_text(text[:text.index("  - id: pusdalops-bnpb")])
    (folder / "agents.yaml").write_text("agents: []\n")
    problems = problems_for(folder)
    assert any("a national centre (region: ID) is required" in p for p in problems)


def test_an_agent_of_an_unknown_centre_and_a_duplicate_id_are_reported(folder: Path):
    edit(folder / "agents.yaml", "centre: bpbd-kota-bandung, skills: {darurat: 6}",
         "centre: bpbd-kota-bandungg, skills: {darurat: 6}")
    edit(folder / "agents.yaml", '{id: "1003"', '{id: "1001"')
    problems = problems_for(folder)
    assert any("agents[1].centre: unknown centre 'bpbd-kota-bandungg'" in p for p in problems)
    assert any("agents[2].id: agent id '1001' is used more than once" in p for p in problems)


def test_an_unknown_section_and_a_section_defined_twice_are_reported(folder: Path):
    (folder / "zz-extra.yaml").write_text("recordings:\n  enabled: false\n"
                                         "escalation:\n  kabkota: {after_s: 5}\n")
    problems = problems_for(folder)
    assert any("recordings: unknown section (did you mean 'recording'?)" in p for p in problems)
    assert any("escalation: this section is already defined in another file" in p
               for p in problems)


def test_an_ingress_rule_needs_a_condition_and_a_region(folder: Path):
    edit(folder / "ingress.yaml",
         '- {name: trunk-palu,         trunk: trunk-indosat-palu, region: "72.71"}',
         "- {name: trunk-palu}")
    [problem] = problems_for(folder)
    assert "ingress.rules[5]" in problem
    assert "at least one of trunk, did, header, area_code" in problem


def test_check_config_exits_zero_on_the_example_and_one_on_errors(folder: Path, capsys):
    assert main(["check-config", str(EXAMPLE)]) == 0
    assert "OK" in capsys.readouterr().out
    edit(folder / "callers.yaml", "repeat_window_min: 10", "repeat_window_min: ten")
    assert main(["check-config", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "callers.yaml:4:22: callers.repeat_window_min" in err
    assert "nothing was loaded" in err


def test_check_config_on_a_missing_folder_fails_clearly(tmp_path: Path, capsys):
    assert main(["check-config", str(tmp_path / "nope")]) == 1
    assert "no such config folder" in capsys.readouterr().err


def test_a_header_rule_asterisk_cannot_read_is_a_warning_with_its_place(folder: Path, capsys):
    edit(folder / "ingress.yaml", "header: X-Cell-Region", 'header: "X-Cell Region"')
    assert main(["check-config", str(folder)]) == 0  # it loads: a warning, not an error
    out = capsys.readouterr()
    [warning] = out.err.splitlines()
    where = f"{folder / 'ingress.yaml'}:10:15"
    assert warning.startswith(f"{where}: warning: ingress.rules[0].header: ")
    assert "'X-Cell Region' is not a SIP header name Asterisk can read" in warning
    assert "1 warning(s)" in out.out
    warned: list[Problem] = []
    load_flows(folder, warned=warned)
    assert [(w.severity, w.path) for w in warned] == [("warning", "ingress.rules[0].header")]


@pytest.mark.parametrize("name", ["X-Cell Region", "X-Cell,2", "X-Cell*", "X-Cell:", "Région"])
def test_header_names_pjsip_header_cannot_read_as_written(name: str):
    assert not readable_header(name)


def test_the_example_rules_read_their_headers_only_for_their_trunk():
    ingress = load_flows(EXAMPLE).ingress
    assert readable_header("X-Cell-Region") and readable_header("P-Access-Network-Info")
    assert ingress.headers_read("trunk-telkomsel") == ["X-Cell-Region"]
    assert ingress.headers_read("trunk-indosat-palu") == []
    assert ingress.headers_read(None) == []
    both = ingress.model_validate({"rules": [
        {"header": "X-Zone", "value": "A", "region": "32"},
        {"trunk": "t1", "header": "x-zone", "value": "B", "region": "72"},
        {"trunk": "t1", "header": "X Bad"}]})
    assert both.headers_read("t1") == ["X-Zone"]  # once, readable names only
    assert both.headers_read(None) == ["X-Zone"]


def test_pause_reasons_each_have_one_code_and_one_digit(folder: Path):
    (folder / "pauses.yaml").write_text(
        "pauses:\n  - {code: break, digit: '1', label: Istirahat}\n"
        "  - {code: meal, digit: '1', label: Makan}\n")
    [problem] = problems_for(folder)
    assert "pauses" in problem and "each digit once: 1" in problem
