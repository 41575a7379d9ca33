"""The region hierarchy written to regions.json: names as Indonesians write them, kabupaten
or kota, the counts checked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from config.data.generator.dataset import (
    DATASET,
    DATASET_INTEGRITY,
    DATASET_LICENSE,
    DATASET_VERSION,
    LEGAL_BASIS,
    Dataset,
)

NATIONAL_CODE = "ID"
NATIONAL_NAME = "Indonesia"

# The counts the 117 service is planned around (MISSION.md): one answering point per
# kabupaten/kota and one backup per province. A dataset that disagrees is a change in
# the country's administration and must be looked at by a person, not absorbed.
EXPECTED_PROVINCES = 38
EXPECTED_KABUPATEN = 416
EXPECTED_KOTA = 98

Level = Literal["national", "province", "regency", "city"]


# --------------------------------------------------------------------------- names

# Acronyms keep their capitals whatever case the dataset uses (older releases of
# idn-area-data were all upper case, the current one is title case).
ACRONYMS = frozenset({"DKI", "DIY"})
# Conjunctions inside a name stay lower case, as in "Kabupaten Pangkajene dan Kepulauan".
PARTICLES = frozenset({"dan"})
# Kemendagri spells the capital's province in full; Indonesians, BNPB included, write it
# "DKI Jakarta". Keyed by code and by the expected source name, so a renamed province
# (Jakarta's status is changing under UU 2/2024) stops the run instead of being relabelled.
SHORT_NAMES: Mapping[str, tuple[str, str]] = {
    "31": ("Daerah Khusus Ibukota Jakarta", "DKI Jakarta"),
}


def title_case(raw: str) -> str:
    """Write a region name the way Indonesians do, whatever case the source used.

    >>> title_case("KABUPATEN PANGKAJENE DAN KEPULAUAN")
    'Kabupaten Pangkajene dan Kepulauan'
    >>> title_case("kabupaten toli-toli")
    'Kabupaten Toli-Toli'
    """
    out: list[str] = []
    for i, word in enumerate(raw.split()):
        if word.upper() in ACRONYMS:
            out.append(word.upper())
        elif i > 0 and word.lower() in PARTICLES:
            out.append(word.lower())
        else:
            # Each part of a reduplicated or hyphenated name is capitalised: "Bau-Bau".
            out.append("-".join(part[:1].upper() + part[1:].lower() for part in word.split("-")))
    return " ".join(out)


def province_name(code: str, raw: str) -> str:
    name = title_case(raw)
    if code in SHORT_NAMES:
        expected, short = SHORT_NAMES[code]
        if name != expected:
            raise SystemExit(
                f"province {code} is now {name!r}, not {expected!r}: review SHORT_NAMES"
            )
        return short
    return name


def regency_level(code: str, name: str) -> Level:
    """Kabupaten or kota, from the name, cross-checked against the Kemendagri code.

    Kemendagri numbers kabupaten 01-69 and kota 71-99 within a province; the name says
    the same thing in words. Both must agree, or the source has an error we would route on.
    """
    by_name: Level
    if name.startswith("Kabupaten "):
        by_name = "regency"
    elif name.startswith("Kota "):
        by_name = "city"
    else:
        raise SystemExit(f"{code} {name!r}: neither Kabupaten nor Kota")
    by_code: Level = "city" if int(code.split(".")[1]) >= 71 else "regency"
    if by_name != by_code:
        raise SystemExit(f"{code} {name!r}: the name says {by_name}, the code says {by_code}")
    return by_name


def build_regions(data: Dataset) -> list[dict[str, str | None]]:
    """National, province and kabupaten/kota rows, sorted by code, counts verified."""
    rows: list[dict[str, str | None]] = [
        {"code": NATIONAL_CODE, "name": NATIONAL_NAME, "level": "national", "parent": None}
    ]
    provinces = {code for code, _ in data.provinces}
    for code, raw in sorted(data.provinces):
        if len(code) != 2 or not code.isdigit():
            raise SystemExit(f"province code {code!r} is not two digits")
        rows.append(
            {
                "code": code,
                "name": province_name(code, raw),
                "level": "province",
                "parent": NATIONAL_CODE,
            }
        )
    levels: dict[str, int] = {"regency": 0, "city": 0}
    for code, parent, raw in sorted(data.regencies):
        if parent not in provinces or not code.startswith(parent + "."):
            raise SystemExit(f"regency {code} does not sit under a known province ({parent})")
        name = title_case(raw)
        level = regency_level(code, name)
        levels[level] += 1
        rows.append({"code": code, "name": name, "level": level, "parent": parent})
    codes = [row["code"] for row in rows]
    if len(codes) != len(set(codes)):
        raise SystemExit("duplicate region codes")
    counts = (len(provinces), levels["regency"], levels["city"])
    expected = (EXPECTED_PROVINCES, EXPECTED_KABUPATEN, EXPECTED_KOTA)
    if counts != expected:
        raise SystemExit(
            f"{DATASET} {DATASET_VERSION} has provinces/kabupaten/kota {counts}, "
            f"expected {expected}"
        )
    return rows


def build_regions_document(rows: list[dict[str, str | None]]) -> dict[str, Any]:
    return {
        "source": {
            "package": DATASET,
            "version": DATASET_VERSION,
            "registry": "npm",
            "integrity": DATASET_INTEGRITY,
            "license": DATASET_LICENSE,
            "legal_basis": LEGAL_BASIS,
        },
        "generated_by": "config/data/generate.py",
        "counts": {
            "provinces": sum(1 for r in rows if r["level"] == "province"),
            "kabupaten": sum(1 for r in rows if r["level"] == "regency"),
            "kota": sum(1 for r in rows if r["level"] == "city"),
        },
        "regions": rows,
    }
