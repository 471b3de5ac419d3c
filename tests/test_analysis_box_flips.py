"""Triclinic NpT runs whose box flips (``fix npt ... xy ... flip yes``), as LAMMPS writes
them: ionmd's unwrapping must stay exact across a flip, also when the flip falls inside a
run resumed from a restart file, and the failure checks must not take a flip for a failure.

The run (made here, ~2 s): a hot Ar/Li Lennard-Jones fluid of 200 atoms in a sheared
cell, barostatted with all six stress components and a shear-stress target the fluid
cannot hold, so the tilt ``xy`` grows until LAMMPS flips the box (``xy -> xy + lx``, atoms
remapped, image flags changed) a few dozen steps after the restart. Which LAMMPS pair
style made the run does not matter to the analysis (it reads the data file and the dumps).

Reference: the lattice vector each atom crosses between two kept frames, taken from
LAMMPS's image flags (``x + n H``, rounded into the later cell's lattice), read by a
parser of its own, the two pieces joined at the restart step they both wrote (LAMMPS
wraps the atoms that were outside the box when it resumes). Wrapped input (``x y z``, ``x y z ix iy iz``, ``xs ys zs``, DCD) must
give that path to float64 (dumps) or float32 (DCD) precision; LAMMPS's ``xu yu zu`` under
a changing box carry ``n dH`` and are checked only against the documented ambiguity.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lammps_runner import run_lmp

RESTART_STEP = 500
END_STEP = 900
EVERY = 10
FIX = ("fix 1 all npt temp 250 250 0.1 x 4000 4000 1 y 4000 4000 1 z 4000 4000 1 "
       "xy 5500 5500 0.5 xz 0 0 1 yz 0 0 1 flip yes")
# a wide skin: LAMMPS rebuilds (and wraps) seldom, so atoms lie outside the box at the
# restart step and are wrapped when the run resumes
PAIR = "pair_style lj/cut 8.0\npair_coeff * * 0.0104 3.4\nneighbor 4.0 bin"
# the dumps a user may keep (coarse) and the every-step reference
DUMPS = """
thermo_style custom step temp press vol lx ly lz xy xz yz pxy
thermo 10
dump r all custom 1 ref.{k}.dump id x y z ix iy iz xu yu zu
dump w all custom {every} w.{k}.dump id type x y z
dump wi all custom {every} wi.{k}.dump id type x y z ix iy iz
dump u all custom {every} u.{k}.dump id type xu yu zu
dump s all custom {every} s.{k}.dump id type xs ys zs
dump_modify r sort id format float %.12g
dump_modify w format float %.12g
dump_modify wi format float %.12g
dump_modify u format float %.12g
dump_modify s format float %.12g
dump d all dcd {every} md.{k}.dcd
dump du all dcd {every} mdu.{k}.dcd
dump_modify du unwrap yes
"""
FIRST = f"""
units metal
atom_style atomic
region box prism 0 20 0 20 0 20 8 0 0
create_box 2 box
create_atoms 1 random 150 4321 box overlap 2.5
create_atoms 2 random 50 8765 box overlap 2.5
mass 1 39.948
mass 2 6.94
{PAIR}
minimize 1e-4 1e-6 200 2000
reset_timestep 0
write_data struct.data
velocity all create 300 12345 mom yes rot no dist gaussian
timestep 0.002
{FIX}
{DUMPS.format(k=0, every=EVERY)}
run {RESTART_STEP}
write_restart md.restart
"""
SECOND = f"""
read_restart md.restart
{PAIR}
timestep 0.002
{FIX}
{DUMPS.format(k=1, every=EVERY)}
run {END_STEP - RESTART_STEP}
"""
INPUTS = {"x y z": "w", "x y z ix iy iz": "wi", "xs ys zs": "s", "xu yu zu": "u", "DCD": "md",
          "DCD unwrap yes": "mdu"}


@pytest.fixture(scope="module")
def flip_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("box_flip_run")
    run_lmp(FIRST, run_dir, env={"OMP_NUM_THREADS": "1"})
    (run_dir / "log.0.lammps").write_text((run_dir / "log.lammps").read_text())
    run_lmp(SECOND, run_dir, env={"OMP_NUM_THREADS": "1"})
    (run_dir / "log.1.lammps").write_text((run_dir / "log.lammps").read_text())
    return run_dir


def parse_dump(path: Path) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Steps, cell rows and columns (sorted by id, positions relative to lo) of a dump,
    read independently of ionmd's reader."""
    lines = path.read_text().split("\n")
    steps, boxes, frames, i = [], [], [], 0
    while i < len(lines) and lines[i].startswith("ITEM: TIMESTEP"):
        n = int(lines[i + 3])
        b = np.array([line.split() for line in lines[i + 5:i + 8]], float)
        xy, xz, yz = b[:, 2]
        lo = np.array([b[0, 0] - min(0, xy, xz, xy + xz), b[1, 0] - min(0, yz), b[2, 0]])
        hi = np.array([b[0, 1] - max(0, xy, xz, xy + xz), b[1, 1] - max(0, yz), b[2, 1]])
        cols = lines[i + 8].split()[2:]
        a = np.array([line.split() for line in lines[i + 9:i + 9 + n]], float)
        a = a[np.argsort(a[:, 0])]
        frame = {c: a[:, k] for k, c in enumerate(cols)}
        for c, o in zip("xyz", lo):
            frame[c] = frame[c] - o
        steps.append(int(lines[i + 1]))
        boxes.append([[hi[0] - lo[0], 0, 0], [xy, hi[1] - lo[1], 0], [xz, yz, hi[2] - lo[2]]])
        frames.append(frame)
        i += 9 + n
    cols = {c: np.array([f[c] for f in frames]) for c in frames[0]}
    return np.array(steps), np.array(boxes), cols


