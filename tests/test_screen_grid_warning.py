"""A grid step above 0.5 A gave MPE and Xi without a word, though a coarse grid steps past
saddles (SevenNet-0, 1.0 vs 0.25 A: LiCl MPE 1.69 vs 0.50 eV, Li3N 1.30 vs 1.82 eV;
docs/screen.md, "Grid spacing"). The screen and its dry run now warn before any work, and
the campaign of such a screen carries the caution."""

from __future__ import annotations

from ase.build import bulk
from ase.io import write
from ionmd.cli import main

COARSE = 0.5      # docs/screen.md: the step above which the screen warns


def test_a_coarse_grid_is_warned_about(tiny_f64, tmp_path, capsys):
    licl = tmp_path / "LiCl.cif"
    write(licl, bulk("LiCl", "rocksalt", a=5.14))
    base = ["screen", str(licl), "--model", str(tiny_f64)]
    coarse = f"{COARSE + 0.2:g}"
    assert main([*base, "--spacing", coarse, "--dry-run", "-o", str(tmp_path / "d")]) == 0
    assert f"--spacing {coarse} A is coarser than 0.5 A" in capsys.readouterr().err
    assert main([*base, "--spacing", coarse, "--top", "1", "-o", str(tmp_path / "c")]) == 0
    assert "grid steps past saddles" in capsys.readouterr().err
    assert "# CAUTION: --spacing" in (tmp_path / "c" / "campaign.yaml").read_text()

    assert main([*base, "--spacing", f"{COARSE:g}", "--top", "1",
                 "-o", str(tmp_path / "f")]) == 0
    assert "coarser than" not in capsys.readouterr().err
    assert "CAUTION" not in (tmp_path / "f" / "campaign.yaml").read_text()
