"""`ionmd status` on an E-V scan that ran but failed the paper's single-well verdict says
so: a Morse fcc cell (r0 2.8 A) stretched so that even its most compressed point has
neighbours 3.1 A apart has its minimum beyond the scan's compressed end."""

from __future__ import annotations

import numpy as np
from ase.io import write

from ionmd.cli import main
from protocol_setup import MORSE, fcc_cell, morse_model


def test_status_names_a_failed_verdict(tmp_path, capsys):
    cell = fcc_cell(a=3.68 * 1.5)
    nearest = 3.68 * 1.5 / np.sqrt(2) * 0.8              # at the -20 % strain
    assert nearest > MORSE["r0"]                         # every point beyond the minimum
    write(tmp_path / "POSCAR", cell, format="vasp")
    code = main(["run", "ev-scan", str(tmp_path / "POSCAR"), "--model",
                 str(morse_model(tmp_path / "morse.pt")), "-o", str(tmp_path / "ev"),
                 "--set", "n_points=5"])
    assert code == 3
    capsys.readouterr()
    main(["status", str(tmp_path / "ev")])
    out = capsys.readouterr().out
    # the old table read "completed 0 <folder>" and nothing else
    assert "E-V verdict FAILED" in out and "beyond the compressed end" in out, out
