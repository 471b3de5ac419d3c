"""ASE trajectories of a run resumed from an earlier checkpoint (each frame's ``step`` in
its info): the second file goes back to step 50 of the first, which had gone on to 70.
Frames and the kinetic temperature the failure checks read (no LAMMPS log: from the
frames' momenta) are of the same steps: the second file's from 60 on. The temperatures
kept the abandoned frames 60-70 (the rule 'after every step before') while the frames
were the resumed ones. Reference: ASE's own ``get_temperature`` of each file's frames."""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.build import bulk
from ase.io import read, write


def _frames(rng, steps, start: Atoms | None = None) -> list[Atoms]:
    out = []
    base = bulk("NaCl", "rocksalt", a=5.64, cubic=True) * (2, 2, 2)
    for k, step in enumerate(steps):
        a = start.copy() if (start is not None and k == 0) else base.copy()
        if not (start is not None and k == 0):
            a.positions += rng.normal(0, 0.1, a.positions.shape)
            a.set_momenta(rng.normal(0, 1 + step / 50, a.positions.shape))
        a.info["step"] = int(step)
        out.append(a)
    return out


def test_temperatures_are_of_the_frames_kept(tmp_path):
    from ionmd.analysis.ase_frames import kinetic_thermo, read_ase_frames

    rng = np.random.default_rng(3)
    one = _frames(rng, range(0, 80, 10))
    two = _frames(rng, range(50, 110, 10), start=one[5])          # resumed at step 50
    files = [tmp_path / "a.extxyz", tmp_path / "b.extxyz"]
    for images, f in zip((one, two), files):
        write(f, images, format="extxyz")
    back = [read(f, index=":", format="extxyz") for f in files]  # as written
    want_T = [a.get_temperature() for a in back[0][:6]] + [a.get_temperature() for a in back[1][1:]]
    assert abs(back[0][6].get_temperature() - back[1][1].get_temperature()) > 10   # abandoned

    thermo = kinetic_thermo(files, "extxyz", 10)
    assert thermo["Step"].tolist() == list(range(0, 110, 10))
    np.testing.assert_allclose(thermo["Temp"], want_T, rtol=1e-9)
    frames, _, _ = read_ase_frames(files, "extxyz", 10)
    assert frames.steps.tolist() == thermo["Step"].tolist()
    np.testing.assert_allclose(frames.positions[6], back[1][1].positions, atol=1e-9)