def joined(run_dir: Path, stem: str):
    """Both pieces of a dump, the repeated restart step once."""
    s0, b0, c0 = parse_dump(run_dir / f"{stem}.0.dump")
    s1, b1, c1 = parse_dump(run_dir / f"{stem}.1.dump")
    assert s1[0] == s0[-1] == RESTART_STEP
    return (np.concatenate([s0, s1[1:]]), np.concatenate([b0, b1[1:]]),
            {c: np.concatenate([c0[c], c1[c][1:]]) for c in c0})


def xyz(cols, names=("x", "y", "z")) -> np.ndarray:
    return np.stack([cols[c] for c in names], -1)


def image_flag_path(x: np.ndarray, images: np.ndarray, boxes: np.ndarray):
    """Continuous path from wrapped positions, the lattice vector between frames taken
    from LAMMPS's image flags (not from the positions); and the largest distance of that
    vector from the later cell's lattice, in fractional units (0 for consistent flags up
    to the box change between the frames)."""
    nh = np.einsum("tnk,tkl->tnl", images, boxes)
    frac = np.einsum("tnk,tkl->tnl", nh[1:] - nh[:-1], np.linalg.inv(boxes[1:]))
    lattice = np.einsum("tnk,tkl->tnl", np.round(frac), boxes[1:])
    out = np.concatenate([x[:1], x[:1] + np.cumsum(np.diff(x, axis=0) + lattice, axis=0)])
    return out, float(np.abs(frac - np.round(frac)).max())


def flips(boxes: np.ndarray) -> np.ndarray:
    """Frame indices where the tilt xy jumped by about a box length."""
    return np.flatnonzero(np.abs(np.diff(boxes[:, 1, 0])) > 0.5 * boxes[1:, 0, 0]) + 1


def test_lammps_flips_the_box_and_keeps_image_flags_consistent(flip_run):
    steps, boxes, cols = joined(flip_run, "ref")
    assert np.all(np.diff(steps) == 1)
    at = flips(boxes)
    assert at.size >= 1 and steps[at[0]] > RESTART_STEP   # a flip inside the resumed piece
    dxy = boxes[at, 1, 0] - boxes[at - 1, 1, 0]
    assert np.allclose(np.abs(dxy), boxes[at, 0, 0], rtol=0.01)   # xy jumps by lx
    # the lattice is the same: volume continuous, a' = a, b' = b -/+ a
    vol = np.abs(np.linalg.det(boxes))
    assert np.all(np.abs(vol[at] / vol[at - 1] - 1) < 0.01)
    x, n, xu = xyz(cols), xyz(cols, ("ix", "iy", "iz")), xyz(cols, ("xu", "yu", "zu"))
    # LAMMPS's unwrapped coordinates are x + n H with the flipped image flags ...
    lo = xu - np.einsum("tnk,tkl->tnl", n, boxes) - x   # lo (per frame, all atoms)
    assert np.abs(lo - lo[:, :1]).max() < 1e-6
    # ... and stay continuous across the flip (no lattice-vector jump)
    step_len = np.linalg.norm(np.diff(xu, axis=0), axis=-1).max(axis=1)
    assert step_len[at - 1].max() < 0.3 and step_len.max() < 0.3
    # the image flags change by whole lattice vectors of the new cell at every step
    _, residual = image_flag_path(x, n, boxes)
    assert residual < 0.02


