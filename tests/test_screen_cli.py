"""``ionmd screen`` end to end on tiny cells: rows, bad input, resume, CUBE, campaign."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.io import write
from ase.io.cube import read_cube_data
from ionmd.cli import main
from structures import p1_cif


@pytest.fixture
def inputs(tmp_path):
    write(tmp_path / "LiCl.cif", bulk("LiCl", "rocksalt", a=5.14, cubic=True))
    write(tmp_path / "NaCl.cif", bulk("NaCl", "rocksalt", a=5.64, cubic=True))
    write(tmp_path / "LiPo.cif", Atoms("LiPo", scaled_positions=[[0, 0, 0], [0.5, 0.5, 0.5]],
                                       cell=np.eye(3) * 3.3, pbc=True))
    (tmp_path / "broken.cif").write_text("not a structure\n")
    return tmp_path


def screen(args, model, out):
    return main(["screen", *map(str, args), "--model", str(model), "--spacing", "0.7",
                 "-o", str(out)])


def test_screen_batch_with_bad_inputs_resume_and_outputs(inputs, sevennet0_f64, tmp_path,
                                                         capsys, monkeypatch):
    files = [inputs / n for n in ("LiCl.cif", "broken.cif", "NaCl.cif", "LiPo.cif")]
    out = tmp_path / "out"
    assert main(["screen", *map(str, files), "--model", str(sevennet0_f64), "--spacing", "0.7",
                 "-o", str(out), "--top", "3", "--cube", "--png"]) == 3   # 3 of 4 failed
    rows = {r["name"]: r for r in json.loads((out / "screen.json").read_text())}
    assert rows["LiCl"]["status"] == "ok"
    assert rows["broken"]["status"] == "error" and "cannot read" in rows["broken"]["error"]
    assert "no Li in ClNa" in rows["NaCl"]["error"]
    assert "does not know Po" in rows["LiPo"]["error"]
    licl = rows["LiCl"]
    assert licl["cell"] == "primitive" and licl["natoms"] == 2 and licl["grid"] == "6x6x6"
    assert licl["mobile_ions"] == [0]
    assert "--min-image-distance" in licl["note"]             # a 2-atom cell is flagged
    assert 0 < licl["mpe_eV"] < 5 and 0 <= licl["xi"] <= 1
    fv = [licl[f"fv_connected_{t:g}eV"] for t in (0.1, 0.5, 1.0)]
    assert fv == sorted(fv)                          # monotonic in the threshold
    assert len(licl["model_sha256"]) == 64
    assert (out / "screen.csv").read_text().count("\n") == 5

    pes, _ = read_cube_data(str(out / "cubes" / "LiCl_pes.cube"))
    lm, lm_atoms = read_cube_data(str(out / "cubes" / "LiCl_lm.cube"))
    assert len(lm_atoms) == 16
    assert pes.shape == (6, 6, 6) and lm.shape == (12, 12, 12)
    assert pes.min() == 0.0 and lm.min() == 0.0

    assert (out / "plots" / "LiCl_lm.png").read_bytes()[:4] == b"\x89PNG"

    # the top-N file is a campaign the sweep layer accepts as it is
    from ionmd.sweep.campaign import load_campaign

    campaign = load_campaign(out / "campaign.yaml")
    assert [s.name for s in campaign.structures] == ["LiCl"]
    assert list(campaign.protocol.temperatures) == [1000, 500]
    assert campaign.protocol.duration_ps == 100 and campaign.protocol.timestep_fs == 1.0
    assert campaign.analysis.window_ps == 15.0
    assert "LiCl: Xi = " in (out / "campaign.yaml").read_text()

    # resume: finished structures are not recomputed, failed ones are retried
    import ionmd.screen.screen as scr
    calls = []
    real = scr.screen_structure
    monkeypatch.setattr(scr, "screen_structure", lambda *a, **k: calls.append(a) or real(*a, **k))
    capsys.readouterr()
    assert screen(files[:1] + files[2:3], sevennet0_f64, out) == 3     # NaCl fails again
    assert "resuming: 1 structure(s)" in capsys.readouterr().err
    assert len(calls) == 1                          # NaCl retried, LiCl skipped
    again = {r["name"]: r for r in json.loads((out / "screen.json").read_text())}
    assert again["LiCl"] == licl

    # other settings into the same folder: refused, nothing there is touched
    before = (out / "screen.json").read_text()
    capsys.readouterr()
    assert main(["screen", str(files[0]), "--model", str(sevennet0_f64), "--spacing", "0.6",
                 "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "other settings" in err and "spacing 0.7 there, 0.6 now" in err
    assert (out / "screen.json").read_text() == before


def test_grid_guard_reports_an_estimate(inputs, sevennet0_f64, tmp_path):
    out = tmp_path / "guard"
    assert main(["screen", str(inputs / "LiCl.cif"), "--model", str(sevennet0_f64),
                 "--max-points", "50", "-o", str(out)]) == 3       # its only input failed
    (row,) = json.loads((out / "screen.json").read_text())
    assert row["status"] == "error"
    assert "exceeds --max-points 50" in row["error"] and "atom evaluations" in row["error"]


def test_dry_run_costs_what_the_screen_evaluates(inputs, sevennet0_f64, tmp_path, capsys):
    files = [inputs / "LiCl.cif", inputs / "NaCl.cif", inputs / "broken.cif"]
    out = tmp_path / "dry"
    capsys.readouterr()
    assert screen([*files, "--dry-run"], sevennet0_f64, out) == 3     # as the screen would
    lines = {ln.split()[0]: ln for ln in capsys.readouterr().out.splitlines()}
    assert not (out / "screen.json").exists()                  # nothing evaluated or written
    assert "no Li in ClNa" in lines["NaCl"] and "cannot read" in lines["broken"]
    name, formula, natoms, grid, ions, n_eval, atom_evals = lines["LiCl"].split()[:7]
    assert screen([files[0]], sevennet0_f64, out) == 0
    (row,) = json.loads((out / "screen.json").read_text())
    assert (formula, int(natoms), grid) == (row["formula"], row["natoms"], row["grid"])
    assert int(n_eval) == row["n_evaluated"] and float(atom_evals) == row["n_evaluated"] * 2
    assert "us per atom evaluation on cpu" in lines["total"] and " h of model time" in lines["total"]


MIXED_ANION_CIF = p1_cif("LiClBr", 5.30, [
    (f"Li{k + 1}", "Li", x, y, z, 1) for k, (x, y, z) in enumerate(
        [(0.0, 0.0, 0.0), (0.0, 0.5, 0.5), (0.5, 0.0, 0.5), (0.5, 0.5, 0.0)])] + [
    (f"{el}{k}", el, x, y, z, 0.5) for k, (x, y, z) in enumerate(
        [(0.5, 0.5, 0.5), (0.5, 0.0, 0.0), (0.0, 0.5, 0.0), (0.0, 0.0, 0.5)]) for el in ("Cl", "Br")])


def test_disordered_files_are_refused_or_ordered(tiny_f64, tmp_path):
    """ASE puts an atom on every partially occupied site (8 anions on 4 sites here); the
    screen refuses such a cell with the fix, and --order ewald screens an ordered one.
    A tiny SevenNet: ordered cells keep little symmetry, and only the bookkeeping is tested."""
    from ase.io import read

    from ionmd.errors import IonmdError
    from ionmd.screen.batched_energy import ModelRunner
    from ionmd.screen.screen import partial_sites, screen_structure

    cif = tmp_path / "LiClBr.cif"
    cif.write_text(MIXED_ANION_CIF)
    atoms = read(cif)
    assert partial_sites(atoms) == ["Br 0.50 Cl 0.50"]
    assert partial_sites(bulk("LiCl", "rocksalt", a=5.14)) == []
    with pytest.raises(IonmdError, match=r"partially occupied sites \(Br 0.50 Cl 0.50\).*--order ewald"):
        screen_structure(atoms, ModelRunner(tiny_f64))

    out = tmp_path / "out"
    assert screen([cif], tiny_f64, out) == 3                      # every input failed
    (row,) = json.loads((out / "screen.json").read_text())
    assert row["status"] == "error" and "--order ewald" in row["error"]
    assert screen([cif, "--order", "ewald"], tiny_f64, out) == 0
    (row,) = json.loads((out / "screen.json").read_text())
    assert row["status"] == "ok" and row["ordering"].startswith("ewald ordering of LiClBr.cif")
    from ase.formula import Formula

    counts = Formula(row["formula"]).count()            # charge-balanced, half Br half Cl
    assert counts["Br"] == counts["Cl"] >= 1 and counts["Li"] == counts["Br"] + counts["Cl"]
    assert 0 < row["mpe_eV"] < 10
    out2 = tmp_path / "out2"
    assert screen([cif, "--order", "random", "--order-seed", "3"], tiny_f64, out2) == 0
    (row,) = json.loads((out2 / "screen.json").read_text())
    assert row["status"] == "ok" and "random ordering" in row["ordering"] and "seed 3" in row["ordering"]


def test_ranking_orders_by_xi_or_by_mpe(tiny_f64, tmp_path):
    """--top's order: Xi first (ties by lower MPE), or lower MPE first (no path last);
    failed rows never count; the campaign keeps that order."""
    from ionmd.screen.output import ranked, write_campaign
    from ionmd.sweep.campaign import load_campaign

    rows = [{"name": "a", "source": str(tmp_path / "a.cif"), "status": "ok", "xi": 0.3,
             "mpe_eV": 0.2},
            {"name": "b", "source": str(tmp_path / "b.cif"), "status": "ok", "xi": 0.5,
             "mpe_eV": 7.0},
            {"name": "c", "source": str(tmp_path / "c.cif"), "status": "ok", "xi": 0.5,
             "mpe_eV": None},
            {"name": "d", "source": "d.cif", "status": "error", "error": "x"}]
    assert [r["name"] for r in ranked(rows, "xi")] == ["b", "c", "a"]
    assert [r["name"] for r in ranked(rows, "mpe")] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="rank by one of"):
        ranked(rows, "fv")
    for name, a in zip("abc", (5.14, 5.4, 5.7)):      # three frameworks, not one thrice
        write(tmp_path / f"{name}.cif", bulk("LiCl", "rocksalt", a=a))
    path = write_campaign(tmp_path / "campaign.yaml", rows, 2, str(tiny_f64), "mpe")
    assert [s.name for s in load_campaign(path).structures] == ["a", "b"]
    assert "best first by mpe" in path.read_text()


def test_exit_status_3_where_any_input_failed(inputs, tiny_f64, tmp_path, capsys):
    # scripts see a screen that produced nothing, or only part of what was asked (a partial
    # failure exited 0: a script went on as if every structure had been screened)
    out = tmp_path / "out"
    assert screen([inputs / "broken.cif", inputs / "NaCl.cif"], tiny_f64, out) == 3
    assert "every input failed" in capsys.readouterr().err
    assert screen([inputs / "broken.cif", inputs / "LiCl.cif"], tiny_f64, out) == 3
    assert "1 failed: see the rows with status error" in capsys.readouterr().err
    rows = {r["name"]: r["status"] for r in json.loads((out / "screen.json").read_text())}
    assert rows == {"broken": "error", "LiCl": "ok", "NaCl": "error"}   # earlier errors kept
    assert screen([inputs / "LiCl.cif"], tiny_f64, out) == 0    # what was asked is done


def test_files_that_share_a_name_keep_their_own_rows_and_files(tiny_f64, tmp_path):
    """Downloads often name every file POSCAR (mp-1/POSCAR, mp-2/POSCAR): each keeps its own
    row name and CUBE files instead of overwriting the other's."""
    from ase.io import write as ase_write

    paths = []
    for k, a in enumerate((5.0, 5.3)):
        (tmp_path / f"mp-{k}").mkdir()
        ase_write(tmp_path / f"mp-{k}" / "POSCAR", bulk("LiCl", "rocksalt", a=a), format="vasp")
        paths.append(tmp_path / f"mp-{k}" / "POSCAR")
    out = tmp_path / "out"
    assert screen([*paths, "--cube"], tiny_f64, out) == 0
    rows = json.loads((out / "screen.json").read_text())
    assert sorted(r["name"] for r in rows) == ["mp-0_POSCAR", "mp-1_POSCAR"]
    assert all(r["status"] == "ok" for r in rows)
    cubes = sorted(p.name for p in (out / "cubes").glob("*.cube"))
    assert len(cubes) >= 2 and {c.split("_POSCAR")[0] for c in cubes} == {"mp-0", "mp-1"}
