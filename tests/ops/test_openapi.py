"""The OpenAPI document matches the routes: every route documented, nothing invented."""

from __future__ import annotations

from pathlib import Path

from acd.bootstrap import bootstrap
from acd.http.app import build_app
from acd.http.openapi import document
from acd.service.ports import TelephonyBase
from tests.ops.support import settings


class Quiet(TelephonyBase):
    async def execute(self, command: object) -> None:
        pass


def routes(tmp_path: Path) -> set[tuple[str, str]]:
    app = build_app(bootstrap(settings(tmp_path), Quiet()))  # type: ignore[arg-type]
    out = set()
    for route in app.router.routes():
        if route.method in ("HEAD", "OPTIONS"):
            continue
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        out.add((str(path), route.method.lower()))
    return out


def test_every_route_is_documented_and_every_documented_path_exists(tmp_path: Path) -> None:
    served = routes(tmp_path)
    documented = {(path, method) for path, ops in document()["paths"].items()
                  for method in ops}
    assert served - documented == set(), "routes missing from /openapi.json"
    assert documented - served == set(), "documented paths that are not served"


def test_the_document_is_openapi_3_with_responses_for_every_operation() -> None:
    doc = document()
    assert doc["openapi"].startswith("3.")
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op["responses"], f"{method} {path} has no responses"
            assert op.get("summary"), f"{method} {path} has no summary"
