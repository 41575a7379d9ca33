"""Asterisk's ARI documents (Swagger 1.1 JSON), loaded to check requests against them.

Asterisk publishes one document per resource (`channels.json`, `bridges.json`, ...). They
are not part of acd117: they are read at test time from the directory named by
`ACD117_ARI_API_DOCS`, or from `../shared/asterisk/ari-api-docs` beside the repository.
Where they are absent `load_api_docs()` returns None and checks are skipped.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_REPO = Path(__file__).resolve().parents[3]
DEFAULT_DOCS_DIR = _REPO.parent / "shared" / "asterisk" / "ari-api-docs"


def api_docs_dir() -> Path:
    return Path(os.environ.get("ACD117_ARI_API_DOCS", str(DEFAULT_DOCS_DIR)))


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: str  # path, query, body
    required: bool
    data_type: str
    multiple: bool
    allowed: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str  # template, e.g. /channels/{channelId}/play
    nickname: str
    resource: str  # channels, bridges, ...
    params: tuple[Param, ...]
    regex: re.Pattern[str]
    literal_segments: int

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


class RequestRejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _compile(template: str) -> tuple[re.Pattern[str], int]:
    parts = template.strip("/").split("/")
    pattern = ""
    literal = 0
    for part in parts:
        m = re.fullmatch(r"\{(\w+)\}", part)
        if m:
            pattern += f"/(?P<{m.group(1)}>[^/]+)"
        else:
            pattern += "/" + re.escape(part)
            literal += 1
    return re.compile(pattern + "$"), literal


class ApiDocs:
    def __init__(self, operations: list[Operation], models: dict[str, dict[str, Any]]) -> None:
        # Most literal segments first: /channels/create before /channels/{channelId}.
        self.operations = sorted(operations, key=lambda o: -o.literal_segments)
        self.models = models

    @classmethod
    def load(cls, directory: Path) -> ApiDocs:
        operations: list[Operation] = []
        models: dict[str, dict[str, Any]] = {}
        for file in sorted(directory.glob("*.json")):
            doc = json.loads(file.read_text())
            models.update(doc.get("models", {}))
            for api in doc.get("apis", []):
                for op in api.get("operations", []):
                    params = tuple(
                        Param(
                            name=p["name"],
                            kind=p["paramType"],
                            # endpoints.json omits `required` on path parameters
                            required=bool(p.get("required")) or p["paramType"] == "path",
                            data_type=p.get("dataType", "string"),
                            multiple=bool(p.get("allowMultiple")),
                            allowed=tuple(p["allowableValues"]["values"])
                            if p.get("allowableValues", {}).get("valueType") == "LIST"
                            else None,
                        )
                        for p in op.get("parameters", [])
                    )
                    regex, literal = _compile(api["path"])
                    operations.append(
                        Operation(
                            method=op["httpMethod"].upper(),
                            path=api["path"],
                            nickname=op["nickname"],
                            resource=file.stem,
                            params=params,
                            regex=regex,
                            literal_segments=literal,
                        )
                    )
        return cls(operations, models)

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]]:
        """The documented operation for `path` (relative to /ari); 404/405 otherwise."""
        methods: set[str] = set()
        for op in self.operations:
            m = op.regex.match(path)
            if m is None:
                continue
            if op.method == method:
                return op, m.groupdict()
            methods.add(op.method)
        if methods:
            raise RequestRejected(405, f"{method} not allowed on {path}")
        raise RequestRejected(404, f"no documented resource {path}")

    def validate(
        self, op: Operation, query: Mapping[str, str], body: Any
    ) -> None:
        """Raise RequestRejected (400) for anything the document does not allow."""
        for name in query:
            p = op.param(name)
            if p is None or p.kind != "query":
                raise RequestRejected(400, f"{op.nickname}: parameter {name!r} not documented")
        body_keys: dict[str, Any] = {}
        if body is not None:
            if not isinstance(body, dict):
                raise RequestRejected(400, f"{op.nickname}: body must be a JSON object")
            body_keys = body
            for key in body:
                p = op.param(key)
                if p is None or p.kind == "path":
                    raise RequestRejected(400, f"{op.nickname}: body key {key!r} not documented")
        for p in op.params:
            if p.kind == "path":
                continue
            if p.kind == "body":
                if p.required and p.name not in body_keys:
                    raise RequestRejected(400, f"{op.nickname}: body {p.name!r} required")
                if p.name in body_keys and p.data_type == "containers":
                    value = body_keys[p.name]
                    if not isinstance(value, dict):
                        raise RequestRejected(400, f"{op.nickname}: {p.name} must be an object")
                continue
            raw = query.get(p.name)
            if raw is None and p.name in body_keys:  # body keys double as query parameters
                raw = str(body_keys[p.name])
            if raw is None:
                if p.required:
                    raise RequestRejected(400, f"{op.nickname}: parameter {p.name!r} required")
                continue
            values = raw.split(",") if p.multiple else [raw]
            for value in values:
                self._check_value(op, p, value)

    @staticmethod
    def _check_value(op: Operation, p: Param, value: str) -> None:
        if p.allowed is not None and value not in p.allowed:
            raise RequestRejected(
                400, f"{op.nickname}: {p.name}={value!r} not one of {list(p.allowed)}"
            )
        if p.data_type in ("int", "long"):
            try:
                int(value)
            except ValueError:
                raise RequestRejected(400, f"{op.nickname}: {p.name} must be an integer") from None
        elif p.data_type == "boolean" and value not in ("true", "false"):
            raise RequestRejected(400, f"{op.nickname}: {p.name} must be true or false")

    def missing_event_fields(self, event: Mapping[str, Any]) -> list[str]:
        """Required properties (per events.json, inherited from Event/Message) absent."""
        kind = event.get("type")
        model = self.models.get(str(kind))
        if model is None:
            return [f"unknown event type {kind!r}"]
        required = [k for k, v in model.get("properties", {}).items() if v.get("required")]
        required += ["type", "application", "timestamp"]
        return [k for k in required if k not in event]


def load_api_docs(directory: Path | None = None) -> ApiDocs | None:
    directory = directory or api_docs_dir()
    if not (directory / "channels.json").is_file():
        return None
    return ApiDocs.load(directory)
