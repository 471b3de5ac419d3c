"""LAMMPS's unwrapped coordinates (``xu yu zu``, or ``x y z`` plus ``ix iy iz``) under a
deforming box are ``x + n H(t)``: an atom with image ``n != 0`` carries a spurious ``n dH``
unless the positions are wrapped back into each frame's box. A dump says by its columns
that it holds them; before, they were wrapped only where some atom lay more than a quarter
cell outside the box, so a cold solid under ``fix deform`` (atoms across a face by less)
kept ``n dH``: one atom 4.2 A off, MSD 4.7 % too large.

Reference: the wrapped ``x y z`` LAMMPS dumped in the same run (neighbour lists rebuilt at
every step, so LAMMPS has wrapped every atom when it dumps), unwrapped here by numpy
(minimum image of each step in the later box)."""

from __future__ import annotations

import numpy as np
import pytest

from ionmd.analysis.trajectory import read_frames, read_lammps_trajectory
from lammps_cells import two_type_lj_cell
from lammps_runner import run_lmp

N_ATOMS = 108
TYPE_MAP = {1: "Li", 2: "Cl"}

# cold (30 K): atoms vibrate about their sites, those on a face crossing it, none a
# quarter cell out; the box stretches 14 % along x, 20 % along y and tilts
RUN = two_type_lj_cell("fcc 4.4") + """velocity all create 30 1
write_data s.data
timestep 0.002
neigh_modify every 1 delay 0 check no
fix 1 all nvt temp 30 30 0.1
fix 2 all deform 1 x final -1.5 16.0 y scale 1.2 xy final 2.5 remap x units box
dump u all custom 10 u.dump id type xu yu zu
dump_modify u sort id format float %.17g
dump i all custom 10 i.dump id type x y z ix iy iz
dump_modify i sort id format float %.17g
dump s all custom 10 s.dump id type xsu ysu zsu
dump_modify s sort id format float %.17g
run 400
"""


def _frames(path):
    """Header numbers and atom columns of every frame: (T, 3, 3) bounds, (T, N, k) columns."""
    frames = path.read_text().split("ITEM: TIMESTEP\n")[1:]
    bounds = [[ln.split() for ln in f.splitlines()[4:7]] for f in frames]
    rows = [[ln.split() for ln in f.splitlines()[8:8 + N_ATOMS]] for f in frames]
    return np.array(bounds, dtype=np.float64), np.array(rows, dtype=np.float64)


def _boxes(bounds):
    """Cell vectors (rows) and origins of LAMMPS's restricted triclinic boxes from BOX
    BOUNDS xy xz yz, the bounds of the tilted cell's bounding box (LAMMPS's Howto
    triclinic)."""
    xy, xz, yz = bounds[:, 0, 2], bounds[:, 1, 2], bounds[:, 2, 2]
    tilts_x = np.stack([np.zeros_like(xy), xy, xz, xy + xz])
    xlo = bounds[:, 0, 0] - tilts_x.min(axis=0)
    xhi = bounds[:, 0, 1] - tilts_x.max(axis=0)
    ylo = bounds[:, 1, 0] - np.minimum(0.0, yz)
    yhi = bounds[:, 1, 1] - np.maximum(0.0, yz)
    boxes = np.zeros((len(bounds), 3, 3))
    boxes[:, 0, 0] = xhi - xlo
    boxes[:, 1, :2] = np.stack([xy, yhi - ylo], axis=1)
    boxes[:, 2] = np.stack([xz, yz, bounds[:, 2, 1] - bounds[:, 2, 0]], axis=1)
    return boxes, np.stack([xlo, ylo, bounds[:, 2, 0]], axis=1)


def min_image_path(x, boxes):
    """Continuous paths from wrapped positions ``x`` (frames, atoms, 3): each step between
    frames taken as its minimum image in the later box ``boxes[1:]``."""
    step = np.diff(x, axis=0)
    frac = np.einsum("tnk,tkl->tnl", step, np.linalg.inv(boxes[1:]))
    step -= np.einsum("tnk,tkl->tnl", np.round(frac), boxes[1:])
    return np.concatenate([x[:1], x[:1] + np.cumsum(step, axis=0)])


def _msd(positions):
    return ((positions - positions[0]) ** 2).sum(axis=-1).mean(axis=-1)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("deform_unwrapped")
    run_lmp(RUN, workdir, env={"OMP_NUM_THREADS": "1"})
    return workdir


@pytest.fixture(scope="module")
def reference(run):
    """MSD of the wrapped x y z, unwrapped by the minimum image of each step in the later box."""
    bounds, cols = _frames(run / "i.dump")
    boxes, lo = _boxes(bounds)
    x, images = cols[:, :, 2:5], cols[:, :, 5:8]
    positions = min_image_path(x, boxes)
    return {"msd": _msd(positions), "images": images, "x": x, "boxes": boxes, "lo": lo}


def test_the_run_is_the_case_a_quarter_cell_margin_missed(reference):
    """Atoms with an image other than 0, none a quarter cell outside the box; the box
    changes (else n dH is 0)."""
    frac = np.einsum("tnk,tkl->tnl", reference["x"] + reference["images"] @ reference["boxes"]
                     - reference["lo"][:, None, :], np.linalg.inv(reference["boxes"]))
    assert np.any(reference["images"] != 0)
    assert -0.25 < frac.min() and frac.max() < 1.25
    assert np.ptp(reference["boxes"][:, 0, 0]) > 1.0


@pytest.mark.parametrize("dump", ["u.dump", "s.dump", "i.dump"])
def test_unwrapped_columns_give_the_msd_of_the_wrapped_ones(run, reference, dump):
    """xu yu zu and xsu ysu zsu as the wrapped x y z (i.dump read plainly: its x y z)."""
    traj = read_lammps_trajectory(run / "s.data", [run / dump], timestep_fs=2.0,
                                  type_map=TYPE_MAP)
    _assert_reference_msd(_msd(traj.positions), reference)


def test_image_flags_added_give_the_msd_of_the_wrapped_coordinates(run, reference):
    """x y z plus ix iy iz (the dump read as unwrapped) are wrapped back as well."""
    piece, _, _ = read_frames(run / "s.data", [run / "i.dump"], type_map=TYPE_MAP,
                              unwrapped=True)
    _assert_reference_msd(_msd(piece.unwrapped()), reference)


def _assert_reference_msd(msd, reference):
    assert np.allclose(msd, reference["msd"], rtol=1e-9, atol=1e-12), \
        np.abs(msd - reference["msd"]).max()
    assert msd[-1] > 1e-3          # the atoms moved: a comparison that can fail
