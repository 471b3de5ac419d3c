"""The cell relaxation's verdict checks the forces. It said 'converged' on the stress and
the last round's volume change alone; where both minimisations of a round stop early (their
iteration caps, or 'linesearch alpha is zero', as SevenNet-0's cell minimisations stop) the
volume stays and the forces are whatever the atoms were left with: 256-atom fcc (Morse, at
its relaxed lattice) with one atom 0.1 A off its site and caps of one iteration was
'converged' after 2 rounds with 0.135 eV/A on an atom. The line now gives the largest force component
(LAMMPS's fmax) against the atoms' tolerance, and a run's status names the criteria missed.
The reference forces are ASE's Morse calculator on the cell LAMMPS ended with."""

from __future__ import annotations

import re

import numpy as np
import pytest
from ase.build import bulk
from ase.io import read

from lammps_runner import run_lmp
from protocol_setup import MORSE
from test_nvt_cell_relax import ase_morse

from ionmd.protocols import md_input
from ionmd.protocols.outcome import relaxation_verdict

LINE_RE = re.compile(r"^IONMD_RELAX (converged|NOT converged) after (\d+) round\(s\).*; max "
                     r"force component (\S+) eV/A \(tolerance (\S+)\);", re.M)
A_RELAXED = 3.667427       # the Morse fcc lattice at zero stress (cubic cell / 4 and back)


def relaxed_by_lammps(atoms, workdir):
    """The verdict line and the cell of ``md_input.cell_relaxation`` run on ``atoms`` with
    LAMMPS's own pair_style morse (the test model's parameters)."""
    from ase.io import write

    workdir.mkdir()
    write(workdir / "in.data", atoms, format="lammps-data", masses=True)
    lines = md_input.cell_relaxation("aniso", 0.0)
    proc = run_lmp("\n".join([
        "units metal", "atom_style atomic", "boundary p p p", "read_data in.data",
        f"pair_style morse {MORSE['rc']}",
        f"pair_coeff * * {MORSE['d0']} {MORSE['alpha']} {MORSE['r0']}",
        "pair_modify shift yes", *lines, "write_data out.data"]) + "\n", workdir)
    line = LINE_RE.search(proc.stdout)
    assert line, proc.stdout[-3000:]
    out = read(workdir / "out.data", format="lammps-data", atom_style="atomic")
    out.calc = ase_morse()
    return line, np.abs(out.get_forces()).max()


def displaced_fcc():
    atoms = bulk("Cu", "fcc", a=A_RELAXED, cubic=True) * (4, 4, 4)
    atoms.positions[0] += [0.1, 0.05, 0.0]
    return atoms


def test_minimisations_stopped_early_leave_forces_the_verdict_names(tmp_path, monkeypatch):
    """Two rounds of one iteration each (a third round would relax the atoms below 0.05)."""
    monkeypatch.setattr(md_input, "RELAX_ROUNDS", 2)
    monkeypatch.setattr(md_input, "RELAX_ATOMS_ITERATIONS", 1)
    monkeypatch.setattr(md_input, "RELAX_CELL_ITERATIONS", 1)
    line, fmax = relaxed_by_lammps(displaced_fcc(), tmp_path / "capped")
    assert fmax > 2 * md_input.RELAX_ATOMS_FMAX          # the atoms are not relaxed
    assert float(line.group(3)) == pytest.approx(fmax, rel=1e-3)
    assert line.group(1) == "NOT converged" and line.group(2) == "2"
    verdict = relaxation_verdict(line.group(0))
    assert verdict.startswith("NOT converged after 2 round(s)")
    assert f"not met: the forces ({line.group(3)} eV/A > 0.05)" in verdict


def test_a_relaxation_run_to_its_tolerances_converges(tmp_path):
    line, fmax = relaxed_by_lammps(displaced_fcc(), tmp_path / "full")
    assert line.group(1) == "converged"
    assert fmax <= md_input.RELAX_FMAX_TOL
    assert float(line.group(3)) == pytest.approx(fmax, rel=1e-3, abs=1e-6)


def test_verdicts_of_older_lines_name_what_they_measured():
    """Version 3's line (stress only) and version 4's before the forces."""
    v3 = ("IONMD_RELAX NOT converged after 10 minimisations: stress 512.3 bar from 0.0 bar "
          "(iso; tolerance 100 bar); vol 1 lx 1 ly 1 lz 1 xy 0 xz 0 yz 0")
    assert relaxation_verdict(v3).endswith("; not met: the stress (512.3 bar > 100)")
    v4 = ("IONMD_RELAX NOT converged after 3 round(s), 600 minimiser iterations: stress 12 bar "
          "from 1.01325 bar (tri; tolerance 100 bar); volume change in the last round 0.004 "
          "(tolerance 0.001); vol 1 lx 1 ly 1 lz 1 xy 0 xz 0 yz 0")
    assert relaxation_verdict(v4).endswith("; not met: the volume change (0.004 > 0.001)")
