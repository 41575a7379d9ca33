"""Phones in the call flows: a centre's agent phones and supervisor phones, checked by
check-config (a pattern listed twice, or one that matches a trunk, is an error)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from config.loader import ConfigError, load_flows

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


def test_the_example_lists_agent_and_supervisor_phones() -> None:
    flows = load_flows(EXAMPLE)
    centres = {c.id: c for c in flows.centres}
    assert centres["bpbd-kota-palu"].phones == ["PJSIP/30??"]
    assert centres["pusdalops-bnpb"].supervisor_phones == ["PJSIP/sup-*"]


def test_a_phone_pattern_matching_a_trunk_is_an_error(folder: Path) -> None:
    edit(folder / "centres.yaml", 'phones: ["PJSIP/30??"]', 'phones: ["PJSIP/trunk-*"]')
    problems = problems_for(folder)
    assert any("centres[3].phones[0]: 'PJSIP/trunk-*' matches the trunk "
               "PJSIP/trunk-indosat-palu" in p for p in problems), problems


def test_a_phone_listed_by_two_centres_is_an_error(folder: Path) -> None:
    edit(folder / "centres.yaml", 'supervisor_phones: ["PJSIP/sup-*"]',
         'supervisor_phones: ["PJSIP/30??"]')
    problems = problems_for(folder)
    assert any("supervisor_phones[0]: 'PJSIP/30??' is listed already "
               "(bpbd-kota-palu phones)" in p for p in problems), problems


@pytest.mark.parametrize("phone", ["SIP/1001", "PJSIP/1001\\nX", "Local/1@agents", "PJSIP/a b"])
def test_a_phone_that_is_no_pjsip_endpoint_name_is_an_error(folder: Path, phone: str) -> None:
    edit(folder / "centres.yaml", 'phones: ["PJSIP/30??"]', f'phones: ["{phone}"]')
    assert any("centres[3].phones[0]" in p for p in problems_for(folder))
