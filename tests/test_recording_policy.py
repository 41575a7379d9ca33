"""The recording policy and names are pure (recording/policy.py); what runs when a recording
ends is apart (recording/hooks.py), and the call flows' `recording` section is the one
policy of which calls are recorded."""

from __future__ import annotations

import ast
from pathlib import Path

import recording
from recording import hooks, policy

ROOT = Path(__file__).resolve().parent.parent


def test_the_policy_module_does_no_io_and_runs_nothing() -> None:
    tree = ast.parse((ROOT / "recording" / "policy.py").read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom)}
    assert imported <= {"__future__", "re", "dataclasses", "typing", "acd.vocabulary.tiers"}


def test_the_hooks_use_the_policy_module_s_names() -> None:
    for name in ("RecordingPolicy", "RecordingMetadata", "LiveRecordingInfo", "recording_name"):
        assert getattr(hooks, name) is getattr(policy, name) is getattr(recording, name)
    assert not hasattr(policy, "Recordings") and not hasattr(policy, "ExternalCommandHook")
