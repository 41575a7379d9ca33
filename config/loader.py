"""Load a folder of YAML call flows into `CallFlows`, or say exactly what is wrong.

Every problem names the file, line and column, the setting's path and what to do, in words
an admin understands. Nothing half-valid is ever returned: either the whole folder is good
or `ConfigError` lists every problem found.

YAML 1.1 has traps for admins: `07:00` is read as the number 420, `32.73` as a float and
`no` as false. So every scalar is kept as the text the admin wrote, and pydantic converts
it to the type the setting needs ("15" -> 15, "07:00" -> 07:00, "true" -> True).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from config.checks import cross_check, warnings
from config.guard import MAX_BYTES, refuse
from config.models import SECTIONS, CallFlows
from config.regions import RegionTable, load_regions

Path_ = tuple[str | int, ...]
_KEY = "\0key"  # appended to a path: the position of the key rather than of its value


@dataclass(frozen=True)
class Problem:
    file: str
    line: int  # 1-based
    column: int  # 1-based
    path: str  # e.g. centres[2].queues[0].ring_timeout_s
    message: str
    # A warning: valid, but it cannot work as written; the folder loads all the same.
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        if self.severity == "warning":
            where += ": warning"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class _Mark:
    file: str
    line: int
    column: int


def load_flows(folder: Path | str, regions: RegionTable | None = None,
               warned: list[Problem] | None = None) -> CallFlows:
    """Validate and load every `*.yaml` in `folder`; raise `ConfigError` on any problem.
    The warnings about the flows loaded are added to `warned` when it is given."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError([Problem(str(folder), 1, 1, "", "no such config folder")])
    files = sorted(f for f in folder.iterdir() if f.suffix in (".yaml", ".yml"))
    # `agents.YAML` would otherwise be skipped without a word, and its section missing.
    misnamed = sorted(f for f in folder.iterdir()
                      if f.suffix.lower() in (".yaml", ".yml") and f not in files)
    if misnamed:
        raise ConfigError([Problem(str(f), 1, 1, "", "this file is not read: only names "
                                   "ending in lower-case .yaml or .yml are; rename it "
                                   f"to {f.stem}.yaml") for f in misnamed])
    if not files:
        raise ConfigError([Problem(str(folder), 1, 1, "", "no .yaml files in this folder")])
    data: dict[str, Any] = {}
    marks: dict[Path_, _Mark] = {}
    problems: list[Problem] = []
    for file in files:
        _read_file(file, data, marks, problems)
    if problems:
        raise ConfigError(problems)
    try:
        flows = CallFlows.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_explain(e, data, marks, files[0])) from None
    located = cross_check(flows, regions or load_regions())
    if located:
        raise ConfigError([_at(path, msg, marks, files[0]) for path, msg in located])
    if warned is not None:
        warned.extend(_at(path, msg, marks, files[0], severity="warning")
                      for path, msg in warnings(flows))
    return flows


def _read_file(file: Path, data: dict[str, Any], marks: dict[Path_, _Mark],
               problems: list[Problem]) -> None:
    name = str(file)
    try:
        # Refused before it is read: a huge file would be held whole in memory.
        if file.stat().st_size > MAX_BYTES:
            problems.append(Problem(name, 1, 1, "", f"the file is larger than "
                                    f"{MAX_BYTES // (1024 * 1024)} MiB; a call-flow file "
                                    "is a few hundred kB at most"))
            return
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        problems.append(Problem(name, 1, 1, "", f"cannot read the file: {e}"))
        return
    refused = refuse(text)
    if refused is not None:
        problems.append(Problem(name, refused.line, refused.column, "", refused.message))
        return
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        at = e.problem_mark or e.context_mark
        line, col = (at.line + 1, at.column + 1) if at else (1, 1)
        problems.append(Problem(name, line, col, "", f"not valid YAML: {e.problem or e}"))
        return
    if root is None:
        return  # an empty file is allowed (e.g. everything commented out)
    if not isinstance(root, yaml.MappingNode):
        problems.append(Problem(name, root.start_mark.line + 1, root.start_mark.column + 1, "",
                                "the file must be a mapping of sections such as 'centres:'"))
        return
    before = len(problems)
    value = _convert(root, (), name, marks, problems)
    if len(problems) > before:
        return
    for key, section in value.items():
        where = marks[(key, _KEY)]
        if key not in SECTIONS:
            problems.append(Problem(name, where.line, where.column, str(key),
                                    f"unknown section{_suggest(str(key), SECTIONS)}; "
                                    f"sections are: {', '.join(SECTIONS)}"))
        elif key in data:
            problems.append(Problem(name, where.line, where.column, str(key),
                                    "this section is already defined in another file"))
        else:
            data[key] = section


