"""Reading, stitching and unwrapping: NpT-safe unwrapping against the true continuous
positions of synthetic walks, stitching of resumed pieces, and clear errors on bad input
(files written with MDAnalysis's DCD writer and ASE's LAMMPS data writer)."""

from dataclasses import replace

import numpy as np
import pytest
from ase import Atoms
from ase.io import write

import synthetic_trajectories as st
from ionmd.analysis.stitching import continuous_unwrapped, stitch
from ionmd.analysis.trajectory import read_lammps_trajectory
from ionmd.analysis.unwrapping import Piece, unwrap
from ionmd.errors import AnalysisError, IonmdError
from lammps_cells import two_type_lj_cell


def _walk(breathing: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    # D = 2 A^2/ps, 0.05 ps frames, 1500 frames: Li cross the 10 A box many times
    return st.make(st.brownian_steps(1500, 6, [2.0] * 3, 0.05, rng), L=10.0, dt_ps=0.05,
                   breathing=breathing, rng=rng)


@pytest.mark.parametrize("source", ["wrapped", "lammps_unwrapped"])
def test_unwrap_recovers_true_path_under_changing_box(source):
    s = _walk(breathing=0.08)
    # LAMMPS-unwrapped input is wrapped back into [lo, lo + H) first (lo = 0 here)
    origins = np.zeros((len(s.true.steps), 3)) if source == "lammps_unwrapped" else None
    un = unwrap(getattr(s, source), s.true.boxes, origins)
    true_disp = s.true.positions - s.true.positions[0]
    images_crossed = np.abs(np.floor(s.true.positions[-1] / 10.0)).max()
    assert images_crossed >= 3, "walk too short to test many image crossings"
    assert np.abs((un - un[0]) - true_disp).max() < 1e-9


def test_lammps_unwrapped_coordinates_are_wrong_under_npt():
    """The reason for wrapping them back first: x + n H(t) drifts when the box changes,
    and so does minimum-image unwrapping of them as they are."""
    s = _walk(breathing=0.08)
    truth = s.true.positions - s.true.positions[0]
    assert np.abs((s.lammps_unwrapped - s.lammps_unwrapped[0]) - truth).max() > 0.5
    raw = unwrap(s.lammps_unwrapped, s.true.boxes)
    assert np.abs((raw - raw[0]) - truth).max() > 0.5


def test_unwrap_refuses_frames_too_far_apart():
    s = _walk(breathing=0.0)
    with pytest.raises(AnalysisError, match="dump positions more often"):
        unwrap(s.wrapped[::100], s.true.boxes[::100])


def test_stitch_drops_seam_duplicates_and_refuses_gaps():
    s = _walk(breathing=0.05)
    p, b, t = s.lammps_unwrapped, s.true.boxes, s.true.steps
    pieces = [Piece(p[:500], b[:500], t[:500]), Piece(p[499:1000], b[499:1000], t[499:1000]),
              Piece(p[999:], b[999:], t[999:])]
    joined = stitch(pieces)
    assert np.array_equal(joined.steps, t) and joined.starts == (0,)
    no_repeat = stitch([Piece(p[:500], b[:500], t[:500]), Piece(p[500:], b[500:], t[500:])])
    assert no_repeat.starts == (0, 500)
    assert np.abs(no_repeat.unwrapped() - joined.unwrapped()).max() < 1e-9
    un = joined.unwrapped()
    assert np.abs((un - un[0]) - (s.true.positions - s.true.positions[0])).max() < 1e-9
    with pytest.raises(AnalysisError, match="not evenly spaced"):
        stitch([Piece(p[:100], b[:100], t[:100]), Piece(p[120:], b[120:], t[120:])])
    with pytest.raises(AnalysisError, match="check the piece order"):
        stitch([pieces[1], pieces[0]])


def test_lammps_unwrapped_in_constant_box_survive_long_dump_intervals():
    """NVT: LAMMPS's own unwrapped coordinates are exact for any dump interval; pieces
    whose image flags restart are joined by the minimum image at the seam."""
    s = _walk(breathing=0.0)
    p, b, t = s.lammps_unwrapped[::100], s.true.boxes[::100], s.true.steps[::100]
    true = s.true.positions[::100]
    restarted = p[7:] - np.floor(p[7] / 10.0) * 10.0   # second file: images reset
    joined = stitch([Piece(p[:8], b[:8], t[:8]), Piece(restarted, b[7:], t[7:])])
    assert joined.starts == (0,)  # aligned through the repeated frame
    un = continuous_unwrapped(joined)
    assert np.abs((un - un[0]) - (true - true[0])).max() < 1e-9
    # no repeated frame: joined by the minimum image (fine at a short dump interval)
    q, bq, tq = s.lammps_unwrapped, s.true.boxes, s.true.steps
    reset = q[600:] - np.floor(q[600] / 10.0) * 10.0
    joined = stitch([Piece(q[:600], bq[:600], tq[:600]), Piece(reset, bq[600:], tq[600:])])
    assert joined.starts == (0, 600)
    un = continuous_unwrapped(joined)
    assert np.abs((un - un[0]) - (s.true.positions - s.true.positions[0])).max() < 1e-9
    with pytest.raises(AnalysisError, match="box changes"):
        breathing = _walk(breathing=0.05)
        continuous_unwrapped(Piece(breathing.lammps_unwrapped, breathing.true.boxes,
                                   breathing.true.steps))


def test_framework_drift_is_removed():
    rng = np.random.default_rng(3)
    steps = st.brownian_steps(200, 4, [0.0] * 3, 0.1, rng)
    s = st.make(steps, drift=np.array([0.05, -0.02, 0.01]), vib=0.0, rng=rng)
    fixed = s.true.framework_drift_removed(["Li"])
    assert np.abs(fixed.positions - fixed.positions[0]).max() < 1e-9
    assert np.abs(s.true.positions - s.true.positions[0]).max() > 5


# ---------------------------------------------------------------- files and bad input

def _files(tmp_path, n_frames=20, n_atoms_data=6, n_atoms_dcd=6, istart=0, nsavc=10, name="t.dcd"):
    import MDAnalysis as mda
    from MDAnalysis.coordinates.DCD import DCDWriter

    atoms = Atoms("Li3Cl3", positions=np.random.default_rng(0).random((6, 3)) * 8,
                  cell=[8, 8, 8], pbc=True)[:n_atoms_data]
    write(tmp_path / "s.data", atoms, format="lammps-data", specorder=["Cl", "Li"], masses=True,
          atom_style="atomic")
    rng = np.random.default_rng(1)
    u = mda.Universe.empty(n_atoms_dcd, trajectory=True)
    with DCDWriter(str(tmp_path / name), n_atoms_dcd, nsavc=nsavc, istart=istart, dt=0.001) as w:
        pos = rng.random((n_atoms_dcd, 3)) * 8
        for _ in range(n_frames):
            pos = pos + 0.1 * rng.standard_normal(pos.shape)
            u.atoms.positions = pos
            u.dimensions = [8, 8, 8, 90, 90, 90]
            w.write(u)
    return tmp_path / "s.data", tmp_path / name


def test_reads_dcd_steps_and_elements_from_masses(tmp_path):
    data, dcd = _files(tmp_path, istart=500, nsavc=20)
    traj = read_lammps_trajectory(data, [dcd], timestep_fs=1.0)
    assert traj.n_frames == 20 and traj.steps[0] == 500 and traj.steps[1] == 520
    assert sorted(set(traj.elements)) == ["Cl", "Li"]
    assert traj.frame_interval_ps == pytest.approx(0.02)


def test_atom_count_mismatch_and_wrong_atom_style_are_clear_errors(tmp_path):
    data, dcd = _files(tmp_path, n_atoms_data=6, n_atoms_dcd=5)
    with pytest.raises(IonmdError, match="does not match"):
        read_lammps_trajectory(data, [dcd], timestep_fs=1.0)
    with pytest.raises(IonmdError, match="contradicts"):   # ASE wrote 'Atoms # atomic'
        read_lammps_trajectory(data, [dcd], timestep_fs=1.0, atom_style="id type q x y z")
    data.write_text(data.read_text().replace("Atoms # atomic", "Atoms"))
    with pytest.raises(IonmdError, match="cannot parse data file"):
        read_lammps_trajectory(data, [dcd], timestep_fs=1.0, atom_style="id type q x y z")


def test_empty_and_truncated_dcd_are_clear_errors(tmp_path):
    data, dcd = _files(tmp_path)
    empty = tmp_path / "empty.dcd"
    empty.write_bytes(b"")
    with pytest.raises(IonmdError, match="empty"):
        read_lammps_trajectory(data, [empty], timestep_fs=1.0)
    truncated = tmp_path / "trunc.dcd"
    truncated.write_bytes(dcd.read_bytes()[:-37])
    with pytest.raises(IonmdError, match="truncated"):
        read_lammps_trajectory(data, [truncated], timestep_fs=1.0)


def test_discard_longer_than_run_and_absent_species_are_clear_errors(tmp_path):
    data, dcd = _files(tmp_path)
    traj = read_lammps_trajectory(data, [dcd], timestep_fs=1.0)  # 19 x 10 fs = 0.19 ps
    with pytest.raises(IonmdError, match="run too short for the requested discard"):
        traj.discard(1.0)
    with pytest.raises(IonmdError, match="species \\['Na'\\] not in this trajectory"):
        traj.indices("Na")
    assert replace(traj).discard(0.1).n_frames == 10


LJ_NPT = two_type_lj_cell("fcc 4.0", like_pair=False) + """velocity all create 600 1
fix 1 all npt temp 600 600 0.1 tri 0 0 0.5
write_data s.data
dump d all dcd 5 t.dcd
dump c all custom 5 t.dump id type xs ys zs ix iy iz
dump_modify c sort id
dump u all dcd 5 u.dcd
dump_modify u unwrap yes
dump cu all custom 5 u.dump id type xu yu zu
dump_modify cu sort id
thermo 50
run 300
"""


def test_real_lammps_npt_wrapped_and_unwrapped_outputs_agree(tmp_path):
    """A triclinic NpT run of LAMMPS's own lj/cut (fast, no plugin), written four ways:
    DCD wrapped, DCD ``unwrap yes``, dump ``xs ys zs``, dump ``xu yu zu``. The wrapped ones
    are unwrapped exactly by the minimum image; the LAMMPS-unwrapped ones (whose
    ``x + n H(t)`` drifts as the box changes) must give the same displacements after
    being wrapped back into each frame's box."""
    from lammps_runner import run_lmp

    run_lmp(LJ_NPT, tmp_path, env={"OMP_NUM_THREADS": "1"})
    a = read_lammps_trajectory(tmp_path / "s.data", [tmp_path / "t.dcd"], timestep_fs=1.0)
    b = read_lammps_trajectory(tmp_path / "s.data", [tmp_path / "t.dump"], timestep_fs=1.0)
    assert a.n_frames == b.n_frames == 61
    assert np.abs(a.boxes - b.boxes).max() < 1e-4
    assert np.ptp(a.volumes) / a.volumes.mean() > 0.01
    # the dump reader moves the box origin to 0, the DCD keeps LAMMPS's: drop the common shift
    def msd_end(p):
        return float(np.mean(np.sum((p[-1] - p[0]) ** 2, axis=-1)))

    da = a.framework_drift_removed(["Li"]).positions
    db = b.framework_drift_removed(["Li"]).positions
    assert np.abs((da - da[0]) - (db - db[0])).max() < 1e-3     # wrapped: exact
    from ionmd.analysis.trajectory import read_frames

    # LAMMPS-unwrapped: atoms LAMMPS had not wrapped yet (it wraps at neighbour-list
    # rebuilds) cannot be told apart, an O(|dH| per frame) ambiguity; the naive use
    # of x + n H(t) drifts with n instead. This box grows 15-25 % in 0.3 ps, far faster
    # than any equilibrium NpT, to make both visible.
    # (dumps are relative to the moving box origin: compare with the Cl drift removed)
    for name in ("u.dcd", "u.dump"):
        ours = read_lammps_trajectory(tmp_path / "s.data", [tmp_path / name], timestep_fs=1.0)
        raw, _, _ = read_frames(tmp_path / "s.data", [tmp_path / name])
        do = ours.framework_drift_removed(["Li"]).positions
        dn = replace(ours, positions=raw.positions).framework_drift_removed(["Li"]).positions
        assert msd_end(do) == pytest.approx(msd_end(da), rel=0.02), name
        assert abs(msd_end(dn) / msd_end(da) - 1) > 0.1, name
        err = np.linalg.norm((do - do[0]) - (da - da[0]), axis=-1)
        naive = np.linalg.norm((dn - dn[0]) - (da - da[0]), axis=-1)
        assert err.mean() < 0.3 * naive.mean(), name


def _dump(path, n_atoms=6, n_frames=5):
    frames = []
    for k in range(n_frames):
        frames.append(f"ITEM: TIMESTEP\n{10 * k}\nITEM: NUMBER OF ATOMS\n{n_atoms}\n"
                      "ITEM: BOX BOUNDS pp pp pp\n0 8\n0 8\n0 8\nITEM: ATOMS id type x y z\n"
                      + "".join(f"{i + 1} {1 if i < 3 else 2} {i + 0.1 * k} 1.0 2.0\n"
                                for i in range(n_atoms)))
    path.write_text("".join(frames))
    return path


def test_dump_custom_atom_count_mismatch_and_truncation_are_clear_errors(tmp_path):
    data, _ = _files(tmp_path)
    good = _dump(tmp_path / "good.dump")
    assert read_lammps_trajectory(data, [good], timestep_fs=1.0).n_frames == 5
    with pytest.raises(IonmdError, match="7 atoms in the dump, only 6 in the data file, which "
                                         "is another system.s; use the data file written by"):
        read_lammps_trajectory(data, [_dump(tmp_path / "seven.dump", n_atoms=7)], timestep_fs=1.0)
    cut = tmp_path / "cut.dump"
    cut.write_text(good.read_text()[:-30])       # the last frame's last lines are missing
    with pytest.raises(IonmdError, match="ends in the middle of a frame.*4 whole frames"):
        read_lammps_trajectory(data, [cut], timestep_fs=1.0)
    empty = tmp_path / "empty.dump"
    empty.write_text("")
    with pytest.raises(IonmdError, match="empty"):
        read_lammps_trajectory(data, [empty], timestep_fs=1.0)


def test_dcd_cut_inside_its_header_is_a_clear_error(tmp_path):
    data, dcd = _files(tmp_path)
    head = tmp_path / "head.dcd"
    head.write_bytes(dcd.read_bytes()[:200])
    with pytest.raises(IonmdError, match="empty or truncated"):
        read_lammps_trajectory(data, [head], timestep_fs=1.0)