def coarse_reference(run_dir: Path):
    """LAMMPS's path at the kept frames, piece by piece from the image flags, joined at
    the repeated restart step (the same configuration, whatever image each piece wrote
    an atom in: LAMMPS wraps atoms when it resumes)."""
    paths, all_steps, all_boxes = [], [], []
    for k in (0, 1):
        steps, boxes, cols = parse_dump(run_dir / f"wi.{k}.dump")
        path, residual = image_flag_path(xyz(cols), xyz(cols, ("ix", "iy", "iz")), boxes)
        assert residual < 0.1   # the box changes by < 10 % of a lattice vector per frame
        if paths:
            assert steps[0] == all_steps[-1][-1] == RESTART_STEP
            path = (path - path[0] + paths[-1][-1])[1:]
            steps, boxes = steps[1:], boxes[1:]
        paths.append(path)
        all_steps.append(steps)
        all_boxes.append(boxes)
    return np.concatenate(all_steps), np.concatenate(all_boxes), np.concatenate(paths)


def lo_shift(run_dir: Path) -> np.ndarray:
    """lo(t) - lo(0) at :func:`coarse_reference`'s frames, from the dumps' box bounds."""
    los = []
    for k in (0, 1):
        lines = (run_dir / f"wi.{k}.dump").read_text().split("\n")
        at = [i for i, line in enumerate(lines) if line.startswith("ITEM: BOX BOUNDS")]
        b = np.array([[line.split() for line in lines[i + 1:i + 4]] for i in at], float)
        xy, xz, yz = b[:, 0, 2], b[:, 1, 2], b[:, 2, 2]
        zero = np.zeros_like(xy)
        lo = np.stack([b[:, 0, 0] - np.minimum.reduce([zero, xy, xz, xy + xz]),
                       b[:, 1, 0] - np.minimum(zero, yz), b[:, 2, 0]], axis=1)
        los.append(lo if k == 0 else lo[1:])
    los = np.concatenate(los)
    return los - los[0]


def test_lammps_wraps_atoms_when_it_resumes(flip_run):
    """The restart step as each piece wrote it: the same configuration, some atoms in
    another image (those outside the box when the restart file was written) - what
    stitching must align without disturbing the flip that follows."""
    _, b0, c0 = parse_dump(flip_run / "wi.0.dump")
    _, b1, c1 = parse_dump(flip_run / "wi.1.dump")
    x0, x1 = xyz(c0)[-1], xyz(c1)[0]
    frac = (x0 - x1) @ np.linalg.inv(b0[-1])
    assert np.abs(frac - np.round(frac)).max() < 1e-9
    assert np.any(np.round(frac) != 0)


def read(run_dir: Path, stem: str):
    from ionmd.analysis.trajectory import read_lammps_trajectory

    suffix = "dcd" if stem.startswith("md") else "dump"
    return read_lammps_trajectory(run_dir / "struct.data",
                                  [run_dir / f"{stem}.{k}.{suffix}" for k in (0, 1)],
                                  timestep_fs=2.0)


