"""The `acd117` command line itself: version, help, arguments refused before any work."""

from __future__ import annotations

from importlib import metadata

import pytest

from acd.cli import main


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"acd117 {metadata.version('acd117')}\n"


def test_help_describes_the_program_for_operators(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "117 disaster emergency line" in out
    assert "acd.cli.commands" not in out and "lazily" not in out  # not the module docstring
    assert "simulate" in out and "report" in out


@pytest.mark.parametrize("hours", ["-1", "0", "nan", "inf", "many"])
def test_simulate_refuses_a_period_that_is_not_a_positive_number_of_hours(
    hours: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["simulate", "--hours", hours])
    assert exit_.value.code == 2
    captured = capsys.readouterr()
    assert "argument --hours" in captured.err and captured.out == ""
