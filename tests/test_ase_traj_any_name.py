"""ASE MD writes a ``.traj`` (ULM) file under whatever name it is given
(``Langevin(..., trajectory="md.xyz")``): ionmd took the format from the name and refused
the run ('cannot read md.xyz as extxyz with ASE (UnicodeDecodeError ...); cut off (a run
killed while writing ...)?'). The file's first bytes say what it is; it is now read as the
``.traj`` it is, its header's timing included. Reference: ASE's own reader of the file
and the dynamics' time step and logging interval."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms, units
from ase.calculators.lj import LennardJones
from ase.io import read
from ase.md.verlet import VelocityVerlet

from ionmd.analysis import read_ase_trajectory

L = 6.0


def test_an_ase_md_traj_named_xyz_is_read_as_traj(tmp_path):
    sites = (np.indices((2, 2, 2)).reshape(3, -1).T * 0.5 + 0.02) * L
    atoms = Atoms(["Li", "Cl"] * 4, positions=sites, cell=[L, L, L], pbc=True)
    atoms.calc = LennardJones(sigma=2.5, epsilon=0.01, rc=5.0, smooth=True)
    atoms.set_velocities(np.random.default_rng(0).normal(0, 0.08, (8, 3)))
    with VelocityVerlet(atoms, 2 * units.fs, trajectory=str(tmp_path / "md.xyz"),
                        loginterval=5) as dyn:
        dyn.run(50)
    raw = np.array([a.get_positions() for a in read(tmp_path / "md.xyz", index=":",
                                                    format="traj")])
    traj = read_ase_trajectory(tmp_path / "md.xyz")
    assert traj.timestep_fs == pytest.approx(2.0, rel=1e-9)
    np.testing.assert_array_equal(traj.steps, np.arange(len(raw)) * 5)
    np.testing.assert_allclose(traj.positions, raw, atol=1e-10)