@pytest.mark.parametrize("columns", ["x y z", "x y z ix iy iz", "xs ys zs", "DCD"])
def test_wrapped_input_is_unwrapped_exactly_across_flip_and_restart(flip_run, columns):
    steps, boxes, ref = coarse_reference(flip_run)
    at = flips(boxes)
    assert at.size >= 1 and steps[at[0]] > RESTART_STEP
    traj = read(flip_run, INPUTS[columns])
    assert np.array_equal(traj.steps, steps)
    assert np.allclose(traj.boxes, boxes, rtol=0, atol=1e-4)
    disp = traj.positions - traj.positions[0]
    # LAMMPS's own frame (its compute msd's, DCD's), where dumps are read into too: the
    # path relative to lo moved by lo(t) - lo(0) as the cell grows about its fixed centre
    want = ref - ref[0] + lo_shift(flip_run)[:, None, :]
    assert np.abs(disp - want).max() < (1e-4 if columns == "DCD" else 1e-6)  # float32 DCD
    assert np.abs(disp).max() > 10.0   # atoms went far: many images, a flip in between


def mobile_msd(traj) -> np.ndarray:
    from ionmd.analysis.msd import compute_msd

    return compute_msd(traj.framework_drift_removed(["Li"]), "Li").msd


def test_msd_of_every_input_agrees_across_the_flip(flip_run):
    ref = mobile_msd(read(flip_run, "w"))
    assert ref[-1] > 20.0
    for columns in ("x y z ix iy iz", "xs ys zs", "DCD"):
        assert np.allclose(mobile_msd(read(flip_run, INPUTS[columns])), ref, rtol=1e-5,
                           atol=1e-6), columns
    # xu yu zu (and an unwrapped DCD) are wrapped back first; left: the documented one-frame ambiguity of atoms
    # that LAMMPS had not wrapped yet (here the tilt moves by ~0.4 A per kept frame)
    for stem in ("u", "mdu"):
        u = mobile_msd(read(flip_run, stem))
        assert np.abs(u[1:] / ref[1:] - 1).max() < 0.02, stem


