"""The Asterisk configuration in asterisk/: internally consistent, consistent with the
adapters, loopback-only services, no secrets, and an install script that works."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ari.features import FEATURE_CODES
from ari.stasis import APP, FALLBACK

ASTERISK = Path(__file__).resolve().parents[2] / "asterisk"


@dataclass
class Category:
    name: str
    templates: list[str]
    is_template: bool
    values: list[tuple[str, str]] = field(default_factory=list)

    def get(self, key: str) -> list[str]:
        return [v for k, v in self.values if k == key]


@dataclass
class Conf:
    categories: list[Category]
    includes: list[str]

    def named(self, name: str) -> list[Category]:
        return [c for c in self.categories if c.name == name]

    def names(self) -> set[str]:
        return {c.name for c in self.categories}


def strip_comment(line: str) -> str:
    out = re.split(r"(?<!\\);", line, maxsplit=1)[0]
    return out.strip()


def parse_conf(path: Path) -> Conf:
    categories: list[Category] = []
    includes: list[str] = []
    for raw in path.read_text().splitlines():
        line = strip_comment(raw)
        if not line:
            continue
        m = re.fullmatch(r"#(try)?include\s+\"?([^\"]+)\"?", line)
        if m:
            includes.append(m.group(2))
            continue
        assert not line.startswith("#"), f"{path.name}: unexpected directive {line}"
        m = re.fullmatch(r"\[([^\]]+)\](?:\(([^)]*)\))?", line)
        if m:
            opts = [o.strip() for o in (m.group(2) or "").split(",") if o.strip()]
            categories.append(Category(m.group(1), [o for o in opts if o not in "!+"],
                                       "!" in opts))
            continue
        m = re.fullmatch(r"([^=]+?)\s*=>?\s*(.*)", line)
        assert m, f"{path.name}: cannot read {line!r}"
        assert categories, f"{path.name}: {line!r} outside a section"
        categories[-1].values.append((m.group(1).strip(), m.group(2).strip()))
    return Conf(categories, includes)


def conf(name: str) -> Conf:
    return parse_conf(ASTERISK / name)


# --- reading the dialplan --------------------------------------------------------------------


@dataclass
class Step:
    context: str
    exten: str
    priority: int
    label: str | None
    app: str
    data: str


def dialplan() -> tuple[dict[str, list[Step]], dict[str, str]]:
    ext = conf("extensions.conf")
    globals_ = {k: v for c in ext.named("globals") for k, v in c.values}
    steps: dict[str, list[Step]] = {}
    for cat in ext.categories:
        if cat.name in ("general", "globals"):
            continue
        current = ""
        prio = 0
        for key, value in cat.values:
            if key == "exten":
                current, p, rest = value.split(",", 2)
                prio = int(p)
            elif key == "same":
                p, rest = value.split(",", 1)
                prio += 1
            else:
                continue
            label_m = re.match(r"n\((\w+)\)", p.strip())
            app_m = re.fullmatch(r"(\w+)\((.*)\)", rest.strip())
            assert app_m, f"{cat.name}: {rest!r} is not App(args)"
            steps.setdefault(cat.name, []).append(
                Step(cat.name, current, prio, label_m.group(1) if label_m else None,
                     app_m.group(1), app_m.group(2))
            )
    return steps, globals_


def pattern_matches(pattern: str, exten: str) -> bool:
    """Whether the dialled `exten` matches the extension `pattern`, as Asterisk decides it
    for a call (main/pbx.c `_extension_match_core`, mode E_MATCH), rule for rule:

    - a name without a leading `_` matches only itself;
    - `-` is eye candy in both and skipped;
    - `X` is 0-9, `Z` 1-9, `N` 2-9 (either case), `[...]` a set with `a-b` ranges;
    - `.` matches when at least one character is left (one or more of anything);
    - `!` matches whatever is left, nothing included (zero or more of anything);
    - any other character matches itself;
    - dialled characters left over once the pattern is done: no match; pattern left over
      once the dialled string is done: a match only if what is left is `!`.
    """
    if not pattern.startswith("_"):
        return pattern.replace("-", "") == exten.replace("-", "")
    p, d = pattern[1:], exten
    i = j = 0
    while True:
        while j < len(d) and d[j] == "-":
            j += 1
        while i < len(p) and p[i] == "-":
            i += 1
        if j == len(d) or i == len(p) or p[i] == "/":
            break
        ch, digit = p[i], d[j]
        if ch == "[":
            end = p.find("]", i)
            if end < 0:
                return False  # "Wrong usage of [] in the extension"
            members = p[i + 1:end]
            if not members:
                i = end + 1  # an empty set is ignored
                continue
            k, hit = 0, False
            while k < len(members):
                if k + 2 < len(members) and members[k + 1] == "-":
                    hit = members[k] <= digit <= members[k + 2]
                    k += 3
                else:
                    hit = digit == members[k]
                    k += 1
                if hit:
                    break
            if not hit:
                return False
            i = end
        elif ch in "nN":
            if not "2" <= digit <= "9":
                return False
        elif ch in "xX":
            if not "0" <= digit <= "9":
                return False
        elif ch in "zZ":
            if not "1" <= digit <= "9":
                return False
        elif ch in ".!":
            return True
        elif digit != ch:
            return False
        i += 1
        j += 1
    if j < len(d):
        return False
    return i == len(p) or p[i] in "/!"


def resolve(text: str, globals_: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda m: globals_.get(m.group(1), m.group(0)), text)


def goto_targets(step: Step) -> list[tuple[str, str, str]]:
    """(context, exten, priority-or-label) of a Goto / GotoIf step."""
    if step.app == "Goto":
        branches = [step.data]
    elif step.app == "GotoIf":
        branches = [b for b in re.split(r"[?:]", step.data.rsplit("?", 1)[1]) if b]
    else:
        return []
    out = []
    for branch in branches:
        parts = branch.split(",")
        if len(parts) == 3:
            out.append((parts[0], parts[1], parts[2]))
        elif len(parts) == 2:
            out.append((step.context, parts[0], parts[1]))
        else:
            out.append((step.context, step.exten, parts[0]))
    return out


# --- the tests -----------------------------------------------------------------------------


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


def test_ari_and_ami_listen_on_loopback_only() -> None:
    assert conf("http.conf").named("general")[0].get("bindaddr") == ["127.0.0.1"]
    manager = conf("manager.conf")
    assert manager.named("general")[0].get("bindaddr") == ["127.0.0.1"]
    user = manager.named("acd117-ami-user")[0]
    assert user.get("permit") == ["127.0.0.1/255.255.255.255"]
    assert user.get("deny") == ["0.0.0.0/0.0.0.0"]
    assert conf("ari.conf").named("general")[0].get("allowed_origins") == [""]


def test_no_secret_is_in_the_repository() -> None:
    for path in ASTERISK.iterdir():
        if path.suffix != ".conf":
            continue
        for number, raw in enumerate(path.read_text().splitlines(), 1):
            line = strip_comment(raw)
            assert not re.match(r"(password|secret)\s*=>?\s*\S", line), f"{path.name}:{number}"
            assert not line.startswith("#exec"), f"{path.name}:{number}"
    for name in ("ari.conf", "manager.conf"):
        assert any(i.startswith("acd117-secrets/") for i in conf(name).includes)


def logger_levels(value: str) -> set[str]:
    """The levels of a logger.conf channel: `[formatter]` first is optional, `*` is every
    level, names are case-insensitive (main/logger.c make_components)."""
    value = re.sub(r"^\s*\[[^\]]*\]", "", value)
    return {w.strip().lower() for w in value.split(",") if w.strip()}


def test_no_log_channel_records_dtmf() -> None:
    # Agents key their PINs as DTMF (*11 agent id, PIN): Asterisk logs every received
    # digit at the level `dtmf`, so a log channel with that level would hold the PINs.
    channels = conf("logger.conf").named("logfiles")[0].values
    assert channels
    for name, value in channels:
        levels = logger_levels(value)
        assert "dtmf" not in levels and "*" not in levels, f"logger.conf {name} => {value}"
    assert logger_levels("[json] Notice, DTMF") == {"notice", "dtmf"}


def test_modules_acd117_needs_are_not_disabled() -> None:
    modules = conf("modules.conf").named("modules")[0]
    assert modules.get("autoload") == ["yes"]
    noload = set(modules.get("noload"))
    for needed in ("res_ari.so", "res_stasis.so", "app_stasis.so", "res_pjsip.so",
                   "chan_pjsip.so", "app_queue.so", "res_musiconhold.so",
                   "res_http_websocket.so", "res_stasis_snoop.so", "res_stasis_recording.so"):
        assert needed not in noload


def run_install(etc: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {"PATH": os.environ["PATH"], "ASTERISK_ETC": str(etc), **env}
    return subprocess.run(["sh", str(ASTERISK / "install.sh")], env=full, text=True,
                          capture_output=True, timeout=30)


def test_install_script_writes_config_secrets_and_agent_phones(tmp_path: Path) -> None:
    ok = run_install(tmp_path, ACD117_ARI_PASSWORD="AriTest2026pass",
                     ACD117_AMI_SECRET="AmiTest2026secret", ACD117_AGENT_ENDPOINTS="1001 1002")
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "extensions.conf").read_text() == (ASTERISK / "extensions.conf").read_text()
    secrets = tmp_path / "acd117-secrets"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o750
    ari_user = secrets / "ari-user.conf"
    assert stat.S_IMODE(ari_user.stat().st_mode) == 0o640
    [user] = parse_conf(ari_user).categories
    assert (user.name, user.templates, user.get("password")) == (
        "acd117", ["acd117-ari-user"], ["AriTest2026pass"])
    assert parse_conf(secrets / "manager-user.conf").categories[0].get("secret") == [
        "AmiTest2026secret"]
    agents = parse_conf(tmp_path / "acd117-site" / "pjsip-agents.conf")
    templates = {c.name for c in conf("pjsip.conf").categories if c.is_template}
    assert [c.name for c in agents.categories] == ["1001"] * 3 + ["1002"] * 3
    assert all(set(c.templates) <= templates for c in agents.categories)
    passwords = (secrets / "agent-passwords.txt").read_text().split()
    assert passwords[0] == "1001" and len(passwords[1]) == 20
    assert stat.S_IMODE((secrets / "agent-passwords.txt").stat().st_mode) == 0o600

    # A second run keeps the secrets and does not duplicate the phones.
    again = run_install(tmp_path, ACD117_ARI_PASSWORD="OtherPass2026x",
                        ACD117_AGENT_ENDPOINTS="1001")
    assert again.returncode == 0, again.stderr
    assert "AriTest2026pass" in ari_user.read_text()
    assert (tmp_path / "acd117-site" / "pjsip-agents.conf").read_text().count("[1001]") == 3


def test_install_script_warns_loudly_while_the_fallback_queue_has_no_member(
        tmp_path: Path) -> None:
    # queues.conf takes callers into an empty queue (joinempty = yes): without members,
    # 117 callers would wait on hold music forever while acd117 is down.
    members = tmp_path / "acd117-site" / "queue-national-fallback.conf"
    assert "acd117-site/queue-national-fallback.conf" in conf("queues.conf").includes
    missing = run_install(tmp_path)
    assert missing.returncode == 0
    assert "WARNING: the national fallback queue 'national-fallback' has NO MEMBER" in (
        missing.stderr)
    assert str(members) in missing.stderr and "FOREVER" in missing.stderr

    members.write_text("; member => PJSIP/nas-01,0,Pusdalops Nasional 1\n")  # only a comment
    commented = run_install(tmp_path)
    assert commented.returncode == 0 and "NO MEMBER" in commented.stderr

    members.write_text("member => PJSIP/nas-01,0,Pusdalops Nasional 1\n")
    staffed = run_install(tmp_path)
    assert staffed.returncode == 0 and "NO MEMBER" not in staffed.stderr + staffed.stdout


@pytest.mark.parametrize("password", ["short1A", "alllowercase2026", "NoDigitsHereAtAll",
                                      "Semi;colon2026ab", "has space 2026A"])
def test_install_script_refuses_weak_or_unsafe_passwords(tmp_path: Path, password: str) -> None:
    result = run_install(tmp_path, ACD117_ARI_PASSWORD=password)
    assert result.returncode != 0
    assert not (tmp_path / "acd117-secrets").exists()


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
