"""trajectory.py against LAMMPS's own numbers on tiny LJ runs: ``compute msd`` and its own
wrapped coordinates.

Was: (1) ``dump_unwrapped`` on a wrapped DCD (no ``dump_modify unwrap yes``) was used as
it is, every face crossing a jump of one cell (MSD 32x too large, silently); (2) dumps'
positions were relative to the box origin lo, DCDs' absolute: under NpT every atom of a
dump moved by lo(0) - lo(t) more, an MSD off LAMMPS's compute msd where no framework's
drift removal cancels it; (3) a Trajectory kept no wrapped coordinates, so the density
grid followed the drift-removed positions; (4) the "dump positions more often" refusal
did not say that --dump-unwrapped is exact at any interval in a constant box.
"""

import numpy as np
import pytest

from ionmd.analysis.structure_functions import wrapped_fractions
from ionmd.analysis.trajectory import read_lammps_trajectory
from ionmd.errors import AnalysisError
from lammps_cells import TILTED_PRISM, two_type_lj_cell

MSD_OUT = """write_data s.data
compute msd all msd
fix m all ave/time {every} 1 {every} c_msd[4] file msd.out format ' %.12g'
"""


def _run(work, lattice, body, region=TILTED_PRISM):
    from lammps_runner import run_lmp

    every = 10
    cell = two_type_lj_cell(lattice, region=region, settings="boundary p p p\natom_modify map yes\n")
    run_lmp(cell + MSD_OUT.format(every=every) + body, work)
    table = np.loadtxt(work / "msd.out")
    return work, table[:, 0].astype(int), table[:, 1]


def _msd_from_first_frame(traj):
    """<|r(t) - r(0)|^2> over all atoms: what compute msd (com no) prints."""
    return ((traj.positions - traj.positions[0]) ** 2).sum(-1).mean(-1)


@pytest.fixture(scope="module")
def npt_solid(tmp_path_factory):
    """A cold LJ crystal compressed under NpT (its box shrinks about its fixed centre, lo
    moves), atoms a quarter lattice spacing off the faces: none crosses one, so compute
    msd (x + n H with n = 0) is exact there."""
    return _run(tmp_path_factory.mktemp("nptsolid"), "fcc 4.3 origin 0.25 0.25 0.25",
                """pair_coeff 1 1 0.05 2.6
velocity all create 30 1
fix 1 all npt temp 30 30 0.1 iso 0 20000 0.5
dump a all custom 10 a.dump id type x y z ix iy iz
dump t all dcd 10 t.dcd
thermo 100
run 300
""", region="block 0 3 0 3 0 3")


@pytest.mark.parametrize("name", ["a.dump", "t.dcd"])
def test_npt_msd_of_dump_and_dcd_is_lammps_compute_msd(npt_solid, name):
    work, steps, lammps_msd = npt_solid
    images = np.loadtxt([r for r in (work / "a.dump").read_text().splitlines()
                         if len(r.split()) == 8])[:, 5:]
    assert not images.any()                                 # no crossing: compute msd exact
    traj = read_lammps_trajectory(work / "s.data", [work / name], timestep_fs=1.0)
    assert np.array_equal(traj.steps, steps)
    assert traj.volumes[-1] < 0.93 * traj.volumes[0]        # lo moved by ~0.3 A per axis
    # old dump: off by lo's shift
    np.testing.assert_allclose(_msd_from_first_frame(traj), lammps_msd, rtol=1e-3, atol=2e-5)


@pytest.fixture(scope="module")
def nvt_liquid(tmp_path_factory):
    """A hot LJ liquid in a constant box: wrapped and unwrapped DCDs, an xu yu zu dump, and
    one with image flags every 200 steps (atoms move more than half a cell in that time)."""
    return _run(tmp_path_factory.mktemp("nvtliquid"), "fcc 4.0", """velocity all create 3000 1
fix 1 all nvt temp 3000 3000 0.1
dump t all dcd 10 t.dcd
dump u all dcd 10 u.dcd
dump_modify u unwrap yes
dump b all custom 10 b.dump id type xu yu zu
dump r all custom 200 rare.dump id type x y z ix iy iz
thermo 100
run 1000
""")


def test_dump_unwrapped_on_a_wrapped_dcd_is_refused(nvt_liquid):
    work, _, lammps_msd = nvt_liquid
    images = np.loadtxt([r for r in (work / "rare.dump").read_text().splitlines()
                         if len(r.split()) == 8])[:, 5:]
    assert np.abs(images).max() >= 1                        # atoms crossed faces
    # old: read as unwrapped, an MSD of hundreds of A^2 (cell jumps)
    with pytest.raises(AnalysisError, match="are wrapped.*without --dump-unwrapped.*unwrap yes"):
        read_lammps_trajectory(work / "s.data", [work / "t.dcd"], timestep_fs=1.0,
                               dump_unwrapped=True)
    wrapped = read_lammps_trajectory(work / "s.data", [work / "t.dcd"], timestep_fs=1.0)
    np.testing.assert_allclose(_msd_from_first_frame(wrapped), lammps_msd, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["u.dcd", "b.dump", "rare.dump"])
