"""Whether a run moved the box centre a DCD's frames are placed about is read from the
numbers its logs echo (a ``fixedpoint``, ``fix deform ... final`` ends in lattice units
times the printed ``Lattice spacing``), compared with the data file's centre. LAMMPS
prints the spacing to 8 digits: in a cell 1000 A from the origin the ends about the
centre came out 2.8e-6 A off it, past the 1e-6 A then allowed, and the results noted a
moved centre that had not moved. The comparison now allows the DCD's own resolution at
those coordinates (float32: 1.3e-4 A at 1080 A): a centre moved by less moves the frame
by nothing the DCD can show.

Reference: the same LAMMPS run's box bounds (printed to 17 digits) and its ``xs ys zs``
dump of the same frames."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ionmd.analysis.run_spec import load_run_spec
from ionmd.analysis.box_origin import dcd_origin_note
from ionmd.analysis.trajectory import read_frames
from lammps_cells import two_type_lj_cell
from lammps_runner import run_lmp

N_ATOMS = 432
TYPE_MAP = {1: "Li", 2: "Cl"}
SPACING = 4.123456789          # printed 4.1234568: 1.1e-8 A off per lattice unit

# x from 250 to 262 lattice units (1031 to 1080 A); deform grows it by half a lattice
# unit at either end, about its centre (256 lattice units) in LAMMPS's own arithmetic
RUN = two_type_lj_cell(f"fcc {SPACING}", region="block 250 262 0 3 0 3") + """
velocity all create 300 1
write_data s.data
timestep 0.002
fix 1 all nvt temp 300 300 0.1
fix 2 all deform 1 x final 249.5 262.5 remap x
dump d all dcd 20 t.dcd
dump s all custom 20 s.lammpstrj id type xs ys zs
dump_modify s sort id format float %.17g
thermo 100
run 200
print "XLO_XHI $(xlo:%.17g) $(xhi:%.17g)"
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("far_cell")
    run_lmp(RUN, workdir, env={"OMP_NUM_THREADS": "1"})
    (workdir / "run.json").write_text(json.dumps({
        "temperature_K": 300, "timestep_fs": 2.0, "trajectory": ["t.dcd"],
        "type_map": {"1": "Li", "2": "Cl"}, "mobile_species": ["Li"]}))
    return workdir


def _scaled(path):
    frames = path.read_text().split("ITEM: TIMESTEP\n")[1:]
    rows = [[ln.split() for ln in f.splitlines()[8:8 + N_ATOMS]] for f in frames]
    return np.array(rows, dtype=np.float64)[:, :, 2:5]


def test_a_deform_about_the_centre_of_a_far_cell_gets_no_note(run):
    log = (run / "log.lammps").read_text()
    assert "Lattice spacing in x,y,z = 4.1234568 " in log      # 8 digits: the case
    # LAMMPS kept the centre: its final bounds about the data file's centre
    lo, hi = (float(w) for w in log.split("\nXLO_XHI ")[1].split()[:2])
    data_lo_hi = [ln.split()[:2] for ln in (run / "s.data").read_text().splitlines()
                  if ln.split()[2:4] == ["xlo", "xhi"]][0]
    assert abs(0.5 * (lo + hi) - 0.5 * sum(map(float, data_lo_hi))) < 1e-9
    assert hi - lo > 12.5 * SPACING                             # the box did grow
    # the DCD's frame, placed about that centre, is LAMMPS's to float32 rounding
    piece, _, _ = read_frames(run / "s.data", [run / "t.dcd"], type_map=TYPE_MAP)
    gap = piece.wrapped_fractions() - _scaled(run / "s.lammpstrj")
    assert np.abs(gap - np.round(gap)).max() < 1e-5
    spec = load_run_spec(run)
    assert dcd_origin_note(spec.trajectory, spec.data_file, spec.logs) is None


@pytest.mark.parametrize("ends, noted", [("249.5 262.5", False), ("249.5 262.4999", True)])
def test_a_centre_off_by_more_than_the_dcd_resolves_is_still_noted(ends, noted):
    """2.1e-4 A off (0.0001 lattice units / 2) at 1080 A, where float32 resolves 1.3e-4."""
    from ionmd.analysis.box_origin import moving_centre_commands

    log = (f"Lattice spacing in x,y,z = 4.1234568 4.1234568 4.1234568\n"
           f"fix 2 all deform 1 x final {ends} remap x\n")
    centre = np.array([256 * SPACING, 1.5 * SPACING, 1.5 * SPACING])
    assert bool(moving_centre_commands([log], centre)) == noted
