"""The fixed-line area-code table written to area_codes.json, from phonenumbers' geocoding."""

from __future__ import annotations

from typing import Any

import phonenumbers
from phonenumbers import PhoneNumberType
from phonenumbers.geodata import GEOCODE_DATA

from config.data.generator.dataset import DATASET, DATASET_VERSION
from config.data.generator.overrides import OVERRIDES
from config.data.generator.places import PlaceIndex, Placement, place_area_code

COUNTRY_CALLING_CODE = 62


def _fixed_line(national: str) -> phonenumbers.PhoneNumber | None:
    """A valid Indonesian fixed-line number starting with these digits, if any."""
    for filler in ("1234567", "123456", "12345678", "12345"):
        number = phonenumbers.PhoneNumber(
            country_code=COUNTRY_CALLING_CODE, national_number=int(national + filler)
        )
        if phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in (
            PhoneNumberType.FIXED_LINE,
            PhoneNumberType.FIXED_LINE_OR_MOBILE,
        ):
            return number
    return None


def _area_code_of(national: str) -> str | None:
    number = _fixed_line(national)
    if number is None:
        return None
    return national[: phonenumbers.length_of_geographical_area_code(number)] or None


def geocoded_area_codes() -> dict[str, str]:
    """Every fixed-line area code phonenumbers has a place for, with that place.

    phonenumbers keys its geocoding data by number prefix, and merges a block whose
    only area code is known into its shorter prefix ("44" stands for 0443 Marisa).
    Such a prefix is expanded by one digit to the area codes the numbering plan admits.
    """
    cc = str(COUNTRY_CALLING_CODE)
    prefixes: dict[str, str] = {}
    for key, names in GEOCODE_DATA.items():
        if key.startswith(cc):
            prefixes[key[len(cc) :]] = names.get("id") or names["en"]
    codes: dict[str, str] = {}

    def add(area: str, name: str) -> None:
        if area in codes and codes[area] != name:
            raise SystemExit(f"area code {area} has two places: {codes[area]!r}, {name!r}")
        codes[area] = name

    for prefix, name in sorted(prefixes.items()):
        area = _area_code_of(prefix)
        if area is not None and len(area) <= len(prefix):
            add(area, name)
            continue
        for candidate in (prefix + digit for digit in "0123456789"):
            # A longer prefix in the data names its own place and wins over this one.
            if candidate in prefixes:
                continue
            if _area_code_of(candidate) == candidate:
                add(candidate, name)
    return codes


def numbering_plan_area_codes() -> set[str]:
    """Every area code that phonenumbers' fixed-line pattern for Indonesia admits."""
    codes = set()
    for first in "23456789":
        for rest in range(100):
            area = _area_code_of(f"{first}{rest:02d}")
            if area is not None:
                codes.add(area)
    return codes


def build_area_codes(regions: list[dict[str, str | None]], index: PlaceIndex) -> dict[str, Any]:
    known = {str(r["code"]) for r in regions}
    geocoded = geocoded_area_codes()
    table: dict[str, dict[str, str]] = {}
    unplaced: list[str] = []
    for code, description in sorted(geocoded.items()):
        auto = place_area_code(code, description, index)
        if code in OVERRIDES:
            target, why = OVERRIDES[code]
            if auto is not None and auto.region == target:
                raise SystemExit(f"override for {code} is no longer needed: remove it")
            placement = Placement(target, "override", why)
        elif auto is None:
            unplaced.append(f"{code} {description!r}")
            continue
        else:
            placement = auto
        if placement.region not in known:
            raise SystemExit(f"area code {code} maps to unknown region {placement.region}")
        entry = {"region": placement.region, "place": description, "basis": placement.basis}
        if placement.note:
            entry["note"] = placement.note
        table[code] = entry
    if unplaced:
        raise SystemExit("no region for area codes (add to OVERRIDES): " + ", ".join(unplaced))
    stale = sorted(set(OVERRIDES) - set(geocoded))
    if stale:
        raise SystemExit(f"overrides for area codes phonenumbers no longer has: {stale}")
    # Codes the numbering plan admits but phonenumbers places nowhere: callers from them
    # are routed by the national tier, so list them for the people who read this file.
    without_place = sorted(numbering_plan_area_codes() - set(geocoded))
    return {
        "source": {
            "package": "phonenumbers",
            "version": phonenumbers.__version__,
            "data": f"geocoding data for +{COUNTRY_CALLING_CODE} (phonenumbers.geodata)",
        },
        "regions_source": f"{DATASET} {DATASET_VERSION}",
        "generated_by": "config/data/generate.py",
        "note": (
            "region is a kabupaten/kota code, or a province code where the place names "
            "cannot decide. basis says how it was found: regency, district or kelurahan "
            "when the first town named is that kind of area in idn-area-data; province "
            "when the towns agree only on a province; override for OVERRIDES in the "
            "generator, with its reason in note. "
            "without_place: area codes phonenumbers accepts for fixed lines but has no "
            "place for; they have no region here."
        ),
        "area_codes": table,
        "without_place": without_place,
    }
