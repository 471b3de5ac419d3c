"""A run under ``fix deform`` resumed from its restart file with unwrapped output added
(``dump_modify unwrap yes`` on its DCD, ``xu yu zu`` in its dump): its first piece is
wrapped, its second LAMMPS-unwrapped, ``x + n H(t)``, to be wrapped back. A DCD does not
say which; judged as one trajectory, the first piece's atoms jumping at faces made the
whole read as wrapped and the second kept ``n dH`` (one atom 2.28 A off). Each piece is
now judged by its own frames; wrapped back, both agree with LAMMPS's own wrapping.

Reference: the wrapped ``x y z`` LAMMPS dumped in both runs (neighbour lists rebuilt at
every step, so every atom is wrapped when dumped), unwrapped here by numpy (minimum image
of each step in the later box)."""

from __future__ import annotations

import numpy as np
import pytest

from ionmd.analysis.trajectory import read_frames, read_lammps_trajectory
from lammps_cells import two_type_lj_cell
from lammps_runner import run_lmp
from test_dump_unwrapped_deforming_box import _boxes, _frames, min_image_path

TYPE_MAP = {1: "Li", 2: "Cl"}
REFERENCE_DUMP = "id type x y z\ndump_modify r sort id format float %.17g"

# cold (30 K), moved off the lattice sites first; the box stretches about its centre
# (where a DCD's frames are placed) and tilts; no atom goes a quarter cell out
FIRST = two_type_lj_cell("fcc 4.4") + f"""velocity all create 30 1
write_data s.data
timestep 0.002
neigh_modify every 1 delay 0 check no
fix 1 all nvt temp 30 30 0.1
run 20
fix 2 all deform 1 x scale 1.1 y scale 1.15 xy final 2.0 remap x units box
dump r all custom 10 r1.dump {REFERENCE_DUMP}
dump d all dcd 10 a.dcd
dump c all custom 10 a.dump id type x y z
dump_modify c sort id format float %.17g
run 200
write_restart md.restart
"""

SECOND = f"""read_restart md.restart
timestep 0.002
neigh_modify every 1 delay 0 check no
fix 1 all nvt temp 30 30 0.1
fix 2 all deform 1 x scale 1.1 y scale 1.15 xy final 3.0 remap x units box
dump r all custom 10 r2.dump {REFERENCE_DUMP}
dump d all dcd 10 b.dcd
dump_modify d unwrap yes
dump c all custom 10 b.dump id type xu yu zu
dump_modify c sort id format float %.17g
run 200
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("resumed_unwrapped")
    run_lmp(FIRST, workdir, env={"OMP_NUM_THREADS": "1"})
    run_lmp(SECOND, workdir, env={"OMP_NUM_THREADS": "1"})
    return workdir


@pytest.fixture(scope="module")
def reference(run):
    """Both runs' wrapped x y z (the second's repeated first frame dropped), unwrapped by
    the minimum image of each step in the later box."""
    first, second = _frames(run / "r1.dump"), _frames(run / "r2.dump")
    bounds = np.concatenate([first[0], second[0][1:]])
    x = np.concatenate([first[1], second[1][1:]])[:, :, 2:5]
    boxes, _ = _boxes(bounds)
    return min_image_path(x, boxes)


@pytest.mark.parametrize("pieces, precision", [(["a.dcd", "b.dcd"], 1e-4),
                                               (["a.dump", "b.dump"], 1e-9)])
def test_a_wrapped_then_unwrapped_run_gives_the_displacements_of_the_wrapped_dumps(
        run, reference, pieces, precision):
    traj = read_lammps_trajectory(run / "s.data", [run / p for p in pieces], timestep_fs=2.0,
                                  type_map=TYPE_MAP)
    assert len(traj.steps) == len(reference)
    moved, expected = traj.positions - traj.positions[0], reference - reference[0]
    assert np.abs(expected).max() > 1.0                   # the atoms moved
    assert np.abs(moved - expected).max() < precision     # DCD: float32
    # one piece wrapped, one unwrapped: not all frames may be taken as unwrapped
    frames, _, _ = read_frames(run / "s.data", [run / p for p in pieces], type_map=TYPE_MAP)
    assert frames.lammps_unwrapped and frames.wrapped_part
