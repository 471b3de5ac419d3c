"""A DCD stores no box origin; its frames are placed about the data file's box centre
(:func:`ionmd.analysis.trajectory.box_origins`). Where the run's logs are there, they say
whether the run moved that centre (``dcd_origin`` only then); where they are missing,
nothing could tell, and before, the results said nothing either. Now they say what was
assumed (``dcd_origin``), whether or not the assumption holds.

Reference: the same LAMMPS runs' ``custom`` dumps of the same frames (each frame's own
origin and LAMMPS's xs ys zs)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ionmd.analysis.run_analysis import analyze_run
from ionmd.analysis.run_spec import load_run_spec
from ionmd.analysis.trajectory import read_frames, read_lammps_trajectory
from lammps_cells import two_type_lj_cell
from lammps_runner import run_lmp

N_ATOMS = 108
TYPE_MAP = {1: "Li", 2: "Cl"}

# the cell spans 0 to 13.2 A (fcc 4.4, 3 cells, orthogonal: the dumps' bounds are the
# cell's): centre 6.6
BOX_MOTIONS = {
    "npt_about_centre": "fix 1 all npt temp 1500 1500 0.1 aniso 100000 100000 0.2",
    "deform_moving_centre": "fix 1 all nvt temp 1500 1500 0.1\n"
                            "fix 2 all deform 1 x final 0.0 11.0 remap x units box",
}


def _script(motion: str) -> str:
    return two_type_lj_cell("fcc 4.4", region="block 0 3 0 3 0 3") + f"""velocity all create 1500 1
write_data s.data
timestep 0.002
{motion}
dump d all dcd 20 t.dcd
dump s all custom 20 s.lammpstrj id type xs ys zs
dump_modify s sort id format float %.17g
run 400
"""


def _dump_frames(path):
    """Per frame: the box centre from BOX BOUNDS, and LAMMPS's xs ys zs."""
    frames = path.read_text().split("ITEM: TIMESTEP\n")[1:]
    bounds = np.array([[ln.split()[:2] for ln in f.splitlines()[4:7]] for f in frames],
                      dtype=np.float64)
    rows = [[ln.split() for ln in f.splitlines()[8:8 + N_ATOMS]] for f in frames]
    return bounds.mean(axis=2), np.array(rows, dtype=np.float64)[:, :, 2:5]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = {}
    for name, motion in BOX_MOTIONS.items():
        workdir = tmp_path_factory.mktemp(name)
        run_lmp(_script(motion), workdir, env={"OMP_NUM_THREADS": "1"})
        (workdir / "run.json").write_text(json.dumps({
            "temperature_K": 1500, "timestep_fs": 2.0, "trajectory": ["t.dcd"],
            "type_map": {"1": "Li", "2": "Cl"}, "mobile_species": ["Li"]}))
        out[name] = workdir
    return out


def _results(run, out, with_logs: bool) -> dict:
    """The run analysed with its log.lammps, or with it moved aside."""
    log, aside = run / "log.lammps", run / "kept.log"
    if not with_logs:
        log.rename(aside)
    try:
        return analyze_run(load_run_spec(run), out)
    finally:
        if aside.exists():
            aside.rename(log)


@pytest.mark.parametrize("name", list(BOX_MOTIONS))
def test_a_dcd_without_logs_says_which_origin_it_assumed(runs, name, tmp_path):
    run = runs[name]
    results = _results(run, tmp_path / "alone", with_logs=False)
    note = results.get("dcd_origin")
    assert note and "logs" in note and "missing" in note
    # the centre it names is the data file's, the one the frames were placed about
    lo_hi = [ln.split()[:2] for ln in (run / "s.data").read_text().splitlines()
             if ln.split()[2:4] in (["xlo", "xhi"], ["ylo", "yhi"], ["zlo", "zhi"])]
    centre = np.array(lo_hi, dtype=np.float64).mean(axis=1)
    assert f"({', '.join(f'{c:.4f}' for c in centre)}) A" in note
    # right where LAMMPS kept the centre there (npt), off where it moved it (deform):
    # the note stands for both, since without logs nothing tells them apart
    dump_centres, scaled = _dump_frames(run / "s.lammpstrj")
    piece, _, _ = read_frames(run / "s.data", [run / "t.dcd"], type_map=TYPE_MAP)
    gap = piece.wrapped_fractions() - scaled
    gap = float(np.abs(gap - np.round(gap)).max())
    if name == "npt_about_centre":
        assert np.abs(dump_centres - centre).max() < 1e-6 and gap < 1e-4
    else:
        assert np.abs(dump_centres - centre).max() > 0.5 and gap > 0.01
    assert json.loads((tmp_path / "alone" / "results.json").read_text())["dcd_origin"] == note


@pytest.mark.parametrize("name", list(BOX_MOTIONS))
def test_the_origin_leaves_displacements_alone(runs, name):
    """What the note says of MSD: the DCD's, about a guessed origin (wrong under the
    deform), is the dump's, about each frame's own, to the DCD's float32 rounding."""
    run = runs[name]
    msd = []
    for traj in ("t.dcd", "s.lammpstrj"):
        t = read_lammps_trajectory(run / "s.data", [run / traj], timestep_fs=2.0,
                                   type_map=TYPE_MAP)
        msd.append(((t.positions - t.positions[0]) ** 2).sum(axis=-1).mean(axis=-1))
    assert msd[1][-1] > 1.0
    assert np.allclose(msd[0], msd[1], rtol=1e-4, atol=1e-6)
