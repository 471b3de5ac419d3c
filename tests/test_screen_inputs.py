"""``ionmd screen`` on awkward inputs: one structure's failure is its error row and the
batch goes on; names, paths and the output folder are checked."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.io import write
from ionmd.cli import main


def screen(args, model, out, *extra):
    return main(["screen", *map(str, args), "--model", str(model), "--spacing", "0.7",
                 "-o", str(out), *extra])


def rows_of(out) -> dict:
    return {r["name"]: r for r in json.loads((out / "screen.json").read_text())}


@pytest.fixture
def licl(tmp_path):
    write(tmp_path / "LiCl.cif", bulk("LiCl", "rocksalt", a=5.14, cubic=True))
    return tmp_path / "LiCl.cif"


@pytest.fixture
def lih_box(tmp_path):
    """LiH in a 6 A box: grid points 3 A from H exist, none in LiCl."""
    path = tmp_path / "LiH_box.extxyz"
    write(path, Atoms("LiH", positions=[[0, 0, 0], [0, 0, 1.6]], cell=np.eye(3) * 6.0,
                      pbc=True))
    return path


def test_every_point_excluded_is_an_error_row_not_a_crash(licl, lih_box, tiny_f64, tmp_path):
    out = tmp_path / "out"
    assert screen([licl, lih_box], tiny_f64, out, "--rmin", "3") == 0
    rows = rows_of(out)
    assert "every grid point is excluded" in rows["LiCl"]["error"]
    assert rows["LiH_box"]["status"] == "ok"


def test_any_exception_of_one_structure_is_its_error_row(licl, lih_box, tiny_f64, tmp_path,
                                                         monkeypatch):
    import ionmd.screen.screen as scr

    real = scr.screen_structure

    def fails_on_licl(atoms, *args, **kwargs):
        if "Cl" in atoms.get_chemical_symbols():
            raise IndexError("index 0 is out of bounds")
        return real(atoms, *args, **kwargs)

    monkeypatch.setattr(scr, "screen_structure", fails_on_licl)
    out = tmp_path / "out"
    assert screen([licl, lih_box], tiny_f64, out) == 0
    rows = rows_of(out)
    assert rows["LiCl"]["error"] == "IndexError: index 0 is out of bounds"
    assert rows["LiH_box"]["status"] == "ok"
