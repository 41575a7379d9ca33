"""Indonesia's administrative regions, the unit the 117 service routes calls by.

A call is offered first to the BPBD of the caller's kabupaten/kota, then to its
province, then to the national centre (BNPB). This module knows that hierarchy, with
the official Kemendagri codes in dotted form (province ``32``, kabupaten/kota
``32.73``), and which region a fixed-line area code belongs to.

The data is generated, not written: ``config/data/generate.py`` builds
``config/data/regions.json`` from the ``idn-area-data`` package and
``config/data/area_codes.json`` from ``phonenumbers``' geocoding data. Nothing is read
at import time; :func:`load_regions` reads both files once, checks them and caches the
table.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

NATIONAL_CODE = "ID"  # the code used for the nation itself (Kemendagri has none)

Level = Literal["national", "province", "regency", "city"]
# Written out rather than derived so that mypy sees each value as a Level.
_LEVELS: Mapping[str, Level] = {
    "national": "national",
    "province": "province",
    "regency": "regency",
    "city": "city",
}
# The level a region's parent must have: the hierarchy is exactly three deep.
_PARENT_LEVEL: Mapping[Level, Level | None] = {
    "national": None,
    "province": "national",
    "regency": "province",
    "city": "province",
}


@dataclass(frozen=True, slots=True)
class Region:
    code: str  # "ID", "32", "32.73"
    name: str  # "Indonesia", "Jawa Barat", "Kota Bandung"
    level: Level  # regency = kabupaten, city = kota
    parent: str | None  # "32.73" -> "32", "32" -> "ID", "ID" -> None


class RegionTable:
    """The region hierarchy and the area-code table, checked for consistency once."""

    __slots__ = ("_area_codes", "_by_code", "area_codes_source", "source")

    def __init__(
        self,
        regions: Iterable[Region],
        area_codes: Mapping[str, str],
        source: str,
        area_codes_source: str = "",
    ) -> None:
        self.source = source  # e.g. "idn-area-data 4.0.1 (Kepmendagri ...)"
        self.area_codes_source = area_codes_source  # e.g. "phonenumbers 9.0.43"
        by_code: dict[str, Region] = {}
        for region in regions:
            if region.code in by_code:
                raise ValueError(f"region {region.code} appears twice")
            by_code[region.code] = region
        _check_hierarchy(by_code)
        for area_code, code in area_codes.items():
            if not area_code.isdigit() or area_code.startswith("0"):
                raise ValueError(f"area code {area_code!r} is not digits without the trunk 0")
            target = by_code.get(code)
            if target is None or target.level == "national":
                raise ValueError(f"area code {area_code} maps to {code!r}, not a region")
        self._by_code = by_code
        self._area_codes = dict(area_codes)

    def get(self, code: str) -> Region | None:
        return self._by_code.get(code)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in self._by_code

    def __len__(self) -> int:
        return len(self._by_code)

    def province_of(self, code: str) -> str | None:
        """``"32.73"`` -> ``"32"``, ``"32"`` -> ``"32"``; the nation and unknowns -> None."""
        region = self._by_code.get(code)
        if region is None or region.level == "national":
            return None
        if region.level == "province":
            return region.code
        return region.parent

    def provinces(self) -> list[Region]:
        return self._at_levels("province")

    def regencies(self) -> list[Region]:
        """Every kabupaten (``regency``) and kota (``city``), by code."""
        return self._at_levels("regency", "city")

    def region_for_area_code(self, area_code: str) -> str | None:
        """The region a fixed-line area code belongs to: ``"22"`` -> ``"32.73"``.

        Takes the code with or without its trunk 0 (``"022"``). The answer is a
        kabupaten/kota where the area code's town is one, else its province. None for
        a code the table does not place (unknown, or one phonenumbers accepts but has
        no place for), which leaves the caller to the national tier.
        """
        digits = area_code.strip()
        if digits.startswith("0"):
            digits = digits[1:]
        return self._area_codes.get(digits)

    def _at_levels(self, *levels: Level) -> list[Region]:
        return sorted(
            (r for r in self._by_code.values() if r.level in levels), key=lambda r: r.code
        )


def _check_hierarchy(by_code: Mapping[str, Region]) -> None:
    """The shape routing relies on: one nation, provinces under it, regencies under those."""
    national = by_code.get(NATIONAL_CODE)
    if national is None or national.level != "national":
        raise ValueError(f"no national region {NATIONAL_CODE!r}")
    for region in by_code.values():
        expected = _PARENT_LEVEL[region.level]
        if expected is None:
            if region.parent is not None or region.code != NATIONAL_CODE:
                raise ValueError(f"{region.code}: only {NATIONAL_CODE} is national")
            continue
        parent = by_code.get(region.parent) if region.parent is not None else None
        if parent is None or parent.level != expected:
            raise ValueError(f"{region.code}: parent {region.parent!r} is not a {expected}")
        if expected == "province" and not region.code.startswith(parent.code + "."):
            # Kemendagri codes carry their province: 32.73 lies in 32.
            raise ValueError(f"{region.code}: code does not extend its parent {parent.code}")


# ----------------------------------------------------------------------- loading


def _str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what}: expected a string, got {value!r}")
    return value


def _obj(value: object, what: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise ValueError(f"{what}: expected an object")
    return {str(k): v for k, v in value.items()}


def _parse_regions(document: object) -> tuple[list[Region], str]:
    doc = _obj(document, "regions.json")
    src = _obj(doc.get("source"), "regions.json source")
    source = (
        f"{_str(src.get('package'), 'package')} {_str(src.get('version'), 'version')}"
        f" ({_str(src.get('legal_basis'), 'legal_basis')})"
    )
    rows = doc.get("regions")
    if not isinstance(rows, list):
        raise ValueError("regions.json: regions must be a list")
    regions = []
    for i, item in enumerate(rows):
        row = _obj(item, f"regions[{i}]")
        level = _LEVELS.get(_str(row.get("level"), f"regions[{i}].level"))
        if level is None:
            raise ValueError(f"regions[{i}]: unknown level {row.get('level')!r}")
        parent = row.get("parent")
        regions.append(
            Region(
                code=_str(row.get("code"), f"regions[{i}].code"),
                name=_str(row.get("name"), f"regions[{i}].name"),
                level=level,
                parent=None if parent is None else _str(parent, f"regions[{i}].parent"),
            )
        )
    return regions, source


def _parse_area_codes(document: object) -> tuple[dict[str, str], str]:
    doc = _obj(document, "area_codes.json")
    src = _obj(doc.get("source"), "area_codes.json source")
    source = f"{_str(src.get('package'), 'package')} {_str(src.get('version'), 'version')}"
    table = _obj(doc.get("area_codes"), "area_codes.json area_codes")
    return {
        code: _str(_obj(entry, f"area code {code}").get("region"), f"area code {code}")
        for code, entry in table.items()
    }, source


def _read(name: str) -> object:
    text = resources.files("config").joinpath("data", name).read_text(encoding="utf-8")
    result: object = json.loads(text)
    return result


@cache
def load_regions() -> RegionTable:
    """The region table from the package's data files; read once, then cached."""
    regions, source = _parse_regions(_read("regions.json"))
    area_codes, area_codes_source = _parse_area_codes(_read("area_codes.json"))
    return RegionTable(regions, area_codes, source, area_codes_source)
