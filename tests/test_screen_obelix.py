"""``ionmd screen`` on published experimental CIFs (OBELiX, NRC-Mila/OBELiX, CC BY 4.0):
what a screen of real, often disordered, Li conductors met."""

from __future__ import annotations

import json

import pytest
from ionmd.cli import main

# OBELiX entry 4xq, Li0.04Na0.46La0.5Nb2O6 (measured 5.9e-6 S/cm): the A site holds La 0.5,
# Na 0.46 and Li 0.04. The file as OBELiX ships it (its O count included).
LI_004_PEROVSKITE_CIF = """data_4xq
_symmetry_space_group_name_H-M   Pmmm
_cell_length_a   3.91800000
_cell_length_b   3.92300000
_cell_length_c   7.86000000
_cell_angle_alpha   90.00000000
_cell_angle_beta   90.00000000
_cell_angle_gamma   90.00000000
_symmetry_Int_Tables_number   47
loop_
 _symmetry_equiv_pos_site_id
 _symmetry_equiv_pos_as_xyz
  1  'x, y, z'
  2  '-x, -y, -z'
  3  '-x, -y, z'
  4  'x, y, -z'
  5  'x, -y, -z'
  6  '-x, y, z'
  7  '-x, y, -z'
  8  'x, -y, z'
loop_
 _atom_site_type_symbol
 _atom_site_label
 _atom_site_symmetry_multiplicity
 _atom_site_fract_x
 _atom_site_fract_y
 _atom_site_fract_z
 _atom_site_occupancy
  La  La0  1  0.00000000  0.00000000  0.00000000  0.5
  Li  Li1  1  0.00000000  0.00000000  0.00000000  0.04
  Na  Na2  1  0.00000000  0.00000000  0.00000000  0.46
  Nb  Nb3  2  0.50000000  0.50000000  0.25753553  1.0
  O  O4  2  0.00000000  0.50000000  0.24500091  1.0
  O  O5  2  0.50000000  0.00000000  0.26086083  1.0
"""


def test_li_rounded_away_by_ordering_is_named_not_reported_missing(tiny_f64, tmp_path):
    """--order-tol 0.15 rounds the file's 0.04 Li to none. Before, the row said "no Li in
    LaNaNb4O8 ... choose the mobile ion with --species", as if the file had none; pymatgen
    reads 0.04 Li in the file's cell, and the row must say that and how to keep it."""
    from pymatgen.core import Structure

    cif = tmp_path / "4xq.cif"
    cif.write_text(LI_004_PEROVSKITE_CIF)
    held = Structure.from_file(cif).composition["Li"]
    assert held == pytest.approx(0.04)
    out = tmp_path / "out"
    assert main(["screen", str(cif), "--model", str(tiny_f64), "--spacing", "0.7",
                 "--order", "random", "--order-tol", "0.15", "-o", str(out)]) == 3
    (row,) = json.loads((out / "screen.json").read_text())
    assert row["status"] == "error"
    assert f"holds {held:g} Li on partially occupied sites" in row["error"]
    assert "random ordering of 4xq.cif" in row["error"] and "--order-tol" in row["error"]


def load_example():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "screen_vs_measured.py"
    spec = importlib.util.spec_from_file_location("screen_vs_measured", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_screen_vs_measured_against_hand_ranks(tmp_path, capsys):
    """Spearman by the rank formula 1 - 6 sum d^2 / (n (n^2 - 1)) and the good/poor AUC by
    counting pairs, on four rows; MPE empty (no path) ranks last."""
    ex = load_example()
    rows = [{"name": n, "status": "ok", "mpe_eV": m, "xi": x, "fv_connected_0.5eV": x,
             "fv_disconnected_0.5eV": x}
            for n, m, x in (("a", 0.2, 0.9), ("b", None, 0.1), ("c", 1.0, 0.5), ("d", 3.0, 0.2))]
    rows.append({"name": "e", "status": "error", "error": "x"})
    sigma = {"a": 1e-2, "b": 1e-4, "c": 1e-6, "d": 1e-8}
    lines = {line["descriptor"]: line for line in ex.report(rows[:4], sigma)}
    # MPE ranks 1, 4, 2, 3 against log10 sigma ranks 4, 3, 2, 1: sum d^2 = 14
    assert lines["MPE"]["rho"] == pytest.approx(1 - 6 * 14 / (4 * 15))
    # good a, b (> 5e-5) vs poor c, d (< 1e-5), by -MPE: a beats both, b (no path) neither
    assert lines["MPE"]["auc"] == pytest.approx(0.5)
    # Xi ranks 4, 1, 3, 2: sum d^2 = 0 + 4 + 1 + 1 = 6; AUC: a beats c, d; b beats neither
    assert lines["Xi"]["rho"] == pytest.approx(1 - 6 * 6 / (4 * 15))
    assert lines["Xi"]["auc"] == pytest.approx(0.5)
    (tmp_path / "screen.json").write_text(json.dumps(rows))
    (tmp_path / "m.csv").write_text("ID,Ionic conductivity (S cm-1)\n"
                                    + "".join(f"{k},{v}\n" for k, v in sigma.items())
                                    + "e,<1E-10\n")
    assert ex.main([str(tmp_path / "screen.json"), str(tmp_path / "m.csv")]) == 0
    out = capsys.readouterr().out
    assert "5 rows, 4 screened, 4 with a measured sigma" in out and "rho=-0.400" in out
    with pytest.raises(SystemExit, match="no column name"):
        ex.main([str(tmp_path / "screen.json"), str(tmp_path / "m.csv"), "--name-column", "name"])


def test_screen_vs_measured_says_none_for_an_empty_or_small_group(tmp_path, capsys):
    """A group with no rows (every row has a narrow-cell note), or too few for a rank
    correlation, printed 'rho=+nan p=nan AUC=nan'; it now says none, and why."""
    from scipy.stats import spearmanr

    ex = load_example()
    values = (("a", 0.2, 1e-2), ("b", 0.5, 1e-3), ("c", 0.9, 1e-4), ("d", 1.5, 1e-8))
    rows = [{"name": n, "status": "ok", "mpe_eV": m, "xi": m, "fv_connected_0.5eV": m,
             "fv_disconnected_0.5eV": m, "note": "narrow" if n != "d" else None}
            for n, m, _ in values]
    (tmp_path / "screen.json").write_text(json.dumps(rows))
    (tmp_path / "m.csv").write_text("ID,Ionic conductivity (S cm-1)\n"
                                    + "".join(f"{n},{s}\n" for n, _, s in values))
    assert ex.main([str(tmp_path / "screen.json"), str(tmp_path / "m.csv")]) == 0
    out = capsys.readouterr().out
    rho = spearmanr([m for _, m, _ in values], [s for *_, s in values]).statistic
    assert f"Spearman rho={rho:+.3f}" in out                     # all four rows
    assert "nan" not in out
    assert "MPE         n=  1  Spearman rho: none (1 row(s), at least 3 needed)" in out
    assert "AUC: none (0 good, 1 poor: needs both)" in out
    for row in rows:
        row["note"] = "narrow"
    (tmp_path / "screen.json").write_text(json.dumps(rows))
    assert ex.main([str(tmp_path / "screen.json"), str(tmp_path / "m.csv")]) == 0
    out = capsys.readouterr().out
    assert "-- cells >= 5 A wide (no note): none (every matched row has a narrow-cell note)" in out
    assert "nan" not in out
