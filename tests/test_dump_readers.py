"""Trajectories as users write them, read back per atom ID: one LAMMPS run on 2 ranks
(atoms in another order every frame, no ``dump_modify sort``) in a triclinic box whose
tilts change (``fix deform``), dumped as ``custom`` with x y z + image flags, xu yu zu
among extra columns in any order, xs ys zs, xsu ysu zsu, ``dump atom`` scaled and
``scale no image yes``, gzip'd ``custom/gz`` with an element column, ``units/time yes``,
and DCD wrapped and ``unwrap yes``.

References: the same run's positions written at 17 digits and sorted, MDAnalysis's and
ASE's readers where they agree with LAMMPS (MDAnalysis 2.11 shifts scaled coordinates by
lo twice, ASE keeps lo for unscaled ones), and the MSD by hand with numpy.
"""

import numpy as np
import pytest

from ionmd.analysis.msd import compute_msd
from ionmd.analysis.trajectory import read_frames, read_lammps_trajectory
from ionmd.errors import AnalysisError
from lammps_cells import two_type_lj_cell

N_ATOMS = 108

RUN = two_type_lj_cell("fcc 4.0", settings="boundary p p p\n") + """velocity all create 3000 1
compute pe all pe/atom
write_data s.data
fix 1 all nvt temp 3000 3000 0.1
fix 2 all deform 1 xy erate 0.5 xz erate -0.3 remap x
dump a all custom 10 a.dump id type x y z ix iy iz
dump b all custom 10 b.dump c_pe xu vx id yu type zu fx
dump c all custom 10 c.dump id type xs ys zs
dump d all custom 10 d.dump id type xsu ysu zsu
dump e all atom 10 e.dump
dump f all atom 10 f.dump
dump_modify f scale no image yes
dump g all custom/gz 10 g.lammpstrj.gz id element x y z ix iy iz
dump_modify g element Li Cl
dump h all custom 10 h.dump id type xs ys zs ix iy iz
dump_modify h units yes time yes
dump r all custom 10 ref.dump id x y z ix iy iz xu yu zu
dump_modify r sort id format float %.17g
dump t all dcd 10 t.dcd
dump u all dcd 10 u.dcd
dump_modify u unwrap yes
thermo 100
run 200
"""

#: file, unwrapped (``dump_unwrapped``), which reference it is to equal
STYLES = [("a.dump", False, "x"), ("a.dump", True, "xu"), ("b.dump", False, "xu"),
          ("c.dump", False, "x"), ("d.dump", False, "xu"), ("d.dump", True, "xu"),
          ("e.dump", False, "x"), ("f.dump", False, "x"), ("f.dump", True, "xu"),
          ("g.lammpstrj.gz", False, "x"), ("g.lammpstrj.gz", True, "xu"),
          ("h.dump", False, "x"), ("h.dump", True, "xu"), ("t.dcd", False, "x"),
          ("u.dcd", False, "xu")]


def _restricted_box(bounds: np.ndarray):
    """LAMMPS's cell (rows) and origin from a dump's BOX BOUNDS xy xz yz, by its manual."""
    (xlob, xhib, xy), (ylob, yhib, xz), (zlo, zhi, yz) = bounds
    xlo, xhi = xlob - min(0, xy, xz, xy + xz), xhib - max(0, xy, xz, xy + xz)
    ylo, yhi = ylob - min(0, yz), yhib - max(0, yz)
    return np.array([[xhi - xlo, 0, 0], [xy, yhi - ylo, 0], [xz, yz, zhi - zlo]]), \
        np.array([xlo, ylo, zlo])


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The run's files and its reference frames: x - lo, xu - lo, cells, in ID order."""
    from lammps_runner import run_lmp

    work = tmp_path_factory.mktemp("dumps")
    run_lmp(RUN, work, nprocs=2)
    lines = (work / "ref.dump").read_text().splitlines()
    ref = {"x": [], "xu": [], "box": [], "lo": []}
    for start in range(0, len(lines), 9 + N_ATOMS):
        box, lo = _restricted_box(np.array([ln.split() for ln in lines[start + 5:start + 8]],
                                           dtype=float))
        rows = np.array([ln.split() for ln in lines[start + 9:start + 9 + N_ATOMS]], dtype=float)
        assert np.array_equal(rows[:, 0], np.arange(1, N_ATOMS + 1))
        ref["x"].append(rows[:, 1:4] - lo)
        ref["xu"].append(rows[:, 7:10] - lo)
        ref["box"].append(box)
        ref["lo"].append(lo)
    return work, {k: np.array(v) for k, v in ref.items()}


def test_the_run_is_what_the_readers_must_handle(run):
    work, ref = run
    assert len(ref["box"]) == 21
    assert np.ptp(ref["box"][:, 1, 0]) > 1.0 and np.ptp(ref["box"][:, 2, 0]) > 0.5  # tilts
    assert np.any(ref["x"] != ref["xu"])                                # images crossed
    ids = [line.split()[0] for line in (work / "a.dump").read_text().splitlines()
           if len(line.split()) == 8]
    orders = np.array(ids, dtype=int).reshape(-1, N_ATOMS)
    assert len({tuple(o) for o in orders}) > 5                          # unsorted, changing


@pytest.mark.parametrize("name, unwrapped, reference", STYLES)
def test_each_style_gives_lammps_positions_per_atom_id(run, name, unwrapped, reference):
    work, ref = run
    piece, elements, _ = read_frames(work / "s.data", [work / name], unwrapped=unwrapped)
    positions = piece.positions - piece.origins[:, None, :]
    # text dumps: 6 significant digits (5e-5 A at 14 A); DCD: float32
    np.testing.assert_allclose(positions, ref[reference], rtol=0, atol=1e-4)
    np.testing.assert_allclose(piece.boxes, ref["box"], rtol=0, atol=1e-5)
    assert np.array_equal(piece.steps, np.arange(0, 201, 10))
    assert sorted(set(elements)) == ["Cl", "Li"]


