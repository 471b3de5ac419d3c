"""A screen rerun from another folder: rows were keyed by their ``source`` as given (a path
relative to the folder the screen was started in), resolved against the folder of the
rerun. `cd sub && ionmd screen ../cifs/LiCl.cif -o ../out` screened LiCl again, and a
different file at the same relative path from another folder was taken for the one
already screened (and never screened)."""

from __future__ import annotations

import json

import pytest
from ase.build import bulk
from ase.io import write
from ionmd.cli import main


@pytest.fixture
def screened(monkeypatch):
    """The structures `ionmd screen` evaluates, by formula and first cell length."""
    import ionmd.screen.screen as screen

    real, seen = screen.screen_structure, []

    def counting(atoms, *args, **kwargs):
        seen.append(atoms.get_chemical_formula())
        return real(atoms, *args, **kwargs)

    monkeypatch.setattr(screen, "screen_structure", counting)
    return seen


def _screen(model, *args) -> int:
    return main(["screen", *args, "--model", str(model), "--spacing", "0.7"])


def test_rerun_from_another_folder_recomputes_nothing(tiny_f64, tmp_path, monkeypatch, screened):
    (tmp_path / "cifs").mkdir()
    (tmp_path / "sub").mkdir()
    write(tmp_path / "cifs" / "LiCl.cif", bulk("LiCl", "rocksalt", a=5.14))
    write(tmp_path / "cifs" / "LiF.cif", bulk("LiF", "rocksalt", a=4.03))
    monkeypatch.chdir(tmp_path)
    assert _screen(tiny_f64, "cifs/LiCl.cif", "cifs/LiF.cif", "-o", "out") == 0
    first = json.loads((tmp_path / "out" / "screen.json").read_text())
    assert len(screened) == 2

    monkeypatch.chdir(tmp_path / "sub")
    assert _screen(tiny_f64, "../cifs/LiCl.cif", "../cifs/LiF.cif", "-o", "../out",
                   "--top", "2") == 0
    assert len(screened) == 2                        # nothing screened again
    assert json.loads((tmp_path / "out" / "screen.json").read_text()) == first
    campaign = (tmp_path / "out" / "campaign.yaml").read_text()
    for name in ("LiCl.cif", "LiF.cif"):            # the files, not sub/cifs/...
        assert f"path: {(tmp_path / 'cifs' / name).resolve()}\n" in campaign


def test_same_relative_path_from_two_folders_is_two_files(tiny_f64, tmp_path, monkeypatch,
                                                          screened):
    for folder, a in (("a", 5.14), ("b", 5.6)):
        (tmp_path / folder / "cifs").mkdir(parents=True)
        write(tmp_path / folder / "cifs" / "x.cif", bulk("LiCl", "rocksalt", a=a))
    for folder in ("a", "b"):
        monkeypatch.chdir(tmp_path / folder)
        assert _screen(tiny_f64, "cifs/x.cif", "-o", "../out") == 0
    assert len(screened) == 2                        # b's file was screened, not taken for a's
    rows = json.loads((tmp_path / "out" / "screen.json").read_text())
    assert len(rows) == 2 and len({r["name"] for r in rows}) == 2
    # each row is its own file's crystal: the primitive rock-salt cell, a / sqrt(2)
    assert [r["lattice"][0] for r in rows] == pytest.approx([5.14 / 2 ** 0.5, 5.6 / 2 ** 0.5],
                                                            abs=1e-4)


def test_rows_of_earlier_versions_are_recognised_from_their_folder(tiny_f64, tmp_path,
                                                                   monkeypatch, screened):
    """Rows written before they recorded their input's key still resume a rerun from the
    folder the screen was started in."""
    (tmp_path / "cifs").mkdir()
    write(tmp_path / "cifs" / "LiCl.cif", bulk("LiCl", "rocksalt", a=5.14))
    monkeypatch.chdir(tmp_path)
    assert _screen(tiny_f64, "cifs/LiCl.cif", "-o", "out") == 0
    path = tmp_path / "out" / "screen.json"
    old = [{k: v for k, v in r.items() if k != "input_key"} for r in json.loads(path.read_text())]
    path.write_text(json.dumps(old))
    assert _screen(tiny_f64, "./cifs/LiCl.cif", "-o", "out") == 0
    assert len(screened) == 1
    assert json.loads(path.read_text()) == old


def test_a_moved_project_folder_resumes_the_same_command(tiny_f64, tmp_path, monkeypatch,
                                                        screened):
    """Rows keyed by resolved path: a project folder moved (or copied to another machine)
    and the same command run there screened its file again beside its old row, and the
    campaign named the old machine's paths; the row's source, seen from here, is its file."""
    import shutil

    old = tmp_path / "machineA" / "proj"
    (old / "inputs").mkdir(parents=True)
    write(old / "inputs" / "LiCl.cif", bulk("LiCl", "rocksalt", a=5.14))
    write(old / "inputs" / "Li3.extxyz", [bulk("LiCl", "rocksalt", a=5.24 + 0.1 * k)
                                          for k in range(2)])
    args = ("inputs/LiCl.cif", "inputs/Li3.extxyz", "-o", "out", "--top", "3")
    monkeypatch.chdir(old)
    assert _screen(tiny_f64, *args) == 0
    first = json.loads((old / "out" / "screen.json").read_text())
    assert len(screened) == 3
    new = tmp_path / "machineB" / "proj"
    shutil.copytree(old, new)
    shutil.rmtree(tmp_path / "machineA")
    monkeypatch.chdir(new)
    assert _screen(tiny_f64, *args) == 0
    assert len(screened) == 3                       # nothing screened again
    rows = json.loads((new / "out" / "screen.json").read_text())
    assert [r["name"] for r in rows] == [r["name"] for r in first]
    campaign = (new / "out" / "campaign.yaml").read_text()
    assert "machineA" not in campaign
    assert f"path: {(new / 'inputs' / 'LiCl.cif').resolve()}\n" in campaign
    assert f"path: {(new / 'out' / 'structures').resolve()}" in campaign    # Li3's cells
