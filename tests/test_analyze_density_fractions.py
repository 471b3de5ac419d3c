"""`ionmd analyze --structure-functions` bins the density by the files' own wrapped
fractional coordinates (commit e956745 keeps them in Trajectory.fractions; the density
reads them where present), but analyze built its trajectory without them, so the density
CUBE file was binned by drift-removed positions over each frame's cell: in a hot NpT
liquid a third of the counts fell in other voxels than LAMMPS's own `xs ys zs` put them.
Reference: a histogram of LAMMPS's `dump ... xs ys zs` of the same run."""

from __future__ import annotations

import numpy as np
from ase.io.cube import read_cube_data

from ionmd.cli import main
from lammps_runner import run_lmp
from test_dump_structure_functions import NPT_LIQUID

DISCARD_STEPS = 100     # 0.1 ps at 1 fs


def test_density_cube_is_lammps_wrapped_positions(tmp_path):
    run_lmp(NPT_LIQUID.replace("velocity all create", "timestep 0.001\nvelocity all create"),
            tmp_path, env={"OMP_NUM_THREADS": "1"})
    assert main(["analyze", str(tmp_path), "--trajectory", str(tmp_path / "x.dump"),
                 "--mobile", "Li", "--structure-functions", "--discard-ps", "0.1",
                 "--fit-start-ps", "0.05", "--window-ps", "0.2", "--melt-fraction", "1000",
                 "--runaway-factor", "1000", "--volume-limit", "10"]) in (0, None)
    got, _ = read_cube_data(str(tmp_path / "analysis" / "density_Li.cube"))
    n = got.shape[0]
    # LAMMPS's own fractional coordinates of Li (type 1) in frames after the discard
    text = (tmp_path / "s.dump").read_text().split("ITEM: TIMESTEP\n")[1:]
    types = {int(r.split()[0]): int(r.split()[1]) for r in (tmp_path / "x.dump").read_text()
             .split("ITEM: ATOMS id type x y z\n")[1].splitlines()
             if len(r.split()) == 5}
    frac = []
    for frame in text:
        lines = frame.splitlines()
        if int(lines[0]) < DISCARD_STEPS:
            continue
        rows = [ln.split() for ln in lines[lines.index("ITEM: ATOMS id xs ys zs") + 1:]]
        frac += [[float(x) for x in r[1:]] for r in rows if types[int(r[0])] == 1]
    expected = np.histogramdd((np.array(frac) % 1.0 + 0.5 / n) % 1.0, bins=(n,) * 3,
                              range=[(0, 1)] * 3)[0]
    moved = 0.5 * np.abs(got / got.sum() - expected / expected.sum()).sum()
    assert moved < 0.02, moved
