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
    assert screen([licl, lih_box], tiny_f64, out, "--rmin", "3") == 3
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
    assert screen([licl, lih_box], tiny_f64, out) == 3
    rows = rows_of(out)
    assert rows["LiCl"]["error"] == "IndexError: index 0 is out of bounds"
    assert rows["LiH_box"]["status"] == "ok"


def test_resume_keeps_the_error_rows_of_a_file_of_several_structures(licl, tiny_f64, tmp_path,
                                                                      capsys):
    multi = tmp_path / "multi.extxyz"
    write(multi, [bulk("LiCl", "rocksalt", a=5.14), bulk("LiCl", "rocksalt", a=5.3),
                  bulk("NaCl", "rocksalt", a=5.64)])
    out = tmp_path / "out"
    for _ in range(2):
        assert screen([multi], tiny_f64, out) == 3       # multi_2 fails
    rows = rows_of(out)
    assert [rows[f"multi_{k}"]["status"] for k in range(3)] == ["ok", "ok", "error"]
    assert "no Li" in rows["multi_2"]["error"]
    assert "resuming: 2 structure(s)" in capsys.readouterr().err


def test_one_file_given_several_ways_is_screened_once(licl, tiny_f64, tmp_path, monkeypatch,
                                                       capsys):
    import ionmd.screen.screen as scr

    calls = []
    real = scr.screen_structure
    monkeypatch.setattr(scr, "screen_structure", lambda *a, **k: calls.append(a) or real(*a, **k))
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    assert screen(["LiCl.cif", "./LiCl.cif", licl], tiny_f64, out) == 0
    assert len(calls) == 1 and list(rows_of(out)) == ["LiCl"]
    assert screen([licl], tiny_f64, out) == 0                # resumed under another spelling
    assert len(calls) == 1 and len(rows_of(out)) == 1
    assert "resuming: 1 structure(s)" in capsys.readouterr().err


def test_shipped_example_names_are_accepted():
    from ionmd.screen.batch import plan_inputs
    from ionmd.screen.screen import ScreenSettings

    # read as the example (it is disordered: the screen asks for an ordering, as for a file)
    ((name, plan, why),) = plan_inputs(["Li3YCl6"], None, ScreenSettings(spacing=1.0))
    assert name == "Li3YCl6" and "partially occupied sites" in why and "exist" not in why


def test_names_are_unique_against_rows_already_in_the_folder(tiny_f64, tmp_path):
    from ionmd.sweep.campaign import load_campaign

    for k, a in enumerate((5.0, 5.3), start=1):
        (tmp_path / f"mp-{k}").mkdir()
        write(tmp_path / f"mp-{k}" / "POSCAR", bulk("LiCl", "rocksalt", a=a), format="vasp")
    out = tmp_path / "out"
    assert screen([tmp_path / "mp-1" / "POSCAR"], tiny_f64, out) == 0
    assert screen([tmp_path / "mp-2" / "POSCAR"], tiny_f64, out, "--top", "2") == 0
    assert sorted(rows_of(out)) == ["POSCAR", "mp-2_POSCAR"]
    assert sorted(s.name for s in load_campaign(out / "campaign.yaml").structures) == [
        "POSCAR", "mp-2_POSCAR"]


def test_mobile_ion_alone_and_degenerate_grids_are_refused(licl, tiny_f64, tmp_path):
    write(tmp_path / "Li_bcc.cif", bulk("Li", "bcc", a=3.44, cubic=True))
    out = tmp_path / "out"
    assert screen([tmp_path / "Li_bcc.cif", licl], tiny_f64, out) == 3
    rows = rows_of(out)
    assert "no framework atom" in rows["Li_bcc"]["error"]
    assert rows["LiCl"]["status"] == "ok"
    coarse = tmp_path / "coarse"
    assert main(["screen", str(licl), "--model", str(tiny_f64), "--spacing", "10",
                 "-o", str(coarse)]) == 3
    assert "use --spacing 0.91 or less" in rows_of(coarse)["LiCl"]["error"]


def test_files_of_one_stem_get_distinct_names_and_their_files_stay_in_out(licl, tiny_f64,
                                                                          tmp_path):
    from ionmd.structures import unique_names

    write(tmp_path / "LiCl.vasp", bulk("LiCl", "rocksalt", a=5.3), format="vasp")
    out = tmp_path / "out"
    assert screen([licl, tmp_path / "LiCl.vasp", "--cube"], tiny_f64, out) == 0
    assert sorted(rows_of(out)) == ["LiCl_cif", "LiCl_vasp"]
    assert sorted(p.name for p in (out / "cubes").iterdir()) == [
        "LiCl_cif_lm.cube", "LiCl_cif_pes.cube", "LiCl_vasp_lm.cube", "LiCl_vasp_pes.cube"]
    # the same file at any depth: names never hold '/', the root's neither
    names = unique_names(["/a/LiCl.cif", "/b/LiCl.cif", "/LiCl.cif", "/a/LiCl.vasp"])
    assert len(set(names)) == 4 and not any("/" in n for n in names)


def test_output_files_never_leave_the_folder(tmp_path):
    from ionmd.errors import IonmdError
    from ionmd.screen.output import file_in

    with pytest.raises(IonmdError, match="path separator"):
        file_in(tmp_path, "/_tmp_LiCl_pes.cube")


def test_folder_argument_output_file_and_corrupt_results_are_one_line_errors(licl, tiny_f64,
                                                                             tmp_path, capsys):
    out = tmp_path / "out"
    assert screen([tmp_path], tiny_f64, out) == 3
    assert "is a directory: give the structure files in it" in rows_of(out)[tmp_path.name]["error"]
    (tmp_path / "afile").write_text("x")
    assert screen([licl], tiny_f64, tmp_path / "afile") != 0
    assert "is a file, not a folder" in capsys.readouterr().err
    (out / "screen.json").write_text("[{")
    assert screen([licl], tiny_f64, out) != 0
    assert "screen.json is not valid JSON" in capsys.readouterr().err
