"""Hop counts against hops made on purpose: by hand (straight jumps, a jump back, a
double-length jump, rattles) and in a real LAMMPS run whose ions are moved by ``fix move``
across the faces of a tilted box, read back from the wrapped dump as users write it."""

import numpy as np
import pytest

from ionmd.analysis.hops import count_hops
from ionmd.analysis.trajectory import read_lammps_trajectory

A = 2.5   # site spacing, A


def _path(jumps, n_frames=300, rattle=0.0, seed=0):
    """One ion along x: ``jumps`` as (frame, dx), plus Gaussian rattling."""
    x = np.zeros(n_frames)
    for frame, dx in jumps:
        x[frame:] += dx
    positions = np.zeros((n_frames, 1, 3))
    positions[:, 0, 0] = x
    return positions + rattle * np.random.default_rng(seed).standard_normal(positions.shape)


@pytest.mark.parametrize("jumps, hops", [
    ([(100, A)], 1),
    ([(100, A), (200, -A)], 2),                    # there and back
    ([(60, A), (120, A), (180, A), (240, A)], 4),  # a walk
    ([(100, 2 * A)], 1),                           # two sites at once: one hop
    ([(100, 0.4 * A), (150, -0.4 * A)], 0),        # an excursion short of hop_length
])
@pytest.mark.parametrize("window", [1, 5, 20])
def test_hand_made_hops_are_counted(jumps, hops, window):
    assert count_hops(_path(jumps, rattle=0.15), 1.5, window).tolist() == [hops]


def test_rattling_counts_only_once_smoothed():
    """0.5 A rattling crosses 1.5 A now and then: raw counts, a 20-frame mean does not."""
    rattle = _path([(150, A)], n_frames=3000, rattle=0.5, seed=3)
    assert count_hops(rattle, 1.5, 1)[0] > 1
    assert count_hops(rattle, 1.5, 20).tolist() == [1]


HOPS_IN = """units metal
atom_style atomic
boundary p p p
region b prism 0 10 0 10 0 10 2.0 1.0 0.5
create_box 2 b
create_atoms 1 single 9.0 2.0 2.0
create_atoms 1 single 4.0 8.5 5.0
create_atoms 1 single 5.0 5.0 5.0
create_atoms 1 single 3.0 9.0 8.0
create_atoms 2 single 7.0 7.0 8.0
mass 1 6.94
mass 2 35.45
pair_style zero 3.0
pair_coeff * *
group li1 id 1
group li2 id 2
group li3 id 3
group li4 id 4
variable x1 equal 2.5*(time>=0.1)-2.5*(time>=0.3)
variable y2 equal 2.5*((time>=0.1)+(time>=0.2)+(time>=0.3))
variable x3 equal 0.6*sin(2*PI*time/0.02)
variable x4 equal 1.8*(time>=0.25)+0.3*sin(2*PI*time/0.03)
variable y4 equal 1.8*(time>=0.25)
fix m1 li1 move variable v_x1 NULL NULL NULL NULL NULL
fix m2 li2 move variable NULL v_y2 NULL NULL NULL NULL
fix m3 li3 move variable v_x3 NULL NULL NULL NULL NULL
fix m4 li4 move variable v_x4 v_y4 NULL NULL NULL NULL
write_data s.data
dump d all custom 5 md.dump id type x y z
timestep 0.001
run 500
"""


def test_hops_of_a_real_lammps_run_across_tilted_faces(tmp_path):
    """Li 1: +2.5 A across the x face at 0.1 ps and back at 0.3 ps (2 hops); Li 2: three
    2.5 A hops along y, the first across the y face (3); Li 3: a 0.6 A rattle (0); Li 4:
    one (1.8, 1.8, 0) A hop across the tilted y face, rattling 0.3 A along x (1)."""
    from lammps_runner import run_lmp

    run_lmp(HOPS_IN, tmp_path)
    traj = read_lammps_trajectory(tmp_path / "s.data", [tmp_path / "md.dump"], timestep_fs=1.0)
    assert traj.n_frames == 101
    # the dump is wrapped: Li 1, 2 and 4 cross a face (a jump of about a box width as written)
    rows = [line.split() for line in (tmp_path / "md.dump").read_text().splitlines()]
    atoms = np.array([r for r in rows if len(r) == 5], dtype=float)
    for ion in (1, 2, 4):
        written = atoms[atoms[:, 0] == ion, 2:]
        assert np.linalg.norm(np.diff(written, axis=0), axis=1).max() > 5.0, ion
    li = traj.indices("Li")
    np.testing.assert_allclose(traj.positions[-1, li] - traj.positions[0, li],
                               [[0, 0, 0], [0, 7.5, 0], [0, 0, 0], [1.8, 1.8, 0]], atol=0.31)
    for window in (1, 3, 5):
        assert count_hops(traj.positions[:, li], 1.5, window).tolist() == [2, 3, 0, 1], window
