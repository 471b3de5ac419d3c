"""ASE MD restarted into the file it wrote (``append_trajectory=True``, the ASE way to go on
with a run) writes its starting state again: the file holds the last frame before the
restart twice. Read as one run, that copy put a zero step into every path and held the
clock one frame back from there on (a 3.0 ps run read as 3.01 ps), and an extended XYZ
whose frames give their ``step`` was refused (spacings 0 and 10). Now the file is split at
the repeat, as two files of a restart are joined, and the run says what the file cannot:
the appended dynamics' own logging interval. Reference: the same two dynamics written to
two files, and ASE's own frames with the repeat left out."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms, units
from ase.calculators.lj import LennardJones
from ase.io import read, write
from ase.md.verlet import VelocityVerlet

from ionmd.analysis import read_ase_trajectory

L = 6.0


@pytest.fixture(scope="module")
def restarted(tmp_path_factory):
    """40 + 40 velocity-Verlet steps of 2 fs of a hot 8-atom LJ cell logged every 5
    steps, the second dynamics appended to ``md.traj`` and, the same, written to
    ``b.traj`` after a copy of the first part (``a.traj``)."""
    folder = tmp_path_factory.mktemp("ase_restart")
    sites = (np.indices((2, 2, 2)).reshape(3, -1).T * 0.5 + 0.02) * L
    atoms = Atoms(["Li", "Cl"] * 4, positions=sites, cell=[L, L, L], pbc=True)
    atoms.calc = LennardJones(sigma=2.5, epsilon=0.01, rc=5.0, smooth=True)
    atoms.set_velocities(np.random.default_rng(0).normal(0, 0.08, (8, 3)))   # A / ASE time
    with VelocityVerlet(atoms, 2 * units.fs, trajectory=str(folder / "a.traj"),
                        loginterval=5) as dyn:
        dyn.run(40)
    (folder / "md.traj").write_bytes((folder / "a.traj").read_bytes())
    start = atoms.copy()
    for name, append in (("md.traj", True), ("b.traj", False)):
        again = start.copy()
        again.calc = LennardJones(sigma=2.5, epsilon=0.01, rc=5.0, smooth=True)
        with VelocityVerlet(again, 2 * units.fs, trajectory=str(folder / name), loginterval=5,
                            append_trajectory=append) as dyn:
            dyn.run(40)
    return folder


def test_the_repeated_frame_of_an_appended_restart_is_dropped(restarted):
    raw = np.array([a.get_positions() for a in read(restarted / "md.traj", index=":")])
    assert len(raw) == 9 + 9 and np.array_equal(raw[8], raw[9])     # ASE wrote it twice
    traj = read_ase_trajectory(restarted / "md.traj")
    np.testing.assert_array_equal(traj.steps, np.arange(17) * 5)           # 80 steps, 17 frames
    np.testing.assert_allclose(traj.positions, np.delete(raw, 9, axis=0), atol=1e-10)
    two = read_ase_trajectory([restarted / "a.traj", restarted / "b.traj"])
    np.testing.assert_allclose(traj.positions, two.positions, atol=1e-10)
    np.testing.assert_array_equal(traj.steps, two.steps)


def test_extended_xyz_with_steps_restarted_in_one_file(restarted):
    frames = read(restarted / "md.traj", index=":")
    for k, a in enumerate(frames):          # the step each dynamics' logger would write
        a.info["step"] = 5 * (k if k < 9 else k - 1)
    write(restarted / "steps.extxyz", frames, format="extxyz")
    traj = read_ase_trajectory(restarted / "steps.extxyz", timestep_fs=2)
    np.testing.assert_array_equal(traj.steps, np.arange(17) * 5)


def test_the_run_says_the_appended_interval_is_assumed(restarted, tmp_path):
    from ionmd.analysis.run_spec import load_run_spec

    run = tmp_path / "run"
    run.mkdir()
    (run / "md.traj").write_bytes((restarted / "md.traj").read_bytes())
    spec = load_run_spec(run, overrides={"temperature_K": 800.0})
    assert spec.dump_every == 5 and spec.timestep_fs == pytest.approx(2.0)
    [note] = [n for n in spec.settings_notes if "repeats the frame before" in n]
    assert "frame 9" in note and "5 steps of 2 fs apart" in note and "apart" in note
