"""``import ionmd.protocols`` (every ``ionmd`` command, ``--help`` included, and a
notebook's ``from ionmd.protocols import get_protocol``) imported pymatgen.core through
protocols.checks -> setting_ranges -> structures.supercell's module-level import: ~0.1 s
CPU and 108 modules of ``ionmd --help``. The supercell builders import it where they run;
that they still build pymatgen's supercell is checked against ``Structure.make_supercell``."""

from __future__ import annotations

import subprocess
import sys

import numpy as np


def test_importing_protocols_and_the_cli_leaves_pymatgen_unimported():
    code = ("import sys, ionmd.protocols, ionmd.cli, ionmd.structures.supercell; "
            "print([m for m in sys.modules if m.startswith('pymatgen')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]", out


def test_make_supercell_still_builds_pymatgens_supercell():
    from pymatgen.core import Lattice, Structure

    from ionmd.structures.supercell import make_supercell

    s = Structure(Lattice.from_parameters(4.0, 5.0, 6.0, 80, 95, 100), ["Li", "Cl"],
                  [[0.1, 0.2, 0.3], [0.6, 0.7, 0.8]])
    ours = make_supercell(s, "2x1x3")
    ref = s.make_supercell([2, 1, 3], in_place=False)
    assert [str(x.specie) for x in ours] == [str(x.specie) for x in ref]
    np.testing.assert_allclose(ours.lattice.matrix, ref.lattice.matrix, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.frac_coords, ref.frac_coords, rtol=0, atol=1e-12)
