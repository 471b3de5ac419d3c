"""A DCD written with ``dump_modify unwrap yes`` holds LAMMPS's unwrapped ``x + n H(t)``
and says nothing of it. Under a changing box its frames are to be wrapped back (else an
atom with image ``n != 0`` carries a spurious ``n dH``); before, they were only where some
atom lay more than a quarter cell outside the box, so a cold solid under ``fix deform``
(atoms across a face by less) kept ``n dH``: one atom 2.05 A off, MSD 8.6 % too large.
Now a DCD in which no atom jumps by half a cell between frames (LAMMPS's wrapped atoms
do, at each face they cross) is taken as unwrapped; the wrapped DCD of the same run still
jumps, and stays on the exact minimum-image path. That jump is now all that is judged: a
wrapped DCD under a ``fix deform`` that moved the box centre (its frames placed about the
data file's, its atoms a quarter cell out of that box) was taken as unwrapped and wrapped
into a box off LAMMPS's: one atom 0.70 A off, MSD 4.5 % low.

Reference: the wrapped ``x y z`` LAMMPS dumped in the same run (neighbour lists rebuilt at
every step, so every atom is wrapped when dumped), unwrapped here by numpy (minimum image
of each step in the later box)."""

from __future__ import annotations

import numpy as np
import pytest

from ionmd.analysis.trajectory import read_frames, read_lammps_trajectory
from ionmd.analysis.unwrapping import looks_unwrapped, wraps_at_faces
from lammps_cells import two_type_lj_cell
from lammps_runner import run_lmp
from test_dump_unwrapped_deforming_box import _boxes, _frames, _msd, min_image_path

TYPE_MAP = {1: "Li", 2: "Cl"}

# cold (30 K), moved off the lattice sites first (an atom exactly on a face is on either
# side of it in float32); then the box stretches about its centre (where a DCD's frames
# are placed, its origin not stored), 14 % along x, 20 % along y, and tilts
RUN = two_type_lj_cell("fcc 4.4") + """velocity all create 30 1
write_data s.data
timestep 0.002
neigh_modify every 1 delay 0 check no
fix 1 all nvt temp 30 30 0.1
run 20
fix 2 all deform 1 x scale 1.14 y scale 1.2 xy final 2.5 remap x units box
dump u all dcd 10 u.dcd
dump_modify u unwrap yes
dump w all dcd 10 w.dcd
dump i all custom 10 i.dump id type x y z ix iy iz
dump_modify i sort id format float %.17g
run 400
"""


# hot (300 K, tilted cell, x from 0 to 13.2 A): x goes to -5 ... 9, its centre 4.6 A down
MOVING_CENTRE_RUN = two_type_lj_cell("fcc 4.4") + """
velocity all create 300 1
write_data s.data
timestep 0.002
fix 1 all nvt temp 300 300 0.1
fix 2 all deform 1 x final -5.0 9.0 remap x units box
dump d all dcd 10 w.dcd
dump i all custom 10 i.dump id type x y z
dump_modify i sort id format float %.17g
run 400
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("deform_unwrapped_dcd")
    run_lmp(RUN, workdir, env={"OMP_NUM_THREADS": "1"})
    return workdir


@pytest.fixture(scope="module")
def reference(run):
    """The wrapped x y z unwrapped by the minimum image of each step in the later box."""
    bounds, cols = _frames(run / "i.dump")
    boxes, _ = _boxes(bounds)
    x, images = cols[:, :, 2:5], cols[:, :, 5:8]
    positions = min_image_path(x, boxes)
    return {"positions": positions, "images": images, "boxes": boxes}


def _frames_of(run, name):
    piece, _, _ = read_frames(run / "s.data", [run / name], type_map=TYPE_MAP)
    return piece


def test_the_run_is_the_case_a_quarter_cell_margin_missed(run, reference):
    """Atoms with an image other than 0, none a quarter cell outside the box in the
    unwrapped DCD; the box changes (else n dH is 0)."""
    piece = _frames_of(run, "u.dcd")
    assert np.any(reference["images"] != 0)
    assert not looks_unwrapped(piece.positions, piece.boxes, piece.origins)
    assert np.ptp(reference["boxes"][:, 0, 0]) > 1.0


def test_an_unwrapped_dcd_does_not_jump_a_wrapped_one_does(run):
    for name, jumps in (("u.dcd", False), ("w.dcd", True)):
        piece = _frames_of(run, name)
        assert wraps_at_faces(piece.positions, piece.boxes) is jumps, name


@pytest.mark.parametrize("dcd", ["u.dcd", "w.dcd"])
def test_unwrapped_and_wrapped_dcds_give_the_displacements_of_the_wrapped_dump(
        run, reference, dcd):
    traj = read_lammps_trajectory(run / "s.data", [run / dcd], timestep_fs=2.0,
                                  type_map=TYPE_MAP)
    moved = traj.positions - traj.positions[0]
    expected = reference["positions"] - reference["positions"][0]
    assert np.abs(moved - expected).max() < 1e-4          # float32: ~2e-6 A
    msd, ref_msd = _msd(traj.positions), _msd(reference["positions"])
    assert ref_msd[-1] > 1.0                              # the atoms moved
    assert np.allclose(msd, ref_msd, rtol=1e-5, atol=1e-9)


@pytest.fixture(scope="module")
def moving_centre_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("deform_moving_centre_dcd")
    run_lmp(MOVING_CENTRE_RUN, workdir, env={"OMP_NUM_THREADS": "1"})
    return workdir


def test_a_wrapped_dcd_whose_box_centre_moved_stays_wrapped(moving_centre_run):
    run = moving_centre_run
    bounds, cols = _frames(run / "i.dump")
    boxes, lo = _boxes(bounds)
    piece = _frames_of(run, "w.dcd")
    # the case: the DCD's frames placed up to 4.6 A off LAMMPS's box, where a quarter cell
    # margin takes them for unwrapped
    assert np.abs(piece.origins - lo).max() > 2.0
    assert looks_unwrapped(piece.positions, piece.boxes, piece.origins)
    x = cols[:, :, 2:5]
    step = np.diff(x, axis=0)
    step -= np.einsum("tnk,tkl->tnl",
                      np.round(np.einsum("tnk,tkl->tnl", step, np.linalg.inv(boxes[1:]))),
                      boxes[1:])
    expected = np.concatenate([np.zeros_like(x[:1]), np.cumsum(step, axis=0)])
    traj = read_lammps_trajectory(run / "s.data", [run / "w.dcd"], timestep_fs=2.0,
                                  type_map=TYPE_MAP)
    assert np.abs(expected).max() > 1.0                   # the atoms moved
    assert np.abs((traj.positions - traj.positions[0]) - expected).max() < 1e-4