def test_failure_checks_ignore_the_flip(flip_run):
    from ionmd.analysis.failure import _min_scaled_distances, detect_failures
    from ionmd.analysis.trajectory import read_frames
    from ionmd.lammps.thermo_log import parse_thermo

    frames, elements, masses = read_frames(flip_run / "struct.data",
                                           [flip_run / f"w.{k}.dump" for k in (0, 1)])
    text = "".join((flip_run / f"log.{k}.lammps").read_text() for k in (0, 1))
    report = detect_failures(steps=frames.steps, timestep_fs=2.0, positions=frames.positions,
                             boxes=frames.boxes, elements=elements, masses=masses,
                             framework=(), thermo=parse_thermo(text), log_text=text,
                             target_temperature_K=250.0)
    assert not report.failed, report.to_dict()
    # the periodic distances the collapse check uses are right in the cells just before
    # (tilt ~0.6 lx) and after the flip: compare with a brute-force search over images
    at = flips(frames.boxes)[0]
    ones = np.ones(len(elements))
    for t in (at - 1, at):
        pos, box = frames.positions[t], frames.boxes[t]
        got = _min_scaled_distances(pos[None], box[None], ones, 6.0)[0] * 2
        shifts = np.array([[i, j, k] for i in range(-2, 3) for j in range(-2, 3)
                           for k in range(-2, 3)]) @ box
        d = pos[:, None, None, :] - pos[None, :, None, :] + shifts[None, None]
        r = np.linalg.norm(d, axis=-1)
        r[np.arange(len(pos)), np.arange(len(pos)), len(shifts) // 2] = np.inf
        assert got == pytest.approx(r.min(), abs=1e-4)


def test_restart_across_a_flip_stitches_without_a_growing_error(flip_run):
    """A resumed run may write its restart step in the other cell basis (the box flipped,
    atoms remapped) than the first piece did: the same lattice, so the copies differ by a
    lattice vector, which stitching adds to the later frames. Those vectors must not be
    mistaken for LAMMPS-unwrapped input (they lie outside the cell): wrapping them into a
    box that keeps shearing after the seam would leave an error growing with the tilt."""
    from ionmd.analysis.stitching import stitch
    from ionmd.analysis.trajectory import read_frames
    from ionmd.analysis.unwrapping import Piece

    # the resumed piece of the run, which holds the flip: split there once more
    frames, _, _ = read_frames(flip_run / "struct.data", [flip_run / "w.1.dump"])
    whole = frames.unwrapped()
    pos = frames.positions
    at = flips(frames.boxes)[0]
    old = frames.boxes[at - 1]
    flipped = old.copy()
    flipped[1] -= np.sign(old[1, 0]) * old[0]            # b' = b -/+ a: xy -> xy -/+ lx
    frac = pos[at - 1] @ np.linalg.inv(flipped)
    again = (frac - np.floor(frac)) @ flipped             # remapped into the flipped cell
    assert np.abs(again - pos[at - 1]).max() > 1.0   # some atoms moved
    # the first piece wrote the restart step in the flipped cell, the second in the old one
    first = Piece(np.concatenate([pos[:at - 1], again[None]]),
                  np.concatenate([frames.boxes[:at - 1], flipped[None]]), frames.steps[:at])
    second = Piece(pos[at - 1:], frames.boxes[at - 1:], frames.steps[at - 1:])
    joined_piece = stitch([first, second])
    assert np.array_equal(joined_piece.steps, frames.steps)
    assert np.abs(joined_piece.unwrapped() - whole).max() < 1e-9
    # the other way round: the second piece's later frames follow the old cell's images,
    # not those of its (flipped) first frame: TOR's one-frame ambiguity at the seam, a
    # constant offset after it, not one that grows as the cell keeps shearing
    first = Piece(pos[:at], frames.boxes[:at], frames.steps[:at])
    second = Piece(np.concatenate([again[None], pos[at:]]),
                   np.concatenate([flipped[None], frames.boxes[at:]]), frames.steps[at - 1:])
    offset = stitch([first, second]).unwrapped() - whole
    assert np.abs(offset[:at]).max() < 1e-9
    assert np.abs(offset[at:] - offset[at]).max() < 1e-9
    assert np.abs(offset).max() < 1.0


def test_three_pieces_in_a_shearing_flipping_cell_stitch_exactly():
    """Synthetic: each resumed piece rewrites the restart step with the atoms that were
    just outside the box wrapped, in a cell that shears steadily and flips inside the
    middle piece. The alignments add up over the seams in the boxes they were found in
    (not re-rounded into a later, sheared box), so the path is the true one exactly."""
    from ionmd.analysis.stitching import stitch
    from ionmd.analysis.unwrapping import Piece, fractional, wrap

    rng = np.random.default_rng(7)
    n_frames, n_atoms = 30, 200
    boxes = np.repeat(np.diag([10.0, 10.0, 10.0])[None], n_frames, axis=0)
    xy = 2.0 + 0.25 * np.arange(n_frames)
    xy[xy > 6.0] -= 10.0                                   # the flip: b -> b - a
    boxes[:, 1, 0] = xy
    boxes[:, 2, :2] = [0.5, -0.3]
    # the stored atoms move by their steps, and are wrapped into each frame's cell
    steps = rng.normal(0, 0.1, (n_frames - 1, n_atoms, 3))
    written = [rng.uniform(0, 10, (n_atoms, 3)) @ np.linalg.inv(boxes[0]) % 1.0 @ boxes[0]]
    for t in range(1, n_frames):
        written.append(wrap((written[-1] + steps[t - 1])[None], boxes[t:t + 1])[0])
    written = np.array(written)
    true = written[0] + np.concatenate([np.zeros((1, n_atoms, 3)), np.cumsum(steps, axis=0)])
    # piece ends as the first run wrote them: atoms just inside a face left just outside
    end_a, end_b = written[9].copy(), written[19].copy()
    f = fractional(written[9:10], boxes[9:10])[0]
    near = f[:, 1] < 0.05
    end_a[near] += boxes[9, 1]                             # the shearing cell vector
    f = fractional(written[19:20], boxes[19:20])[0]
    near_b = f[:, 1] > 0.95
    end_b[near_b] -= boxes[19, 1]
    assert near.sum() >= 3 and near_b.sum() >= 3
    pieces = [Piece(np.concatenate([written[:9], end_a[None]]), boxes[:10], np.arange(10)),
              Piece(np.concatenate([written[9:19], end_b[None]]), boxes[9:20], np.arange(9, 20)),
              Piece(written[19:], boxes[19:], np.arange(19, n_frames))]
    joined_piece = stitch(pieces)
    un = joined_piece.unwrapped()
    assert np.abs((un - un[0]) - (true - true[0])).max() < 1e-9
