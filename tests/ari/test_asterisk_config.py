"""The Asterisk configuration in asterisk/: internally consistent (the dialplan's gotos,
patterns and feature codes, PJSIP contexts and templates, music classes, sounds) and
consistent with the adapters."""

from __future__ import annotations

import re
from pathlib import Path

from ari.features import FEATURE_CODES
from ari.stasis import APP, FALLBACK
from tests.ari.asterisk_conf import conf, dialplan, goto_targets, pattern_matches, resolve


def test_every_goto_reaches_an_existing_context_extension_and_priority() -> None:
    steps, _ = dialplan()
    checked = 0
    for context_steps in steps.values():
        for step in context_steps:
            for context, exten, where in goto_targets(step):
                assert context in steps, f"{step}: no context {context}"
                target = [s for s in steps[context] if pattern_matches(s.exten, exten)]
                assert target, f"{step}: no extension {exten} in {context}"
                if where.isdigit():
                    assert any(s.priority == int(where) for s in target), f"{step}: priority"
                else:
                    assert any(s.label == where for s in target), f"{step}: no label {where}"
                checked += 1
    assert checked >= 10


def test_stasis_app_is_the_one_acd117_registers() -> None:
    steps, globals_ = dialplan()
    stasis = [s for ss in steps.values() for s in ss if s.app == "Stasis"]
    assert stasis
    for step in stasis:
        assert resolve(step.data, globals_).split(",")[0] == APP == "acd117"


def test_intake_passes_what_the_adapter_reads_in_order() -> None:
    steps, globals_ = dialplan()
    [intake] = [s for s in steps["acd117-intake"] if s.app == "Stasis"]
    args = resolve(intake.data, globals_).split(",")
    # parse_ingress: inbound, caller, trunk, DID, then name=value headers.
    assert args[1:5] == ["inbound", "${CALLERID(num)}", "${ACD117_TRUNK}", "${ACD117_DID}"]
    assert all("=" in a and "URIENCODE" not in a for a in args[5:])
    # The header values are URI-encoded before they reach the Stasis arguments.
    encoded = [s.data for s in steps["acd117-intake"] if "PJSIP_HEADER" in s.data]
    assert encoded and all("URIENCODE(${PJSIP_HEADER(read," in d for d in encoded)


def test_after_stasis_every_path_ends_in_the_fallback_queue() -> None:
    steps, globals_ = dialplan()
    intake = steps["acd117-intake"]
    after = intake[[s.app for s in intake].index("Stasis") + 1:]
    assert any(goto_targets(s) and goto_targets(s)[0][0] == "acd117-fallback" for s in after)
    fallback = steps[FALLBACK.context]
    assert any(s.exten == FALLBACK.extension and s.priority == FALLBACK.priority
               for s in fallback)
    queues = [resolve(s.data, globals_).split(",")[0] for s in fallback if s.app == "Queue"]
    assert queues == ["national-fallback"]
    assert conf("queues.conf").named("national-fallback")
    # The fallback never ends the call by itself: it loops back to the queue.
    assert fallback[-1].app == "Goto" and goto_targets(fallback[-1])[0][2] == "queue"
    assert not any(s.app == "Hangup" for s in fallback)


def test_feature_codes_are_the_ones_the_adapter_knows() -> None:
    steps, globals_ = dialplan()
    codes = {
        resolve(s.data, globals_).split(",")[2]
        for s in steps["acd117-agents"]
        if s.app == "Stasis" and resolve(s.data, globals_).split(",")[1] == "feature"
    }
    assert codes == set(FEATURE_CODES)


def test_pattern_rules_are_asterisks() -> None:
    # `.` is one or more characters, `!` zero or more (main/pbx.c).
    assert pattern_matches("_*13X.", "*1312") and not pattern_matches("_*13X.", "*131")
    assert pattern_matches("_*13X!", "*131") and not pattern_matches("_*13X!", "*13")
    assert pattern_matches("_1!", "1") and not pattern_matches("_1.", "1")
    assert pattern_matches("_[+0-9].", "+62117") and not pattern_matches("_[+0-9].", "#1")
    assert pattern_matches("_NXX", "200") and not pattern_matches("_NXX", "100")
    assert pattern_matches("_ZX", "10") and not pattern_matches("_ZX", "01")
    assert pattern_matches("_1-2-X", "123") and pattern_matches("12-3", "123")
    assert not pattern_matches("_XX", "123") and not pattern_matches("*13", "*131")


