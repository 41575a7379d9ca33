"""The region hierarchy and area-code table the 117 router escalates along.

The generator (config/data/generate.py) needs the npm registry to fetch idn-area-data,
so it is not run here. Instead these tests check the committed JSON against itself,
against the installed phonenumbers, and against the generator's own pure functions
(name casing, count checks, place matching), which run without the network.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections import Counter
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from config.regions import NATIONAL_CODE, Region, RegionTable, load_regions

GENERATOR_PATH = Path(__file__).resolve().parents[1] / "config" / "data" / "generate.py"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("acd117_region_generator", GENERATOR_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the class is being built.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


generate = _load_generator()


def _document(name: str) -> dict[str, Any]:
    text = resources.files("config").joinpath("data", name).read_text(encoding="utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


@pytest.fixture(scope="module")
def table() -> RegionTable:
    return load_regions()


@pytest.fixture(scope="module")
def regions_doc() -> dict[str, Any]:
    return _document("regions.json")


@pytest.fixture(scope="module")
def area_doc() -> dict[str, Any]:
    return _document("area_codes.json")


# ---------------------------------------------------------------- the hierarchy


def test_has_38_provinces_and_514_kabupaten_kota(table: RegionTable) -> None:
    levels = Counter(r.level for r in table.regencies())
    assert len(table.provinces()) == 38
    assert len(table.regencies()) == 514
    assert levels == {"regency": 416, "city": 98}
    assert len(table) == 1 + 38 + 514


def test_header_counts_match_the_rows(regions_doc: dict[str, Any]) -> None:
    levels = Counter(row["level"] for row in regions_doc["regions"])
    assert regions_doc["counts"] == {
        "provinces": levels["province"],
        "kabupaten": levels["regency"],
        "kota": levels["city"],
    }


def test_records_the_dataset_version_and_legal_basis(
    table: RegionTable, regions_doc: dict[str, Any]
) -> None:
    source = regions_doc["source"]
    assert (source["package"], source["version"]) == (
        generate.DATASET,
        generate.DATASET_VERSION,
    )
    assert "300.2.2-2138" in source["legal_basis"]
    assert table.source.startswith(f"idn-area-data {generate.DATASET_VERSION} (Kepmendagri")


def test_known_regions_carry_official_codes_and_readable_names(table: RegionTable) -> None:
    assert table.get("32") == Region("32", "Jawa Barat", "province", NATIONAL_CODE)
    assert table.get("32.73") == Region("32.73", "Kota Bandung", "city", "32")
    assert table.get("32.04") == Region("32.04", "Kabupaten Bandung", "regency", "32")
    assert table.get("31") == Region("31", "DKI Jakarta", "province", NATIONAL_CODE)
    assert table.get("31.71") == Region("31.71", "Kota Administrasi Jakarta Pusat", "city", "31")
    assert table.get("31.01") == Region(
        "31.01", "Kabupaten Administrasi Kepulauan Seribu", "regency", "31"
    )
    region = table.get("34")
    assert region is not None and region.name == "Daerah Istimewa Yogyakarta"
    region = table.get("73.10")
    assert region is not None and region.name == "Kabupaten Pangkajene dan Kepulauan"


def test_nation_is_the_root(table: RegionTable) -> None:
    assert table.get(NATIONAL_CODE) == Region(NATIONAL_CODE, "Indonesia", "national", None)


def test_papua_is_split_into_the_2022_provinces(table: RegionTable) -> None:
    # Kemendagri numbered the new provinces 93-96 (UU 14, 15, 16 and 29 of 2022).
    expected = {
        "91": "Papua",
        "92": "Papua Barat",
        "93": "Papua Selatan",
        "94": "Papua Tengah",
        "95": "Papua Pegunungan",
        "96": "Papua Barat Daya",
    }
    papua = {r.code: r.name for r in table.provinces() if r.code.startswith("9")}
    assert papua == expected
    # Each new province took its kabupaten/kota with it, under new codes.
    moved = {
        "93.01": "Kabupaten Merauke",
        "94.04": "Kabupaten Mimika",
        "95.01": "Kabupaten Jayawijaya",
        "96.71": "Kota Sorong",
    }
    for code, name in moved.items():
        region = table.get(code)
        assert region is not None and region.name == name
        assert region.parent == code[:2]
    names_left_in_papua = {r.name for r in table.regencies() if r.parent == "91"}
    assert names_left_in_papua.isdisjoint(moved.values())
    assert "Kota Jayapura" in names_left_in_papua


def test_every_region_reaches_the_nation_through_its_parents(table: RegionTable) -> None:
    depth = {"national": 0, "province": 1, "regency": 2, "city": 2}
    for region in [*table.provinces(), *table.regencies()]:
        chain = [region]
        while chain[-1].parent is not None:
            parent = table.get(chain[-1].parent)
            assert parent is not None, f"{chain[-1].code} has a dangling parent"
            chain.append(parent)
        assert [r.level for r in chain][-1] == "national"
        assert len(chain) == depth[region.level] + 1


def test_codes_follow_the_kemendagri_pattern(table: RegionTable) -> None:
    for province in table.provinces():
        assert re.fullmatch(r"\d\d", province.code)
    for regency in table.regencies():
        assert re.fullmatch(r"\d\d\.\d\d", regency.code)
        assert regency.code[:2] == regency.parent
        # Kabupaten are numbered 01-69, kota 71-99, and the names say the same.
        is_kota = int(regency.code[3:]) >= 71
        assert (regency.level == "city") == is_kota, regency
        assert regency.name.startswith("Kota " if is_kota else "Kabupaten "), regency


def test_province_of_walks_up_to_the_province(table: RegionTable) -> None:
    assert table.province_of("32.73") == "32"
    assert table.province_of("32") == "32"
    assert table.province_of("96.71") == "96"
    assert table.province_of(NATIONAL_CODE) is None
    assert table.province_of("99.99") is None
    assert table.province_of("") is None


def test_membership_is_by_code_string(table: RegionTable) -> None:
    assert "32.73" in table
    assert NATIONAL_CODE in table
    assert "32.99" not in table
    assert 32 not in table
    assert None not in table


def test_lists_are_sorted_by_code(table: RegionTable) -> None:
    for listed in (table.provinces(), table.regencies()):
        codes = [r.code for r in listed]
        assert codes == sorted(codes)


def test_load_regions_is_cached(table: RegionTable) -> None:
    assert load_regions() is table


# ------------------------------------------------------------------ area codes


def test_jakarta_area_code_belongs_to_dki_jakarta(table: RegionTable) -> None:
    region = table.region_for_area_code("21")
    assert region is not None
    assert table.province_of(region) == "31"


def test_bandung_area_code_belongs_to_kota_bandung(table: RegionTable) -> None:
    assert table.region_for_area_code("22") == "32.73"
    assert table.region_for_area_code("022") == "32.73"


def test_denpasar_area_code_belongs_to_kota_denpasar(table: RegionTable) -> None:
    region = table.region_for_area_code("0361")
    assert region == "51.71"
    assert table.province_of(region) == "51"  # Bali


def test_area_codes_resolve_to_the_towns_kabupaten(table: RegionTable) -> None:
    # Kabupaten seats matched through their kecamatan, and corrections from the
    # generator's override table, both end up at the right kabupaten.
    assert table.region_for_area_code("252") == "36.02"  # Rangkasbitung, Lebak
    assert table.region_for_area_code("362") == "51.08"  # Singaraja, Buleleng
    assert table.region_for_area_code("702") == "16.11"  # Tebing Tinggi, Empat Lawang
    assert table.region_for_area_code("901") == "94.04"  # Timika, Mimika (Papua Tengah)


def test_unknown_or_malformed_area_codes_have_no_region(
    table: RegionTable, area_doc: dict[str, Any]
) -> None:
    for bad in ("", "0", "00", "0022", "abc", "1", "999", "+6222"):
        assert table.region_for_area_code(bad) is None, bad
    for code in area_doc["without_place"]:
        assert table.region_for_area_code(code) is None, code


def test_every_area_code_maps_to_an_existing_region(
    table: RegionTable, area_doc: dict[str, Any]
) -> None:
    assert len(area_doc["area_codes"]) > 250
    for code, entry in area_doc["area_codes"].items():
        region = table.get(entry["region"])
        assert region is not None, code
        assert region.level in ("province", "regency", "city"), code
        assert table.region_for_area_code(code) == region.code


def test_every_area_code_phonenumbers_places_has_a_region(table: RegionTable) -> None:
    # Fails after a phonenumbers upgrade that adds Indonesian area codes: rerun
    # config/data/generate.py so the new codes are placed.
    placed = generate.geocoded_area_codes()
    assert "22" in placed and "443" in placed  # 0443 hides behind phonenumbers' prefix 44
    missing = sorted(code for code in placed if table.region_for_area_code(code) is None)
    assert missing == []


def test_overrides_in_the_generator_are_what_is_committed(area_doc: dict[str, Any]) -> None:
    committed = {
        code: (entry["region"], entry["note"])
        for code, entry in area_doc["area_codes"].items()
        if entry["basis"] == "override"
    }
    assert committed == dict(generate.OVERRIDES)


def test_name_matches_are_reproduced_from_the_committed_regions(
    regions_doc: dict[str, Any], area_doc: dict[str, Any]
) -> None:
    # Matching a town to a kabupaten/kota name needs only regions.json, so that part
    # of the generator's output can be rebuilt here and compared.
    index = generate.PlaceIndex.build(regions_doc["regions"])
    by_name = {c: e for c, e in area_doc["area_codes"].items() if e["basis"] == "regency"}
    assert len(by_name) > 100
    for code, entry in by_name.items():
        placement = generate.place_area_code(code, entry["place"], index)
        assert placement is not None, code
        assert (placement.region, placement.basis) == (entry["region"], "regency"), code


# ----------------------------------------------------------- generator functions


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("JAWA BARAT", "Jawa Barat"),
        ("DKI JAKARTA", "DKI Jakarta"),
        ("DAERAH ISTIMEWA YOGYAKARTA", "Daerah Istimewa Yogyakarta"),
        ("KABUPATEN PANGKAJENE DAN KEPULAUAN", "Kabupaten Pangkajene dan Kepulauan"),
        ("KABUPATEN TOLI-TOLI", "Kabupaten Toli-Toli"),
        ("kota administrasi jakarta pusat", "Kota Administrasi Jakarta Pusat"),
        ("Kota  Bandung ", "Kota Bandung"),
    ],
)
def test_title_case_writes_names_as_indonesians_do(raw: str, expected: str) -> None:
    assert generate.title_case(raw) == expected


def test_committed_names_are_already_in_title_case(table: RegionTable) -> None:
    for region in [*table.provinces(), *table.regencies()]:
        assert generate.title_case(region.name) == region.name


def test_jakarta_short_name_needs_the_expected_source_name() -> None:
    assert generate.province_name("31", "DAERAH KHUSUS IBUKOTA JAKARTA") == "DKI Jakarta"
    with pytest.raises(SystemExit):
        generate.province_name("31", "Daerah Khusus Jakarta")


def test_a_kota_name_on_a_kabupaten_code_is_refused() -> None:
    assert generate.regency_level("32.73", "Kota Bandung") == "city"
    assert generate.regency_level("32.04", "Kabupaten Bandung") == "regency"
    with pytest.raises(SystemExit):
        generate.regency_level("32.04", "Kota Bandung")


def test_generator_refuses_a_dataset_with_the_wrong_counts() -> None:
    dataset = generate.Dataset(
        provinces=[("32", "Jawa Barat")],
        regencies=[("32.73", "32", "Kota Bandung")],
        districts=[],
        villages=[],
    )
    with pytest.raises(SystemExit, match="expected"):
        generate.build_regions(dataset)


def _toy_index() -> Any:
    rows = [
        {"code": "12", "name": "Sumatera Utara", "level": "province", "parent": "ID"},
        {"code": "16", "name": "Sumatera Selatan", "level": "province", "parent": "ID"},
        {"code": "32", "name": "Jawa Barat", "level": "province", "parent": "ID"},
        {"code": "12.76", "name": "Kota Tebing Tinggi", "level": "city", "parent": "12"},
        {"code": "16.11", "name": "Kabupaten Empat Lawang", "level": "regency", "parent": "16"},
        {"code": "32.01", "name": "Kabupaten Bogor", "level": "regency", "parent": "32"},
        {"code": "32.71", "name": "Kota Bogor", "level": "city", "parent": "32"},
        {"code": "32.02", "name": "Kabupaten Sukabumi", "level": "regency", "parent": "32"},
    ]
    districts = [
        ("16.11.01", "16.11", "Tebing Tinggi"),
        ("32.02.01", "32.02", "Cicurug"),
        ("32.01.01", "32.01", "Cicurug"),
    ]
    villages = [("32.02.01.1001", "32.02.01", "Pelabuhan"), ("32.02.01.2001", "32.02.01", "Desa")]
    return generate.PlaceIndex.build(rows, districts, villages)


def test_a_town_naming_both_kota_and_kabupaten_is_the_kota() -> None:
    placement = generate.place_area_code("251", "Bogor", _toy_index())
    assert (placement.region, placement.basis) == ("32.71", "regency")


def test_places_are_only_matched_within_the_numbering_zone() -> None:
    # 07xx is southern Sumatra: Tebing Tinggi there is Empat Lawang's kecamatan,
    # not the North Sumatran kota of that name (06xx).
    assert generate.place_area_code("702", "Tebing Tinggi", _toy_index()).region == "16.11"
    assert generate.place_area_code("621", "Tebing Tinggi", _toy_index()).region == "12.76"


def test_a_town_in_two_kabupaten_of_one_province_maps_to_the_province() -> None:
    placement = generate.place_area_code("266", "Cicurug", _toy_index())
    assert (placement.region, placement.basis) == ("32", "province")


def test_kelurahan_are_matched_but_desa_are_not() -> None:
    index = _toy_index()
    assert generate.place_area_code("266", "Pelabuhan", index).region == "32.02"
    assert generate.place_area_code("266", "Desa", index) is None


def test_an_unknown_town_is_left_for_the_override_table() -> None:
    assert generate.place_area_code("21", "Jabodetabek", _toy_index()) is None
