"""``ionmd.analysis``'s docstring said ``ase_frames`` reads VASP and ASE trajectories into a
Trajectory, but from Python there was no such call: a notebook had to go through
``load_run_spec`` and two internal functions, or build a Trajectory itself (and convert
ASE's time unit, 1 fs = 0.098 ASE units, by hand). ``read_ase_trajectory`` now does it with
the analysis's own reading, timing and unwrapping. Checked against an ASE MD run itself:
its never-wrapped positions, its time step and logging interval; the same frames as an
XDATCAR (written wrapped into the cell) unwrap to the same paths."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms, units
from ase.calculators.lj import LennardJones
from ase.io import read, write
from ase.md.verlet import VelocityVerlet

from ionmd.analysis import read_ase_trajectory
from ionmd.errors import AnalysisError

L = 6.0


@pytest.fixture(scope="module")
def md(tmp_path_factory):
    """100 velocity-Verlet steps of 2 fs of a hot 8-atom LJ cell, logged every 5 steps;
    atoms start near the faces so that some cross them."""
    folder = tmp_path_factory.mktemp("ase_md")
    sites = (np.indices((2, 2, 2)).reshape(3, -1).T * 0.5 + 0.02) * L
    atoms = Atoms(["Li", "Cl"] * 4, positions=sites, cell=[L, L, L], pbc=True)
    atoms.calc = LennardJones(sigma=2.5, epsilon=0.01, rc=5.0, smooth=True)
    atoms.set_velocities(np.random.default_rng(0).normal(0, 0.08, (8, 3)))   # A / ASE time
    VelocityVerlet(atoms, 2 * units.fs, trajectory=str(folder / "md.traj"),
                   loginterval=5).run(100)
    return folder


def test_an_ase_md_traj_is_read_with_its_own_timing_and_positions(md):
    raw = np.array([a.get_positions() for a in read(md / "md.traj", index=":")])
    assert ((raw < 0) | (raw >= L)).any()          # some atom left the cell: ASE never wraps
    traj = read_ase_trajectory(md / "md.traj")
    assert traj.timestep_fs == pytest.approx(2.0, rel=1e-9)     # fs, not ASE units (0.196)
    assert traj.frame_interval_ps == pytest.approx(0.010, rel=1e-9)
    np.testing.assert_array_equal(traj.steps, np.arange(len(raw)) * 5)
    np.testing.assert_allclose(traj.positions, raw, atol=1e-10)
    assert traj.elements.tolist() == ["Li", "Cl"] * 4


def test_an_xdatcar_of_the_same_frames_unwraps_to_the_same_paths(md):
    frames = read(md / "md.traj", index=":")
    write(md / "XDATCAR", frames, format="vasp-xdatcar")
    with pytest.raises(AnalysisError, match=r"does not say timestep_fs, dump_every.*timestep_fs, "
                                            r"dump_every of read_ase_trajectory"):
        read_ase_trajectory(md / "XDATCAR")
    traj = read_ase_trajectory(md / "XDATCAR", timestep_fs=2.0, dump_every=5)
    raw = np.array([a.get_positions() for a in frames])
    np.testing.assert_allclose(traj.positions - traj.positions[0], raw - raw[0], atol=1e-6)
    assert traj.frame_interval_ps == pytest.approx(0.010, rel=1e-9)


def test_what_the_files_contradict_or_cannot_be_is_refused(md, tmp_path):
    with pytest.raises(AnalysisError, match=r"says timestep_fs = 2 but 1 was given"):
        read_ase_trajectory(md / "md.traj", timestep_fs=1.0)
    dump = tmp_path / "md.dump"
    dump.write_text("ITEM: TIMESTEP\n0\n")
    with pytest.raises(AnalysisError, match=r"not a format read through ASE.*"
                                            r"read_lammps_trajectory"):
        read_ase_trajectory(dump)
