"""Which kabupaten/kota (or province) a town name phonenumbers gives stands for."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

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
