"""A screen survives every file: an unexpected error at any stage of one structure (turning
it into ASE Atoms, ordering, the descriptors, the CUBE files) is that structure's row, with
the stage and the error's type; the other rows are written, the exit status says that some
failed, and a rerun resumes. Before, an error after loading (in the conversion to Atoms)
stopped the whole screen, error rows named no stage or type, a CUBE file that could not be
written threw away the descriptors, a partial failure exited 0, and each file was parsed
twice."""

from __future__ import annotations

import json

import pytest
from ase.build import bulk
from ase.io import write
from ionmd.cli import main

RESULT_COLUMNS = ("formula", "grid", "mpe_eV", "xi", "fv_connected_0.5eV", "n_evaluated")


def screen(paths, model, out, *extra) -> int:
    return main(["screen", *map(str, paths), "--model", str(model), "--spacing", "0.7",
                 "-o", str(out), *extra])


def rows_of(out) -> dict:
    return {r["name"]: r for r in json.loads((out / "screen.json").read_text())}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Three rock-salt LiCl files (a = 5.0, 5.14, 5.3 A); the middle one is made to fail."""
    folder = tmp_path_factory.mktemp("files")
    for name, a in (("first", 5.0), ("bad", 5.14), ("last", 5.3)):
        write(folder / f"{name}.cif", bulk("LiCl", "rocksalt", a=a, cubic=True))
    return [folder / f"{name}.cif" for name in ("first", "bad", "last")]


@pytest.fixture(scope="module")
def clean_rows(files, tiny_f64, tmp_path_factory):
    """The reference: the two good files screened alone, nothing patched."""
    out = tmp_path_factory.mktemp("clean") / "out"
    assert screen([files[0], files[2]], tiny_f64, out) == 0
    return rows_of(out)


def failing_on_edge(real, a: float, error: Exception):
    """pymatgen's Structure -> Atoms conversion, raising ``error`` for the cubic cell of
    edge ``a`` (or its primitive cell, a / sqrt 2)."""
    def get_atoms(structure, *args, **kwargs):
        if any(abs(x - e) < 1e-6 for x in structure.lattice.abc for e in (a, a / 2 ** 0.5)):
            raise error
        return real(structure, *args, **kwargs)
    return get_atoms


def assert_good_rows_as_alone(rows, clean_rows):
    for name in ("first", "last"):
        assert rows[name]["status"] == "ok"
        assert {k: rows[name][k] for k in RESULT_COLUMNS} == \
            {k: clean_rows[name][k] for k in RESULT_COLUMNS}


def test_an_error_converting_one_structure_is_its_row_and_the_batch_goes_on(
        files, clean_rows, tiny_f64, tmp_path, monkeypatch, capsys):
    """The conversion to ASE Atoms ran outside every guard: its error ended the screen at
    the middle file, and the last file was never screened."""
    from pymatgen.io.ase import AseAtomsAdaptor

    real = AseAtomsAdaptor.get_atoms
    monkeypatch.setattr(AseAtomsAdaptor, "get_atoms",
                        staticmethod(failing_on_edge(real, 5.14, KeyError("Species X"))))
    out = tmp_path / "out"
    assert screen(files, tiny_f64, out) == 3
    rows = rows_of(out)
    assert list(rows) == ["first", "bad", "last"]
    assert_good_rows_as_alone(rows, clean_rows)
    bad = rows["bad"]
    assert (bad["status"], bad["stage"], bad["error_type"]) == ("error", "convert", "KeyError")
    assert bad["error"] == "KeyError: 'Species X'"
    assert "1 failed: see the rows with status error" in capsys.readouterr().err

    # rerun, the cause gone: the failed one is retried, the finished ones are not redone
    import ionmd.screen.screen as scr

    monkeypatch.setattr(AseAtomsAdaptor, "get_atoms", staticmethod(real))
    screened = []
    real_screen = scr.screen_structure
    monkeypatch.setattr(scr, "screen_structure",
                        lambda atoms, *a, **k: screened.append(atoms) or real_screen(atoms, *a, **k))
    assert screen(files, tiny_f64, out) == 0
    assert len(screened) == 1 and "resuming: 2 structure(s)" in capsys.readouterr().err
    again = rows_of(out)
    assert again["bad"]["status"] == "ok" and "stage" not in again["bad"]
    assert again["first"] == rows["first"] and again["last"] == rows["last"]


def test_an_error_in_the_descriptors_names_its_stage_and_type(files, clean_rows, tiny_f64,
                                                              tmp_path, monkeypatch):
    import ionmd.screen.screen as scr

    real, calls = scr.aggregate, []

    def aggregate(*args, **kwargs):           # the second structure screened: bad.cif
        calls.append(1)
        if len(calls) == 2:
            raise ZeroDivisionError("float division by zero")
        return real(*args, **kwargs)

    monkeypatch.setattr(scr, "aggregate", aggregate)
    out = tmp_path / "out"
    assert screen(files, tiny_f64, out) == 3
    rows = rows_of(out)
    assert_good_rows_as_alone(rows, clean_rows)
    assert (rows["bad"]["stage"], rows["bad"]["error_type"]) == ("screen", "ZeroDivisionError")
    assert rows["bad"]["error"] == "ZeroDivisionError: float division by zero"


def test_an_unexpected_error_in_ordering_is_cannot_order_with_its_type(tiny_f64, tmp_path,
                                                                        monkeypatch):
    import ionmd.structures.load as load
    from pymatgen.core import Lattice, Structure

    half = Structure(Lattice.cubic(5.14), [{"Li": 0.5}, "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    half.to(filename=str(tmp_path / "half.cif"))

    def order(*args, **kwargs):
        raise TypeError("unsupported operand type(s) for +: 'int' and 'NoneType'")

    monkeypatch.setattr(load, "_order", order)
    out = tmp_path / "out"
    assert screen([tmp_path / "half.cif"], tiny_f64, out, "--order", "random") == 3
    row = rows_of(out)["half"]
    assert (row["stage"], row["error_type"]) == ("cannot order", "TypeError")
    assert row["error"] == ("cannot order: TypeError: unsupported operand type(s) for +: "
                            "'int' and 'NoneType'")


def test_cube_files_that_cannot_be_written_keep_the_descriptors(files, clean_rows, tiny_f64,
                                                                 tmp_path, monkeypatch):
    """A full disk while writing one structure's CUBE files made the computed descriptors an
    error row (recomputed on the rerun)."""
    import ionmd.screen.output as output

    real = output.write_cubes

    def write_cubes(folder, name, result):
        if name == "bad":
            raise OSError(28, "No space left on device")
        return real(folder, name, result)

    monkeypatch.setattr(output, "write_cubes", write_cubes)
    out = tmp_path / "out"
    assert screen(files, tiny_f64, out, "--cube") == 3
    rows = rows_of(out)
    assert_good_rows_as_alone(rows, clean_rows)
    assert rows["bad"]["status"] == "ok" and rows["bad"]["mpe_eV"] is not None
    assert rows["bad"]["output_error"] == "OSError: [Errno 28] No space left on device"
    assert sorted(p.name for p in (out / "cubes").iterdir()) == [
        "first_lm.cube", "first_pes.cube", "last_lm.cube", "last_pes.cube"]


def test_each_file_is_parsed_once(files, tiny_f64, tmp_path, monkeypatch):
    """read_screen_inputs read each file, then load_structures read it again."""
    import ionmd.structures.io as io

    real, parsed = io._read_frames, []
    monkeypatch.setattr(io, "_read_frames",
                        lambda path, *a, **k: parsed.append(path) or real(path, *a, **k))
    assert screen(files, tiny_f64, tmp_path / "out") == 0
    assert sorted(parsed) == sorted(files)
