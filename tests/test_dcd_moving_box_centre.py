"""A DCD stores no box origin: its frames are placed about the data file's box centre
(:func:`ionmd.analysis.trajectory.box_origins`), right under LAMMPS's default ``fix npt``
(it dilates about the centre), wrong where the run moves the centre (``fixedpoint``,
``fix deform ... final`` off the centre). The run's results say so (``dcd_origin``) where
its logs echo such a command, and only there. Reference: LAMMPS's own ``xs ys zs`` dumped
in the same run."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ionmd.analysis.report import analyze_run
from ionmd.analysis.run_spec import load_run_spec
from ionmd.analysis.trajectory import read_frames
from lammps_cells import two_type_lj_cell
from lammps_runner import run_lmp

N_ATOMS = 108
TYPE_MAP = {1: "Li", 2: "Cl"}

# the cell spans x from 0 to 13.2 A (fcc 4.4, 3 cells): centre 6.6; fix deform's ends
# are in lattice units (4.4 A) unless 'units box' 
BAROSTATS = {
    "npt_default": "fix 1 all npt temp 1500 1500 0.1 tri 100000 100000 0.2",
    "npt_fixedpoint": "fix 1 all npt temp 1500 1500 0.1 tri 100000 100000 0.2 fixedpoint 0 0 0",
    # the centre itself, through a variable (LAMMPS echoes the line as written and
    # substituted)
    "npt_fixedpoint_at_centre": "variable c equal 6.6\n"
                                "fix 1 all npt temp 1500 1500 0.1 tri 100000 100000 0.2 "
                                "fixedpoint ${c} ${c} ${c}",
    "deform_about_centre": "fix 1 all nvt temp 1500 1500 0.1\n"
                           "fix 2 all deform 1 x final 0.25 2.75 remap x",
    "deform_moving_centre": "fix 1 all nvt temp 1500 1500 0.1\n"
                            "fix 2 all deform 1 x final 0.0 11.0 remap x units box",
    # LAMMPS's deform/pressure takes deform's final/delta styles (fractions 0.100 off)
    "deform_pressure_moving_centre": "fix 1 all nvt temp 1500 1500 0.1\n"
                                     "fix 2 all deform/pressure 1 x final 0.0 11.0 remap x "
                                     "units box",
    # a shrink-wrapped face follows the atoms, not the centre (fractions 0.100 off)
    "shrink_wrapped_z": "change_box all boundary p p s\nfix 1 all nvt temp 1500 1500 0.1",
}
MOVES_CENTRE = {"npt_default": False, "npt_fixedpoint": True, "npt_fixedpoint_at_centre": False,
                "deform_about_centre": False, "deform_moving_centre": True,
                "deform_pressure_moving_centre": True, "shrink_wrapped_z": True}
# the command the note must quote
NOTED_WORD = {"npt_fixedpoint": "fixedpoint", "deform_moving_centre": "deform",
              "deform_pressure_moving_centre": "deform/pressure",
              "shrink_wrapped_z": "boundary p p s"}


def _script(barostat: str) -> str:
    return two_type_lj_cell("fcc 4.4") + f"""velocity all create 1500 1
write_data s.data
timestep 0.002
{barostat}
dump d all dcd 20 t.dcd
dump s all custom 20 s.lammpstrj id type xs ys zs
dump_modify s sort id format float %.17g
run 400
"""


def _scaled(path):
    """LAMMPS's xs ys zs of every frame (sorted by id), (T, N, 3)."""
    frames = path.read_text().split("ITEM: TIMESTEP\n")[1:]
    rows = [[ln.split() for ln in f.splitlines()[8:8 + N_ATOMS]] for f in frames]
    return np.array(rows, dtype=np.float64)[:, :, 2:5]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = {}
    for name, barostat in BAROSTATS.items():
        workdir = tmp_path_factory.mktemp(name)
        run_lmp(_script(barostat), workdir, env={"OMP_NUM_THREADS": "1"})
        (workdir / "run.json").write_text(json.dumps({
            "temperature_K": 1500, "timestep_fs": 2.0, "trajectory": ["t.dcd"],
            "type_map": {"1": "Li", "2": "Cl"}, "mobile_species": ["Li"]}))
        out[name] = workdir
    return out


def _fraction_gap(run) -> float:
    """The largest gap (modulo the cell) between the DCD's fractions and LAMMPS's xs ys zs."""
    piece, _, _ = read_frames(run / "s.data", [run / "t.dcd"], type_map=TYPE_MAP)
    gap = piece.wrapped_fractions() - _scaled(run / "s.lammpstrj")
    return float(np.abs(gap - np.round(gap)).max())


@pytest.mark.parametrize("name", list(BAROSTATS))
def test_results_note_the_guessed_origin_where_the_dcd_frame_is_off(runs, name, tmp_path):
    run = runs[name]
    results = analyze_run(load_run_spec(run), tmp_path)
    gap = _fraction_gap(run)
    if MOVES_CENTRE[name]:
        assert gap > 0.01          # the guessed frame is off: the note must say so
        assert "dcd_origin" in results
        assert NOTED_WORD[name] in results["dcd_origin"]
    else:
        assert gap < 1e-4          # float32 rounding of the DCD only: no note
        assert "dcd_origin" not in results
    assert json.loads((tmp_path / "results.json").read_text()).get("dcd_origin") \
        == results.get("dcd_origin")


@pytest.mark.parametrize("name", ["npt_fixedpoint", "npt_default"])
def test_ionmd_analyze_prints_the_note(runs, name, tmp_path, capsys):
    """The note is printed with the run's lines, not only kept in results.json."""
    from ionmd.cli import main

    main(["analyze", str(runs[name]), "-o", str(tmp_path / "out")])
    printed = capsys.readouterr().out
    assert ("NOTE:" in printed and "fixedpoint" in printed) == MOVES_CENTRE[name], printed
