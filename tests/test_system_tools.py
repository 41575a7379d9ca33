"""Tests that need a Debian program skip where it is missing, fail in CI, install nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ops.browser import chromium_binary
from tests.system_tools import require


@pytest.fixture
def bare_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH with no chromium and no promtool, but an apt-get that notes being run."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    apt = bin_dir / "apt-get"
    apt.write_text(f"#!/bin/sh\necho \"$@\" >> {tmp_path / 'apt-get.log'}\n")
    apt.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    return tmp_path


def test_a_missing_browser_skips_with_the_package_to_install_and_runs_no_apt_get(
        bare_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        chromium_binary()
    assert str(skipped.value) == "chromium is not installed: sudo apt install chromium"
    assert not (bare_path / "apt-get.log").exists()


def test_a_missing_program_fails_in_ci(bare_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception) as failed:
        require("prometheus", "promtool")
    assert "promtool is not installed: sudo apt install prometheus" in str(failed.value)
    with pytest.raises(pytest.fail.Exception):
        chromium_binary()
    assert not (bare_path / "apt-get.log").exists()


def test_a_program_on_path_is_found(bare_path: Path) -> None:
    assert require("apt", "nonexistent", "apt-get") == str(bare_path / "bin" / "apt-get")
