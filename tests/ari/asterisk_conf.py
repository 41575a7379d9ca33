"""Reading the Asterisk configuration in asterisk/ for the tests: its .conf files (categories,
templates, includes) and the dialplan (steps, globals, Asterisk's pattern matching, where a
Goto leads)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

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
