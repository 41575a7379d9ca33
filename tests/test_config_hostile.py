"""Hostile or broken YAML is refused fast, with its place, and never builds anything big."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from acd.cli import main
from config.loader import ConfigError, load_flows

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "example"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "flows"
    shutil.copytree(EXAMPLE, target)
    return target


def refused(folder: Path, text: str) -> str:
    (folder / "extra.yaml").write_text(text)
    started = time.monotonic()
    with pytest.raises(ConfigError) as e:
        load_flows(folder)
    assert time.monotonic() - started < 2.0
    [problem] = e.value.problems
    return str(problem)


def billion_laughs() -> str:
    lines = ['lol0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return "callers:\n" + "".join(f"  {line}\n" for line in lines)


def test_an_alias_bomb_is_refused_at_the_alias_that_makes_it_too_big(folder: Path):
    problem = refused(folder, billion_laughs())
    assert problem.startswith(f"{folder / 'extra.yaml'}:")
    assert "alias bomb" in problem


def test_a_recursive_alias_is_refused_with_its_place(folder: Path):
    problem = refused(folder, "callers: &loop\n  again: *loop\n")
    assert problem.startswith(f"{folder / 'extra.yaml'}:2:10:")
    assert "recursive alias" in problem


def test_an_alias_of_nested_blocks_cannot_nest_deeper_than_the_limit(folder: Path):
    deep = "[" * 40 + "x" + "]" * 40
    problem = refused(folder, f"callers:\n  a: &a {deep}\n  b: &b [*a]\n"
                              "  c: [[[[[[[[[[[[[[[[[[[[[[[[*b]]]]]]]]]]]]]]]]]]]]]]]]\n")
    assert "nested more than 64 deep" in problem


def test_five_thousand_nested_brackets_are_refused_not_a_recursion_error(folder: Path):
    problem = refused(folder, "callers: " + "[" * 5000 + "]" * 5000 + "\n")
    assert problem.startswith(f"{folder / 'extra.yaml'}:1:")
    assert "nested more than 64 deep" in problem


def test_a_nul_byte_is_refused_at_its_line_and_column(folder: Path):
    problem = refused(folder, "callers:\n  repeat: ab\0c\n")
    assert problem.startswith(f"{folder / 'extra.yaml'}:2:13:")
    assert "NUL" in problem


def test_another_control_character_is_a_located_error(folder: Path):
    problem = refused(folder, "callers:\n  x: a\x07b\n")
    assert problem.startswith(f"{folder / 'extra.yaml'}:2:")


def test_a_file_name_in_upper_case_is_named_not_silently_skipped(folder: Path):
    (folder / "agents.yaml").rename(folder / "agents.YAML")
    with pytest.raises(ConfigError) as e:
        load_flows(folder)
    [problem] = e.value.problems
    assert str(problem).startswith(f"{folder / 'agents.YAML'}:1:1:")
    assert "rename it to agents.yaml" in str(problem)


def test_ordinary_anchors_and_aliases_still_load(folder: Path):
    edit = folder / "agents.yaml"
    text = edit.read_text()
    old = "skills: {darurat: 8}}"
    assert old in text
    text = text.replace(old, "skills: &senior {darurat: 8}}", 1)
    edit.write_text(text.replace("skills: {darurat: 7}}", "skills: *senior}", 1))
    flows = load_flows(folder)
    assert next(a for a in flows.agents if a.id == "1101").skills == {"darurat": 8}


def test_check_config_prints_the_alias_bomb_without_a_traceback(folder: Path, capsys):
    (folder / "extra.yaml").write_text(billion_laughs())
    assert main(["check-config", str(folder)]) == 1
    out = capsys.readouterr()
    assert "alias bomb" in out.out + out.err
    assert "Traceback" not in out.out + out.err
