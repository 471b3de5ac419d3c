"""An MD restarted into the file it wrote (ASE's ``append_trajectory=True``) is a new
dynamics: a logger writing its step (``atoms.info["step"] = dyn.nsteps``) counts from 0
again, while the restart's first frame repeats the last one before it. 03f4b0e split the
file at that repeat and took each piece's steps as written, so the restart (steps 0..40)
went back to step 0 and superseded every frame before it: half the run dropped, silently
(the file before 03f4b0e was refused: steps not evenly spaced). Now the restart's steps
are counted on from the repeated frame's, and the run says so. Reference: ASE's own frames
with the repeat left out, the steps those of one run (0..80 by 5)."""

from __future__ import annotations

import numpy as np
from ase import Atoms, units
from ase.calculators.lj import LennardJones
from ase.io import read, write
from ase.md.verlet import VelocityVerlet

from ionmd.analysis import read_ase_trajectory

L = 6.0


def _lj(atoms):
    atoms.calc = LennardJones(sigma=2.5, epsilon=0.01, rc=5.0, smooth=True)
    return atoms


def _appended_run(folder):
    """40 + 40 velocity-Verlet steps of 2 fs of a hot 8-atom LJ cell logged every 5 steps,
    the second dynamics appended to ``md.traj``; frames as ASE reads them back."""
    sites = (np.indices((2, 2, 2)).reshape(3, -1).T * 0.5 + 0.02) * L
    atoms = _lj(Atoms(["Li", "Cl"] * 4, positions=sites, cell=[L, L, L], pbc=True))
    atoms.set_velocities(np.random.default_rng(1).normal(0, 0.08, (8, 3)))
    for append in (False, True):
        with VelocityVerlet(atoms, 2 * units.fs, trajectory=str(folder / "md.traj"),
                            loginterval=5, append_trajectory=append) as dyn:
            dyn.run(40)
        atoms = _lj(atoms.copy())
    return read(folder / "md.traj", index=":")


def test_a_restart_counting_its_steps_from_zero_keeps_the_frames_before(tmp_path):
    frames = _appended_run(tmp_path)
    raw = np.array([a.get_positions() for a in frames])
    assert len(raw) == 18 and np.array_equal(raw[8], raw[9])        # the repeat ASE wrote
    for k, a in enumerate(frames):      # each dynamics' own nsteps: 0..40, then 0..40
        a.info["step"] = 5 * (k if k < 9 else k - 9)
    write(tmp_path / "steps.extxyz", frames, format="extxyz")
    traj = read_ase_trajectory(tmp_path / "steps.extxyz", timestep_fs=2)
    # old: 9 frames (steps 0..40, the restart's alone)
    np.testing.assert_array_equal(traj.steps, np.arange(17) * 5)
    np.testing.assert_allclose(traj.positions, np.delete(raw, 9, axis=0), atol=1e-6)


def test_the_run_says_the_restart_steps_were_counted_on(tmp_path):
    from ionmd.analysis.run_spec import load_run_spec

    frames = _appended_run(tmp_path)
    for k, a in enumerate(frames):
        a.info["step"] = 5 * (k if k < 9 else k - 9)
    run = tmp_path / "run"
    run.mkdir()
    write(run / "md.extxyz", frames, format="extxyz")
    spec = load_run_spec(run, overrides={"temperature_K": 800.0, "timestep_fs": 2.0})
    [note] = [n for n in spec.settings_notes if "counted on" in n]
    assert "frame 9" in note and "from 0" in note and "at step 40" in note, note
