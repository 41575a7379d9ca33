"""idn-area-data: the npm package of Kemendagri's codes and names, pinned and checked."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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