def test_wrapped_only_dumps_refused_as_unwrapped(run):
    work, _ = run
    for name in ("c.dump", "e.dump"):
        with pytest.raises(AnalysisError, match="holds wrapped coordinates only"):
            read_frames(work / "s.data", [work / name], unwrapped=True)


def test_mdanalysis_and_ase_read_the_same_positions(run):
    """MDAnalysis (unscaled columns) and ASE (scaled ones) give lo-relative positions as
    ionmd does; both sort by ID."""
    import MDAnalysis as mda
    from ase.io import read

    work, _ = run
    for name in ("a.dump", "b.dump", "g.lammpstrj.gz"):
        ours = read_frames(work / "s.data", [work / name])[0].positions
        u = mda.Universe(str(work / "s.data"), str(work / name), format="LAMMPSDUMP",
                         atom_style="id type x y z")
        theirs = np.array([u.atoms.positions[np.argsort(u.atoms.ids)] for _ in u.trajectory])
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-4, err_msg=name)
    for name in ("c.dump", "d.dump", "e.dump"):
        ours = read_frames(work / "s.data", [work / name])[0].positions
        theirs = np.array([f.positions for f in read(work / name, ":", "lammps-dump-text")])
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-4, err_msg=name)


def test_msd_is_numpy_by_hand(run):
    """Displacements by hand (each frame-to-frame step as the minimum image in the later
    cell, float64 from the 17-digit positions) and the MSD over all time origins."""
    work, ref = run
    steps = np.diff(ref["x"], axis=0)
    frac = np.einsum("tnk,tkl->tnl", steps, np.linalg.inv(ref["box"][1:]))
    steps -= np.einsum("tnk,tkl->tnl", np.round(frac), ref["box"][1:])
    path = np.concatenate([ref["x"][:1], ref["x"][0] + np.cumsum(steps, axis=0)])
    for name in ("a.dump", "c.dump", "g.lammpstrj.gz", "t.dcd"):
        traj = read_lammps_trajectory(work / "s.data", [work / name], timestep_fs=1.0)
        li = traj.indices("Li")
        moved = traj.positions - traj.positions[0]
        np.testing.assert_allclose(moved, path - path[0], rtol=0, atol=2e-4, err_msg=name)
        by_hand = [np.mean(np.sum((path[k:, li] - path[:len(path) - k, li]) ** 2, axis=-1))
                   for k in range(1, len(path))]
        assert by_hand[-1] > 4.0                                           # atoms move
        np.testing.assert_allclose(compute_msd(traj, "Li").msd[1:], by_hand, rtol=1e-4)


def test_a_dump_of_a_group_or_with_lost_atoms_says_so(run, tmp_path):
    work, _ = run
    frames = (work / "a.dump").read_text().split("ITEM: TIMESTEP\n")[1:]
    group = tmp_path / "li.dump"
    head, atoms = frames[0].split("ITEM: ATOMS id type x y z ix iy iz\n")
    li_rows = [row for row in atoms.splitlines() if row.split()[1] == "1"]
    group.write_text("ITEM: TIMESTEP\n" + head.replace(f"\n{N_ATOMS}\n", f"\n{len(li_rows)}\n")
                     + "ITEM: ATOMS id type x y z ix iy iz\n" + "\n".join(li_rows) + "\n")
    with pytest.raises(AnalysisError, match=rf"{len(li_rows)} atoms in the dump, {N_ATOMS} in "
                                            r"the data file; dump all atoms"):
        read_frames(work / "s.data", [group])
    lost = tmp_path / "lost.dump"
    last = frames[2].replace(f"\n{N_ATOMS}\n", f"\n{N_ATOMS - 1}\n", 1).rstrip("\n")
    lost.write_text("ITEM: TIMESTEP\n" + "ITEM: TIMESTEP\n".join(frames[:2])
                    + "ITEM: TIMESTEP\n" + last.rsplit("\n", 1)[0] + "\n")
    with pytest.raises(AnalysisError, match=rf"{N_ATOMS - 1} atoms in the dump at step 20 "
                                            r"\(frame 2\).*the run lost atoms"):
        read_frames(work / "s.data", [lost])


def test_compressed_dumps_are_told_by_their_bytes(run, tmp_path):
    """xz and bzip2, and gzip under any name, read as the plain file; zstd (LAMMPS's
    ``dump custom/zstd``) is refused saying how to unpack it. Was: all 'not a LAMMPS dump
    file, or a corrupted one' (MDAnalysis's anyopen unpacks by suffix: .gz, .bz2)."""
    import bz2
    import gzip
    import lzma

    work, _ = run
    plain = (work / "a.dump").read_bytes()
    expected = read_frames(work / "s.data", [work / "a.dump"])[0].positions
    packed = {"a.dump.xz": lzma.compress(plain), "a.dump.bz2": bz2.compress(plain),
              "gzipped.lammpstrj": gzip.compress(plain)}
    for name, data in packed.items():
        (tmp_path / name).write_bytes(data)
        got = read_frames(work / "s.data", [tmp_path / name])[0].positions
        np.testing.assert_array_equal(got, expected, err_msg=name)
    zst = tmp_path / "a.dump.zst"
    zst.write_bytes(b"\x28\xb5\x2f\xfd" + plain[:100])     # a zstd frame's magic number
    with pytest.raises(AnalysisError, match=r"compressed with zstd \(dump custom/zstd\?\), "
                                            r"which ionmd cannot read: unpack it first "
                                            r"\(zstd -d .*a.dump.zst\)"):
        read_frames(work / "s.data", [zst])
