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
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from config.data.generator.area_codes import build_area_codes, geocoded_area_codes
from config.data.generator.dataset import DATASET, DATASET_VERSION, Dataset, load_dataset
from config.data.generator.overrides import OVERRIDES
from config.data.generator.places import PlaceIndex, place_area_code
from config.data.generator.regions import (
    build_regions,
    build_regions_document,
    province_name,
    regency_level,
    title_case,
)

# What tests/test_regions.py checks of the generator, by this script's name.
__all__ = ["DATASET", "DATASET_VERSION", "OVERRIDES", "Dataset", "PlaceIndex", "build_regions",
           "geocoded_area_codes", "main", "place_area_code", "province_name", "regency_level",
           "title_case"]

DATA_DIR = Path(__file__).resolve().parent
REGIONS_FILE = DATA_DIR / "regions.json"
AREA_CODES_FILE = DATA_DIR / "area_codes.json"


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