def _convert(node: yaml.Node, path: Path_, file: str, marks: dict[Path_, _Mark],
             problems: list[Problem]) -> Any:
    marks[path] = _Mark(file, node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.ScalarNode):
        # Keep the admin's text; only an explicit null (or nothing) means "not set".
        if node.tag == "tag:yaml.org,2002:null" and node.style is None:
            return None
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), file, marks, problems)
                for i, item in enumerate(node.value)]
    assert isinstance(node, yaml.MappingNode)
    out: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            problems.append(Problem(file, key_node.start_mark.line + 1,
                                    key_node.start_mark.column + 1, _dotted(path),
                                    "a key must be plain text"))
            continue
        key = key_node.value
        if key in out:
            # PyYAML silently keeps the last duplicate; an admin would never notice.
            problems.append(Problem(file, key_node.start_mark.line + 1,
                                    key_node.start_mark.column + 1, _dotted((*path, key)),
                                    "this key appears twice in the same block"))
            continue
        # Where the key stands: for "unknown setting" and "unknown section" messages.
        marks[(*path, key, _KEY)] = _Mark(file, key_node.start_mark.line + 1,
                                          key_node.start_mark.column + 1)
        out[key] = _convert(value_node, (*path, key), file, marks, problems)
    return out


def _explain(error: ValidationError, data: dict[str, Any], marks: dict[Path_, _Mark],
             first_file: Path) -> list[Problem]:
    located = [(err, *_data_path(err["loc"], data)) for err in error.errors()]
    # A union setting (`hours: always` or a list) fails on every branch; when one branch's
    # error lies deeper in what the admin wrote, the shallow "should be 'always'" is noise.
    paths = [path for _err, path, _missing in located]
    problems: list[Problem] = []
    for err, path, missing in located:
        if any(len(p) > len(path) and p[:len(path)] == path for p in paths):
            continue
        if err["type"] == "extra_forbidden":
            allowed = _allowed_keys(path[:-1], data)
            message = f"unknown setting '{path[-1]}'{_suggest(str(path[-1]), allowed)}"
            problems.append(_at((*path, _KEY), message, marks, first_file, shown=path))
            continue
        elif err["type"] == "missing":
            message = f"required setting '{missing}' is missing"
            path = (*path, missing) if missing is not None else path
        else:
            message = err["msg"]
            if "input" in err and not isinstance(err["input"], dict | list):
                message += f" (got {err['input']!r})"
        problem = _at(path, message, marks, first_file)
        if problem not in problems:
            problems.append(problem)
    return problems


def _data_path(loc: tuple[str | int, ...], data: Any) -> tuple[Path_, str | None]:
    """Follow pydantic's error location through the data, dropping union-member tags
    (such as `list[OpeningHours]`) that are not part of what the admin wrote."""
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        found, child = _child(node, part)
        if found:
            node = child
            path.append(part)
        elif isinstance(node, dict) and i == len(loc) - 1:
            return tuple(path), str(part)  # a key that is missing from this block
    return tuple(path), None


def _child(node: Any, part: str | int) -> tuple[bool, Any]:
    if isinstance(node, dict) and part in node:
        return True, node[part]
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return True, node[part]
    return False, None


def _at(path: Path_, message: str, marks: dict[Path_, _Mark], first_file: Path,
        shown: Path_ | None = None,
        severity: Literal["error", "warning"] = "error") -> Problem:
    p = path
    while p not in marks and p:
        p = p[:-1]
    mark = marks.get(p, _Mark(str(first_file), 1, 1))
    return Problem(mark.file, mark.line, mark.column, _dotted(path if shown is None else shown),
                   message, severity)


def _allowed_keys(path: Path_, data: Any) -> list[str]:
    model: Any = CallFlows
    for part in path:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part)
        model = _model_of(field.annotation) if field else None
    return list(model.model_fields) if model else []


def _model_of(annotation: Any) -> Any:
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _suggest(word: str, choices: Iterator[str] | list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
