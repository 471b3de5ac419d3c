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

from ionmd.analysis.run_analysis import analyze_run
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
    # 'lattice none 1.0' after the fcc lattice: deform's lattice units are A again, so
    # 1.1 12.1 is about the centre (6.6) and -5 8 is not (fractions 0.39 off); before, the
    # fcc spacing (4.4) printed earlier was kept: a note for the first, none for the second
    "deform_about_centre_lattice_none": "lattice none 1.0\nfix 1 all nvt temp 1500 1500 0.1\n"
                                        "fix 2 all deform 1 x final 1.1 12.1 remap x",
    "deform_moving_centre_lattice_none": "lattice none 1.0\nfix 1 all nvt temp 1500 1500 0.1\n"
                                         "fix 2 all deform 1 x final -5 8 remap x",
    # a shrink-wrapped face follows the atoms, not the centre (fractions 0.100 off)
    "shrink_wrapped_z": "change_box all boundary p p s\nfix 1 all nvt temp 1500 1500 0.1",
}
MOVES_CENTRE = {"npt_default": False, "npt_fixedpoint": True, "npt_fixedpoint_at_centre": False,
                "deform_about_centre": False, "deform_moving_centre": True,
                "deform_pressure_moving_centre": True, "shrink_wrapped_z": True,
                "deform_about_centre_lattice_none": False,
                "deform_moving_centre_lattice_none": True}
# the command the note must quote
NOTED_WORD = {"npt_fixedpoint": "fixedpoint", "deform_moving_centre": "deform",
              "deform_pressure_moving_centre": "deform/pressure",
              "shrink_wrapped_z": "boundary p p s",
              "deform_moving_centre_lattice_none": "deform 1 x final -5 8"}


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


NO_LATTICE = """units metal
atom_style atomic
region b block 0 10 0 10 0 10 units box
create_box 1 b
create_atoms 1 random 20 1 NULL overlap 2.0
mass 1 6.94
pair_style lj/cut 3.0
pair_coeff * * 0.01 2.0
fix 2 all deform 1 x final {ends} remap x
run 10
print "XLO $(xlo:%.10g) XHI $(xhi:%.10g)"
"""


@pytest.mark.parametrize("ends", ["1 9", "0 9"])
def test_deform_without_a_lattice_command_is_in_angstrom(tmp_path, ends):
    """Without a ``lattice`` command LAMMPS's lattice is ``none 1.0``: deform's default
    lattice units are A. Before, an unknown spacing counted as moving the centre, so a
    deform about it (1 9 in a 0-10 box) was noted. Reference: the box LAMMPS printed."""
    from ionmd.analysis.box_origin import moving_centre_commands

    run_lmp(NO_LATTICE.format(ends=ends), tmp_path, env={"OMP_NUM_THREADS": "1"})
    log = (tmp_path / "log.lammps").read_text()
    lo, hi = (float(w) for w in log.split("\nXLO ")[1].split()[::2][:2])
    centre_moved = abs(0.5 * (lo + hi) - 5.0) > 1e-6
    assert centre_moved == (ends == "0 9")
    assert bool(moving_centre_commands([log], np.full(3, 5.0))) == centre_moved
