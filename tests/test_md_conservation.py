"""Energy conservation in MD with SevenNet-0 (float32) through pair_style ionmd.

NVE, 1 fs, 0.5 ps from 300 K on an 8-atom LiCl cell (smaller than the cutoff, so the
graph is built from many periodic images): the total energy must stay within 1e-3 eV
(1.25e-4 eV/atom) of its start, with no trend (fitted slope <= 2e-4 eV/ps). The same run
with the force sign flipped (fix addforce adding -2 F) must break the bound, which shows
the bound can see a sign error.

A force that is not the energy's gradient shows as a trend (dE/dt = sum dF.v); the slope
bound is what sees a small one, and its noise is what the run's length buys. Measured on
one 2000-step trajectory (thermo every 10 fs), its first 500 / 1000 / 2000 steps: max
|dE| 9.2e-5 / 9.2e-5 / 9.3e-5 eV, slope 1.1e-5 / 2.7e-6 / 1.2e-7 eV/ps, PE range 0.225 eV
in each (reached in 200 steps): at 500 steps the noise is still 18 x below the bound,
and an anti-damping force of ~3e-4 eV/ps (fix addforce 1.1e-6 * v) fails it (slope
2.7e-4 eV/ps) while its max |dE| (2.1e-4 eV) stays inside 1e-3, as it would in 2 ps
(~6e-4): 2000 steps (127 s CPU here) add no reach for a trend to these 500 (35 s), nor
a crossing of the 5 A cutoff (none in 2 ps: pairs stay <= 4.93 A, the atoms' own images
at 5.14 A; dumped every 10 fs).
The 8 atoms stay: the cost is SevenNet-0's fixed cost per call (~60 ms CPU), not the
atoms, and the 2-atom primitive cell moves along one coordinate only (momentum zero),
too few paths to test a force field; float64 costs more per step and is not what MD runs
use. A force error that is its own energy's gradient (forces scaled by 1 + 1e-3:
dE_total = -1e-3 dPE, ~2e-4 eV) is out of any NVE run's reach; test_pair_vs_sevennet
compares forces directly. One OpenMP thread (run_lmp's default): 2 threads on a busy
2-core host spin at every barrier (100 steps: 4.8 s CPU with 1 thread, > 97 s with 2).

The virial's use in dynamics is tested in test_pair_assembly.py (NPH trajectories
against LAMMPS's own pair style): fix nph's `econserve` drifts by ~0.1 eV in 0.5 ps even
for LAMMPS's built-in morse here, so it is no tight invariant to test against."""

import numpy as np
import pytest
from ase.build import bulk

from lammps_runner import run_lmp, thermo_table, write_data

pytestmark = pytest.mark.slow


def licl8(tmp_path):
    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True)
    atoms.rattle(0.02, seed=1)
    write_data(atoms, tmp_path / "struct.data", ["Cl", "Li"])


NVE_INPUT = """
units metal
atom_style atomic
read_data struct.data
pair_style ionmd {model}
pair_coeff * * Cl Li
velocity all create 300 4928459 mom yes rot no dist gaussian
timestep 0.001
{flip}
fix 1 all nve
thermo_style custom step temp pe etotal
thermo_modify format float %.10g
thermo 10
run {steps}
"""
FLIP = """variable fx2 atom -2*fx
variable fy2 atom -2*fy
variable fz2 atom -2*fz
fix flip all addforce v_fx2 v_fy2 v_fz2"""


def test_nve_bound_sees_a_force_sign_error(sevennet0_f32, tmp_path):
    licl8(tmp_path)
    proc = run_lmp(NVE_INPUT.format(model=sevennet0_f32, flip=FLIP, steps=40), tmp_path)
    etot = thermo_table(proc.stdout, 4)[:, 3]
    assert len(etot) == 5
    print(f"NVE with flipped forces, 40 fs: max |dE_total| = {np.abs(etot - etot[0]).max():.2e} eV")
    assert np.abs(etot - etot[0]).max() > 1e-2


def test_nve_total_energy_is_conserved(sevennet0_f32, tmp_path):
    licl8(tmp_path)
    proc = run_lmp(NVE_INPUT.format(model=sevennet0_f32, flip="", steps=500), tmp_path)
    table = thermo_table(proc.stdout, 4)
    assert len(table) == 51, "thermo output not parsed"
    temp, pe, etot = table[:, 1], table[:, 2], table[:, 3]
    drift = np.abs(etot - etot[0]).max()
    slope = np.polyfit(table[:, 0] * 1e-3, etot, 1)[0]   # eV/ps
    print(f"NVE 0.5 ps: max |dE_total| = {drift:.2e} eV, slope {slope:.2e} eV/ps, "
          f"PE range {np.ptp(pe):.3f} eV, T mean {temp.mean():.0f} K")
    assert np.ptp(pe) > 0.05, "atoms barely moved: the test would not see a force error"
    assert drift <= 1e-3
    assert abs(slope) <= 2e-4
