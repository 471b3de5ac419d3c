"""A rerun of a screen does not read (nor order) again the files whose structures all have
finished rows: it read and ordered every file given, finished or not (an Ewald ordering
takes seconds to minutes per file); a file with a structure to retry, or one half done, is
still read."""

from __future__ import annotations

import json

from ase.build import bulk
from ase.io import write
from ionmd.cli import main


def test_finished_files_are_not_read_again(tiny_f64, tmp_path, monkeypatch):
    import ionmd.structures as structures

    write(tmp_path / "LiCl.cif", bulk("LiCl", "rocksalt", a=5.14))
    write(tmp_path / "both.extxyz", [bulk("LiCl", "rocksalt", a=5.0), bulk("LiF", "rocksalt", a=4.03)])
    write(tmp_path / "half.extxyz", [bulk("LiCl", "rocksalt", a=5.3), bulk("NaCl", "rocksalt", a=5.64)])
    files = [tmp_path / n for n in ("LiCl.cif", "both.extxyz", "half.extxyz")]
    argv = ["screen", *map(str, files), "--model", str(tiny_f64), "--spacing", "0.7",
            "-o", str(tmp_path / "out")]
    assert main(argv) == 3                               # half_1 has no Li
    first = json.loads((tmp_path / "out" / "screen.json").read_text())
    assert [r["status"] for r in first] == ["ok", "ok", "ok", "ok", "error"]

    real, loaded = structures.load_structures, []
    monkeypatch.setattr(structures, "load_structures",
                        lambda source, *a, **k: loaded.append(source) or real(source, *a, **k))
    assert main(argv) == 3
    assert loaded == [files[2]]                          # only the file with a failed structure
    assert json.loads((tmp_path / "out" / "screen.json").read_text()) == first