# What agents dial on their phones -> (Stasis kind, code, argument) acd117 must receive,
# or the intake for the test call. Agent ids and reason codes have one digit or more; any
# other number is the phone's own second call (a consultation: `ari.phone_consults`).
AGENT_DIALS = {
    "*11": ("feature", "login", ""),
    "*117": ("feature", "login", "7"),
    "*111001": ("feature", "login", "1001"),
    "*12": ("feature", "logout", ""),
    "*13": ("feature", "pause", ""),
    "*131": ("feature", "pause", "1"),
    "*1312": ("feature", "pause", "12"),
    "*14": ("feature", "unpause", ""),
    "*15": ("feature", "wrapup", ""),
    "117": ("intake", "", ""),
    "113": ("consult", "113", ""),
    "3200": ("consult", "3200", ""),
    "081234567890": ("consult", "081234567890", ""),
}


def with_exten(text: str, dialled: str) -> str:
    """`${EXTEN}` and `${EXTEN:n}` (the dialled string from its n-th character) in `text`."""
    return re.sub(r"\$\{EXTEN(?::(\d+))?\}", lambda m: dialled[int(m.group(1) or 0):], text)


def test_every_code_agents_dial_reaches_its_feature_with_its_argument() -> None:
    steps, globals_ = dialplan()
    agents = steps["acd117-agents"]
    for dialled, (kind, code, argument) in AGENT_DIALS.items():
        matching = {s.exten for s in agents if pattern_matches(s.exten, dialled)}
        # A literal extension wins over any pattern (main/pbx.c); among patterns, one only,
        # so which one Asterisk prefers never matters.
        literal = {e for e in matching if not e.startswith("_")}
        assert len(literal or matching) == 1, (
            f"{dialled}: matched by {sorted(matching) or 'nothing'}")
        [exten] = literal or matching
        if kind == "intake":
            assert [t[0] for s in agents if s.exten == exten for t in goto_targets(s)] == [
                "acd117-intake"]
            continue
        stasis = next(s for s in agents if s.exten == exten and s.app == "Stasis")
        data = with_exten(resolve(stasis.data, globals_), dialled)
        args = data.split(",")
        assert args[1:3] == [kind, code], f"{dialled}: {data}"
        assert [a for a in args[3:] if a] == ([argument] if argument else []), dialled


def test_the_phones_second_call_has_its_transfers_handled_by_acd117() -> None:
    # Without ari-only, the phone's attended REFER would be Asterisk's own transfer, joining
    # the two calls behind the Stasis app.
    steps, _ = dialplan()
    consult = [s for s in steps["acd117-agents"] if s.exten == "_X."]
    assert [(s.app, s.data) for s in consult][:2] == [
        ("Set", "PJSIP_TRANSFER_HANDLING()=ari-only"),
        ("Stasis", "${ACD117_APP},consult,${EXTEN}")]


def test_pjsip_contexts_and_templates_exist() -> None:
    pjsip = conf("pjsip.conf")
    steps, _ = dialplan()
    templates = {c.name for c in pjsip.categories if c.is_template}
    for cat in pjsip.categories:
        for tpl in cat.templates:
            assert tpl in templates, f"[{cat.name}] uses missing template {tpl}"
        for context in cat.get("context"):
            assert context in steps, f"[{cat.name}] context {context} not in extensions.conf"
    agent = pjsip.named("acd117-agent-aor")[0]
    assert agent.get("qualify_frequency") == ["10"]  # dead phones found within ~13 s [01]


def test_music_classes_in_use_exist() -> None:
    classes = conf("musiconhold.conf").names()
    for cat in conf("queues.conf").categories:
        for music in cat.get("musicclass"):
            assert music in classes


def test_sounds_played_are_announcements_of_the_config() -> None:
    import dataclasses

    import yaml

    from ari.features import FeaturePrompts

    example = Path(__file__).resolve().parents[2] / "config" / "example" / "announcements.yaml"
    prompts = yaml.safe_load(example.read_text())["announcements"]["prompts"]
    files = {p["file"] for p in prompts.values()}
    steps, _ = dialplan()
    played = {s.data for ss in steps.values() for s in ss if s.app == "Playback"}
    queued = {v.split(";")[0].strip() for c in conf("queues.conf").categories
              for v in c.get("periodic-announce")}
    assert played | queued and (played | queued) <= files
    feature = {getattr(FeaturePrompts(), f.name) for f in dataclasses.fields(FeaturePrompts)}
    assert feature <= set(prompts)
