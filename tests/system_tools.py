"""Debian programs some tests drive (headless Chromium, promtool), found on PATH.

The tests never install anything themselves: `.ci/run` and the README's set-up do. Where a
program is missing the test is skipped with one line saying which package to install; in
CI (`CI=true`, set by `.ci/run`) a missing program is a failure, so those tests cannot
quietly stop running there.
"""

from __future__ import annotations

import os
import shutil

import pytest


def require(package: str, *binaries: str) -> str:
    """The path of the first of `binaries` on PATH, else skip (fail in CI) naming `package`."""
    for name in binaries:
        found = shutil.which(name)
        if found is not None:
            return found
    line = f"{binaries[0]} is not installed: sudo apt install {package}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{line} (CI=true: .ci/run installs it)", pytrace=False)
    pytest.skip(line)
