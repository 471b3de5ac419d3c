"""docs/analysis.md says which compressed dumps `ionmd analyze` reads: every one the dump
reader opens (gzip, bzip2, xz, told by the leading bytes, whatever the name) and the ones it
refuses (zstd, lz4). It said "also gzipped, `.gz`". Reference: Python's own gzip, bz2 and
lzma writers, and the zstd/lz4 frame magic numbers of their format specifications."""

from __future__ import annotations

import bz2
import gzip
import lzma
import re
from pathlib import Path

import pytest

from ionmd.errors import AnalysisError
from ionmd.lammps.dump import open_dump

ROOT = Path(__file__).resolve().parents[1]
TEXT = "ITEM: TIMESTEP\n0\n"
WRITERS = {"gzip": gzip, "bzip2": bz2, "xz": lzma}
REFUSED = {"zstd": b"\x28\xb5\x2f\xfd", "lz4": b"\x04\x22\x4d\x18"}   # RFC 8878, lz4 frame


def _sentence() -> str:
    doc = (ROOT / "docs" / "analysis.md").read_text()
    return re.search(r"`dump custom`/`dump atom` files \((.*?)items are skipped", doc,
                     re.S).group(1).replace("\n", " ")


@pytest.mark.parametrize("kind", WRITERS)
def test_documented_compressions_are_read_under_any_name(tmp_path, kind):
    path = tmp_path / "dump.without_suffix"
    with WRITERS[kind].open(path, "wt") as fh:
        fh.write(TEXT)
    with open_dump(path) as fh:
        assert fh.read() == TEXT
    said = _sentence()
    assert kind in said and "whatever its name" in said, said


@pytest.mark.parametrize("kind", REFUSED)
def test_documented_refusals_are_refused(tmp_path, kind):
    path = tmp_path / f"run.dump.{kind}"
    path.write_bytes(REFUSED[kind] + b"\0" * 16)
    with pytest.raises(AnalysisError, match=kind):
        open_dump(path)
    assert kind in _sentence()
