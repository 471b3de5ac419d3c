"""An MD run stopped by a time-out that says nothing, as ionmd stops an in-process run
(``--runner module``: ModuleRun.stop, LAMMPS's ``force_timeout``), real LAMMPS (review of
38a0058): its rows stop at the last thermo output before the stop, so they span fewer
steps than its loop line counts, with no ``Wall time limit reached``; the rule that took
such a block for a rerun's dropped every row of the run (the thermo table ended at the
block before, the live step went back). A rerun's rows span one step fewer than the
snapshots it counts (first and last snapshot printed). Reference: the rows LAMMPS
printed, read line by line from its log."""

from __future__ import annotations

import time

import pytest

from ionmd.lammps.module_runner import ModuleRun, check_module_runner
from ionmd.lammps.thermo_log import parse_thermo, thermo_steps
from lammps_cells import lj_units_fcc_cell

INPUT = lj_units_fcc_cell(z_range="0 3") + """thermo_modify flush yes
velocity all create 1.44 87287 loop geom
fix 1 all nve
thermo 1000
run 100000000
print "after the run"
"""


def lammps_rows(log: str) -> tuple[list[int], int]:
    """The steps of the rows under the header (3 numbers a line), and the loop line's count."""
    rows, counted = [], None
    for line in log.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].isdigit():
            rows.append(int(parts[0]))
        elif line.startswith("Loop time of"):
            counted = int(parts[8])
    return rows, counted


@pytest.fixture(scope="module", params=["default", "none"])
def stopped(request, tmp_path_factory):
    check_module_runner()
    folder = tmp_path_factory.mktemp(f"stopped_{request.param}")
    (folder / "in.md").write_text(("echo none\n" if request.param == "none" else "") + INPUT)
    run = ModuleRun(folder, "in.md", "log.md", folder / "screen.md")
    log = folder / "log.md"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        rows, _ = lammps_rows(log.read_text() if log.is_file() else "")
        if rows and rows[-1] >= 2000:
            break
        time.sleep(0.05)
    run.stop()
    assert run.wait() == 0
    return request.param, log.read_text()


def test_the_rows_of_a_stopped_run_are_kept(stopped):
    echo, log = stopped
    rows, counted = lammps_rows(log)
    assert "after the run" in log and "Wall time limit reached" not in log
    assert rows[-1] >= 2000 and rows[-1] - rows[0] < counted - 1   # stopped between rows
    assert parse_thermo(log)["Step"].astype(int).tolist() == rows
    _, blocks = thermo_steps(log.splitlines(), None)
    assert blocks.md_step == rows[-1]
