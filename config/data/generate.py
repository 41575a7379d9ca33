"""Generate acd117's region hierarchy and fixed-line area-code table.

Writes two files beside this script, both committed and loaded by ``config/regions.py``:

``regions.json``
    Indonesia -> 38 provinces -> 514 kabupaten/kota (416 kabupaten + 98 kota), with the
    Kemendagri codes in dotted form (``32``, ``32.73``) and readable names.
``area_codes.json``
    Fixed-line area code without the trunk 0 (``22``) -> the region that answers it
    (``32.73``): a kabupaten/kota where the match is unambiguous, else its province.

Sources
-------
* npm package ``idn-area-data`` 4.0.1 (data under ODbL-1.0, see NOTICE.md here). Its
  maintainers' reference list gives Keputusan Menteri Dalam Negeri Nomor 300.2.2-2138
  Tahun 2025 (Pemberian dan Pemutakhiran Kode, Data Wilayah Administrasi Pemerintahan,
  dan Pulau) as the source of its codes and names. The tarball is checked against the
  npm registry's sha512 integrity pinned below. Its district and village lists are read
  too, only to place the towns phonenumbers names; they are not written out.
* PyPI package ``phonenumbers`` (a dependency of acd117): its geocoding data for
  country code 62 names the town(s) behind each area code. The version installed when
  this runs is recorded in ``area_codes.json``.

Running
-------
It needs ``npm`` and the npm registry (it runs ``npm pack``), so the test suite does not
run it; ``tests/test_regions.py`` checks the committed JSON's internal consistency and
this script's pure functions instead. From the repository root, with the project's
virtualenv (no package beyond acd117's own dependencies is needed)::

    .venv/bin/python config/data/generate.py            # rewrite the JSON files
    .venv/bin/python config/data/generate.py --check    # exit 1 if they would change
    .venv/bin/python config/data/generate.py --package idn-area-data-4.0.1.tgz

``--package`` takes a tarball made by ``npm pack idn-area-data@4.0.1`` (its integrity is
checked) or the unpacked ``package/`` directory, for machines without npm.

To move to a newer dataset, change ``DATASET_VERSION`` and ``DATASET_INTEGRITY``
(``npm view idn-area-data@<version> dist.integrity``), run, and review the diff: the
generator stops on count changes, unplaceable area codes and stale overrides.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import phonenumbers
from phonenumbers import PhoneNumberType
from phonenumbers.geodata import GEOCODE_DATA

DATA_DIR = Path(__file__).resolve().parent
REGIONS_FILE = DATA_DIR / "regions.json"
AREA_CODES_FILE = DATA_DIR / "area_codes.json"

DATASET = "idn-area-data"
DATASET_VERSION = "4.0.1"
# From `npm view idn-area-data@4.0.1 dist.integrity`: the tarball we read is the one
# the registry published, byte for byte.
DATASET_INTEGRITY = (
    "sha512-PhNSIl5T7swVwwWxJOFMtCaeHAF9TUu0HLDf+36EIWZro9j7au83AFIJiB"
    "QGL+iRsBDA2OlpJ5fjiqxNYndzOQ=="
)
DATASET_LICENSE = "ODbL-1.0"
LEGAL_BASIS = (
    "Kepmendagri No. 300.2.2-2138 Tahun 2025 tentang Pemberian dan Pemutakhiran Kode, "
    "Data Wilayah Administrasi Pemerintahan, dan Pulau"
)

NATIONAL_CODE = "ID"
NATIONAL_NAME = "Indonesia"
COUNTRY_CALLING_CODE = 62

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


# ------------------------------------------------------------------------- dataset


@dataclass(frozen=True, slots=True)
class Dataset:
    """The rows of idn-area-data that this generator reads, as (code, parent, name)."""

    provinces: list[tuple[str, str]]
    regencies: list[tuple[str, str, str]]
    districts: list[tuple[str, str, str]]
    villages: list[tuple[str, str, str]]


def _rows(text: str, columns: tuple[str, ...]) -> list[tuple[str, ...]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = set(columns) - set(reader.fieldnames or ())
    if missing:
        raise SystemExit(f"{DATASET}: CSV lacks columns {sorted(missing)}")
    return [tuple(row[c].strip() for c in columns) for row in reader]


def _parse(read: Callable[[str], str]) -> Dataset:
    meta = json.loads(read("package.json"))
    if meta.get("name") != DATASET or meta.get("version") != DATASET_VERSION:
        raise SystemExit(
            f"expected {DATASET} {DATASET_VERSION}, got {meta.get('name')} {meta.get('version')}"
        )
    provinces = _rows(read("data/provinces.csv"), ("code", "name"))
    regencies = _rows(read("data/regencies.csv"), ("code", "province_code", "name"))
    districts = _rows(read("data/districts.csv"), ("code", "regency_code", "name"))
    villages = _rows(read("data/villages.csv"), ("code", "district_code", "name"))
    return Dataset(
        provinces=[(c, n) for c, n in provinces],
        regencies=[(c, p, n) for c, p, n in regencies],
        districts=[(c, r, n) for c, r, n in districts],
        villages=[(c, d, n) for c, d, n in villages],
    )


def _integrity(blob: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(blob).digest()).decode("ascii")


def load_dataset(package: Path | None) -> Dataset:
    """Read idn-area-data from a tarball, an unpacked directory, or the npm registry."""
    if package is not None and package.is_dir():
        return _parse(lambda name: (package / name).read_text(encoding="utf-8"))
    if package is None:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [
                    "npm",
                    "pack",
                    "--loglevel=error",
                    f"{DATASET}@{DATASET_VERSION}",
                    "--pack-destination",
                    tmp,
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            (tarball,) = Path(tmp).glob("*.tgz")
            blob = tarball.read_bytes()
    else:
        blob = package.read_bytes()
    if _integrity(blob) != DATASET_INTEGRITY:
        raise SystemExit(f"{DATASET} tarball does not match the pinned integrity")
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:

        def read(name: str) -> str:
            member = tar.extractfile(f"package/{name}")
            if member is None:
                raise SystemExit(f"{DATASET} tarball lacks {name}")
            return member.read().decode("utf-8")

        return _parse(read)


# ------------------------------------------------------------------------- regions


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


# ---------------------------------------------------------------------- area codes

# Indonesia's fixed-line numbering plan gives each leading digit of the area code to
# one group of islands. Place names are matched only within that group, which keeps a
# town from landing on a namesake far away: Tebing Tinggi of 0702 is in South Sumatra,
# not the North Sumatran city of that name. The edges are not exact (0356 reaches from
# East Java into Rembang); OVERRIDES settles the codes that cross them.
ZONES: Mapping[str, frozenset[str]] = {
    "2": frozenset({"31", "32", "33", "34", "36"}),  # Jakarta, W/C Java, Yogyakarta, Banten
    "3": frozenset({"35", "51", "52", "53"}),  # East Java, Bali, Nusa Tenggara
    "4": frozenset({"71", "72", "73", "74", "75", "76"}),  # Sulawesi
    "5": frozenset({"61", "62", "63", "64", "65"}),  # Kalimantan
    "6": frozenset({"11", "12"}),  # Aceh, North Sumatra
    "7": frozenset({"13", "14", "15", "16", "17", "18", "19", "21"}),  # rest of Sumatra
    "9": frozenset({"81", "82", "91", "92", "93", "94", "95", "96"}),  # Maluku, Papua
}

# Cases the automatic match gets wrong or cannot decide, with the reason recorded in
# area_codes.json. Most name a kabupaten's seat, a town that idn-area-data knows by
# another name (its kecamatan or kelurahan are named otherwise). The generator refuses
# an override the automatic match already agrees with, so the table only holds live
# corrections.
OVERRIDES: Mapping[str, tuple[str, str]] = {
    "21": ("31", "Jabodetabek spans DKI Jakarta, West Java and Banten; Jakarta's exchange"),
    "292": ("33.15", "Purwodadi, seat of Grobogan (a Purwodadi kecamatan is in Purworejo)"),
    "327": ("35.29", "the Kangean and Masalembu islands are both Sumenep's"),
    "356": ("35.23", "Tuban's exchange; Rembang (Central Java) has its own code, 0295"),
    "362": ("51.08", "Singaraja, seat of Buleleng"),
    "363": ("51.07", "Amlapura, seat of Karangasem"),
    "382": ("53.07", "Maumere, seat of Sikka"),
    "386": ("53.05", "Kalabahi, seat of Alor"),
    "403": ("74.03", "Raha, seat of Muna"),
    "410": ("73.10", "Pangkep is Pangkajene dan Kepulauan"),
    "462": ("72.11", "Banggai town is the seat of Banggai Laut; Kabupaten Banggai is 0461"),
    "465": ("72.12", "Kolonedale, seat of Morowali Utara"),
    "484": ("73.12", "Watansoppeng, seat of Soppeng"),
    "485": ("73.13", "Sengkang, seat of Wajo"),
    "513": ("62.05", "Muara Teweh, seat of Barito Utara"),
    "522": ("62.13", "Ampah, in Barito Timur"),
    "525": ("62.04", "Buntok, seat of Barito Selatan"),
    "531": ("62.02", "Sampit, seat of Kotawaringin Timur (a kelurahan Sampit is in Ketapang)"),
    "532": ("62.01", "Pangkalan Bun, seat of Kotawaringin Barat"),
    "537": ("62.10", "Kuala Kurun, seat of Gunung Mas"),
    "538": ("62.07", "Kuala Pembuang, seat of Seruyan"),
    "620": ("12.05", "Pangkalan Brandan, in Langkat"),
    "629": ("11.02", "Kutacane, seat of Aceh Tenggara"),
    "634": ("12.77", "Padang Sidempuan is Kota Padangsidimpuan"),
    "635": ("12.20", "Gunung Tua, seat of Padang Lawas Utara"),
    "643": ("11.04", "Takengon, seat of Aceh Tengah"),
    "650": ("11.09", "Sinabang, seat of Simeulue"),
    "654": ("11.14", "Calang, seat of Aceh Jaya"),
    "655": ("11.05", "Meulaboh, seat of Aceh Barat"),
    "702": ("16.11", "Tebing Tinggi, seat of Empat Lawang"),
    "716": ("19.05", "Muntok, seat of Bangka Barat"),
    "728": ("18.04", "Liwa, seat of Lampung Barat"),
    "738": ("17.07", "Muara Aman, seat of Lebong"),
    "742": ("15.06", "Kuala Tungkal, seat of Tanjung Jabung Barat"),
    "746": ("15.02", "Bangko, seat of Merangin (a Bangko kecamatan is in Rokan Hilir)"),
    "747": ("15.08", "Muara Bungo, seat of Bungo"),
    "756": ("13.01", "Painan, seat of Pesisir Selatan"),
    "757": ("13.01", "Balai Selasa, in Pesisir Selatan"),
    "760": ("14.09", "Teluk Kuantan, seat of Kuantan Singingi"),
    "763": ("14.10", "Selatpanjang, seat of Kepulauan Meranti"),
    "764": ("14.08", "Siak Sri Indrapura, seat of Siak"),
    "767": ("14.07", "Bagansiapiapi, seat of Rokan Hilir"),
    "772": ("21.05", "Tarempa, seat of Kepulauan Anambas"),
    "773": ("21.03", "Ranai, seat of Natuna"),
    "776": ("21.04", "Dabo Singkep, seat of Lingga"),
    "779": ("21.02", "Tanjung Batu on Kundur, Karimun (not the Ogan Ilir kecamatan)"),
    "901": ("94.04", "Timika, seat of Mimika"),
    "910": ("81.01", "Banda Neira, in Maluku Tengah"),
    "917": ("81.07", "Dobo, seat of Kepulauan Aru"),
    "918": ("81.03", "Saumlaku, seat of Kepulauan Tanimbar"),
    "921": ("82", "Soasiu (Soasio, Tidore) shares the code with Ternate: the province"),
    "927": ("82.04", "Labuha, seat of Halmahera Selatan"),
    "975": ("93.02", "Tanah Merah, seat of Boven Digoel"),
    "983": ("91.05", "Serui, seat of Kepulauan Yapen"),
}

# Words phonenumbers puts around a place name that are not part of it.
_DIRECTIONS = frozenset({"barat", "timur", "utara", "selatan", "tengah"})


def _key(name: str) -> str:
    """Compare names without case, spaces or hyphens: "Baubau" is "Bau Bau"."""
    return "".join(ch for ch in name.lower() if ch.isalnum())


def _bare(name: str) -> str:
    """A kabupaten/kota name without its title: "Kota Administrasi Jakarta Pusat" -> ..."""
    for prefix in ("Kabupaten Administrasi ", "Kota Administrasi ", "Kabupaten ", "Kota "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


@dataclass(frozen=True, slots=True)
class PlaceIndex:
    """Where a town name can be found, by name key, as kabupaten/kota codes."""

    regencies: Mapping[str, frozenset[str]]  # kabupaten/kota names
    cities: Mapping[str, str]  # kota names only, for "Kota X" and kota-first ties
    districts: Mapping[str, frozenset[str]]  # kecamatan names
    kelurahan: Mapping[str, frozenset[str]]  # urban village names
    district_stems: Mapping[str, frozenset[str]]  # "Amuntai" for "Amuntai Selatan"

    @staticmethod
    def build(
        regions: Iterable[Mapping[str, str | None]],
        districts: Iterable[tuple[str, str, str]] = (),
        villages: Iterable[tuple[str, str, str]] = (),
    ) -> PlaceIndex:
        def group(pairs: Iterable[tuple[str, str]]) -> dict[str, frozenset[str]]:
            acc: dict[str, set[str]] = {}
            for key, code in pairs:
                acc.setdefault(key, set()).add(code)
            return {k: frozenset(v) for k, v in acc.items()}

        regencies = [r for r in regions if r["level"] in ("regency", "city")]
        cities: dict[str, str] = {}
        for r in regencies:
            if r["level"] == "city":
                cities[_key(_bare(str(r["name"])))] = str(r["code"])
        district_names: list[tuple[str, str]] = []
        stems: list[tuple[str, str]] = []
        for _, regency, name in districts:
            # The kecamatan holding a kabupaten's seat is often "Kota <seat>" (Kota Sigli,
            # Kota Waingapu); the town is known by the bare name.
            bare = name[len("Kota ") :] if name.startswith("Kota ") else name
            district_names.append((_key(name), regency))
            if bare != name:
                district_names.append((_key(bare), regency))
            words = bare.split()
            if len(words) > 1 and words[-1].lower() in _DIRECTIONS:
                # A town split into kecamatan by compass point: Amuntai Selatan/Tengah/Utara.
                stems.append((_key(" ".join(words[:-1])), regency))
        # Only kelurahan (urban villages, numbered 1xxx by Kemendagri; desa are 2xxx):
        # the towns that name exchanges are urban, and desa names repeat across the
        # country (there is a desa Tanahmerah in Jayawijaya; 0975 is Boven Digoel's).
        kelurahan = [
            (_key(name), code[:5]) for code, _, name in villages if code.split(".")[-1][:1] == "1"
        ]
        return PlaceIndex(
            regencies=group((_key(_bare(str(r["name"]))), str(r["code"])) for r in regencies),
            cities=cities,
            districts=group(district_names),
            # A village code's first five characters are its kabupaten/kota ("32.73").
            kelurahan=group(kelurahan),
            district_stems=group(stems),
        )


@dataclass(frozen=True, slots=True)
class Placement:
    region: str  # a kabupaten/kota or province code
    basis: str  # how it was found: regency, district, kelurahan, province or override
    note: str = ""  # why, for an override


def _province(code: str) -> str:
    return code[:2]


def place_candidates(place: str, zone: frozenset[str], index: PlaceIndex) -> tuple[str, set[str]]:
    """The kabupaten/kota a town name may stand for, and which list named it.

    Lists are tried from the most to the least authoritative and the first that knows
    the name within the zone wins: a kabupaten/kota name, then a kecamatan, then a
    desa/kelurahan. "Kota X" asks for the kota only.
    """
    if place.startswith("Kota "):
        city = index.cities.get(_key(place[5:]))
        if city is not None and _province(city) in zone:
            return "regency", {city}
    key = _key(place)
    for basis, table in (
        ("regency", index.regencies),
        ("district", index.districts),
        ("kelurahan", index.kelurahan),
        ("district", index.district_stems),
    ):
        found = {c for c in table.get(key, ()) if _province(c) in zone}
        if found:
            if basis == "regency" and key in index.cities and index.cities[key] in found:
                # A town that names both a kota and a kabupaten ("Bogor") is the kota:
                # an exchange carries the town's name, and the kota is the town.
                return basis, {index.cities[key]}
            return basis, found
    words = place.split()
    if len(words) > 1 and words[-1].lower() in _DIRECTIONS:
        # "Cilacap Barat" is the western exchange of Cilacap, not a place of that name.
        return place_candidates(" ".join(words[:-1]), zone, index)
    return "", set()


def split_places(description: str) -> list[str]:
    """phonenumbers lists the towns an area code serves as "A/B/C", main town first."""
    places = []
    for part in description.split("/"):
        part = part.strip()
        if part.endswith(" Islands"):  # "Masalembu Islands": the islands take the name
            part = part[: -len(" Islands")]
        if part:
            places.append(part)
    return places


def place_area_code(code: str, description: str, index: PlaceIndex) -> Placement | None:
    """The region behind one area code, or None when the names cannot decide it.

    The first town named is the exchange's own: if it is one kabupaten/kota, that is
    the answer. Otherwise the province every named town agrees on is, if there is one.
    """
    zone = ZONES.get(code[0], frozenset())
    places = split_places(description)
    if not places:
        return None
    found = [place_candidates(p, zone, index) for p in places]
    basis, first = found[0]
    if len(first) == 1:
        return Placement(next(iter(first)), basis)
    provinces: set[str] | None = None
    for _, candidates in found:
        if candidates:
            these = {_province(c) for c in candidates}
            provinces = these if provinces is None else provinces & these
    if provinces is not None and len(provinces) == 1:
        return Placement(next(iter(provinces)), "province")
    return None


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


def dump(document: Mapping[str, Any]) -> str:
    """JSON with one region or area code per line, so a data update reads as a diff."""

    def compact(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    def block(items: list[str], open_: str, close: str, indent: str) -> str:
        if not items:
            return open_ + close
        inner = indent + " "
        return open_ + "\n" + ",\n".join(inner + i for i in items) + "\n" + indent + close

    def render(value: Any, depth: int) -> str:
        indent = " " * depth
        if depth >= 2 or not isinstance(value, dict | list):
            return compact(value)
        if isinstance(value, dict):
            items = [f"{compact(k)}: {render(v, depth + 1)}" for k, v in value.items()]
            return block(items, "{", "}", indent)
        return block([render(v, depth + 1) for v in value], "[", "]", indent)

    return render(document, 0) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--package", type=Path, help="idn-area-data tarball or unpacked dir")
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)

    data = load_dataset(args.package)
    rows = build_regions(data)
    index = PlaceIndex.build(rows, data.districts, data.villages)
    outputs = {
        REGIONS_FILE: dump(build_regions_document(rows)),
        AREA_CODES_FILE: dump(build_area_codes(rows, index)),
    }
    drift = [
        path.name
        for path, text in outputs.items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    if args.check:
        if drift:
            print("out of date: " + ", ".join(drift), file=sys.stderr)
            return 1
        return 0
    for path, text in outputs.items():
        path.write_text(text, encoding="utf-8")
    print("wrote " + ", ".join(p.name for p in outputs) + ("" if drift else " (unchanged)"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