def test_real_unwrapped_files_are_taken_as_unwrapped(nvt_liquid, name):
    """The wrapped-coordinates criterion does not fire on LAMMPS's unwrapped output, every
    10 steps or every 200 (steps past half a cell)."""
    work, steps, lammps_msd = nvt_liquid
    traj = read_lammps_trajectory(work / "s.data", [work / name], timestep_fs=1.0,
                                  dump_unwrapped=True)
    at = np.isin(steps, traj.steps)
    np.testing.assert_allclose(_msd_from_first_frame(traj), lammps_msd[at], rtol=1e-4, atol=1e-4)


def test_too_long_steps_in_a_constant_box_suggest_dump_unwrapped(nvt_liquid):
    work, _, _ = nvt_liquid
    # old message: only "dump positions more often"
    with pytest.raises(AnalysisError, match="more often, or.*--dump-unwrapped.*ix iy iz"):
        read_lammps_trajectory(work / "s.data", [work / "rare.dump"], timestep_fs=1.0)


@pytest.fixture(scope="module")
def npt_liquid(tmp_path_factory):
    """A hot LJ liquid under NpT: x y z read by ionmd, xs ys zs as LAMMPS wraps them."""
    return _run(tmp_path_factory.mktemp("nptliquid"), "fcc 4.0", """velocity all create 3000 1
fix 1 all npt temp 3000 3000 0.1 tri 0 5000 0.5
dump x all custom 10 x.dump id type x y z
dump s all custom 10 s.dump id xs ys zs
dump_modify s sort id format float %.12g
thermo 100
run 400
""")


def _cartesian_gap(frac_a, frac_b, boxes):
    """Distance (A) between two sets of fractional coordinates, lattice vectors aside."""
    d = frac_a - frac_b
    return np.linalg.norm(np.einsum("tnk,tkl->tnl", d - np.round(d), boxes), axis=-1)


def test_fractions_are_lammps_wrapped_ones_through_drift_removal(npt_liquid):
    work, _, _ = npt_liquid
    traj = read_lammps_trajectory(work / "s.data", [work / "x.dump"], timestep_fs=1.0)
    rows = [r.split() for r in (work / "s.dump").read_text().splitlines()]
    lammps = np.array([r[1:] for r in rows if len(r) == 4 and "ITEM:" not in r], float)
    lammps = lammps.reshape(traj.n_frames, traj.n_atoms, 3)
    assert traj.volumes.std() / traj.volumes.mean() > 0.05          # breathing box
    moved = traj.discard(0.1).framework_drift_removed(["Li"])      # Cl as framework
    keep = traj.times_ps >= 0.1 - 1e-9
    assert moved.fractions is not None
    assert moved.fractions.min() >= 0 and moved.fractions.max() <= 1
    gap = _cartesian_gap(moved.fractions, lammps[keep], moved.boxes)
    assert gap.max() < 1e-4                                          # 6-digit dump
    # what the density grid followed before: the drift-removed positions
    followed = wrapped_fractions(moved.positions, moved.boxes)
    assert _cartesian_gap(followed, lammps[keep], moved.boxes).mean() > 100 * gap.mean()


def test_a_long_hop_inside_the_cell_is_not_taken_for_wrapping():
    """Unwrapped coordinates where one atom hops 0.6 of the cell in one interval and none
    ever leaves it (a short run dumped seldom) are used as they are."""
    from ionmd.analysis.stitching import continuous_unwrapped
    from ionmd.analysis.unwrapping import Piece

    box = np.diag([10.0, 10.0, 10.0])
    positions = np.full((3, 4, 3), 5.0)
    positions[:, 0, 0] = [1.0, 7.0, 7.5]                     # 6 A = 0.6 cell, then 0.5 A
    piece = Piece(positions, np.repeat(box[None], 3, 0), np.array([0, 100, 200]))
    np.testing.assert_array_equal(continuous_unwrapped(piece), positions)
    positions[:, 0, 0] = [9.8, 0.3, 0.8]                     # a face crossing, wrapped
    with pytest.raises(AnalysisError, match="are wrapped"):
        continuous_unwrapped(Piece(positions, np.repeat(box[None], 3, 0), np.array([0, 100, 200])))
