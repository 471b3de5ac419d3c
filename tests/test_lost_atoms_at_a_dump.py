"""Lost atoms found by a DCD dump, run for real (rock-salt NaCl, tests/failure_nacl_runs.py).
LAMMPS writes dumps before the thermo output within a step; where the next dump comes before
the next thermo output, LAMMPS stops with ``ERROR: Dump dcd of non-matching # of atoms``, not
``Lost atoms``. An atom kicked out at step 1123 under ``thermo 500`` and ``dump ... dcd 100``
is found gone at step 1200, the last step the run's ``fix print`` of every step wrote: the
dump after the last frame written (1100), not after the last thermo row (1000).

Before, nothing read that message: ``ionmd analyze`` reported "no failure" for the run.
"""

from __future__ import annotations

import pytest

from failure_nacl_runs import analyze, lmp, nacl_dir
from ionmd.lammps.dcd import dcd_last_step
from ionmd.lammps.lost_atoms import find_lost_atoms

KICK, DUMP, THERMO, END = 1123, 100, 500, 1500


@pytest.fixture(scope="module", params=["echoed", "echo none"])
def run(request, tmp_path_factory):
    folder = nacl_dir(tmp_path_factory.mktemp("dcd_loss") / "nacl", temperature_K=1000.0,
                      dump_every=DUMP)
    echo = "echo none\n" if request.param == "echo none" else ""
    lmp(folder, echo + "velocity all create 1000 12345 mom yes rot no dist gaussian\n"
        f"fix 1 all nvt temp 1000 1000 0.1\nthermo {THERMO}\n"
        f"dump traj all dcd {DUMP} md.dcd\n"
        f"variable kick equal (step>={KICK})*1.0e5\ngroup one id 1\n"
        "fix kick one addforce v_kick 0.0 0.0\n"
        'fix p all print 1 "AT $(step)" file steps.txt screen no\n'
        f"run {END}\n", check=False)
    return folder


def lammps_own_step(folder) -> int:
    """The step at which LAMMPS stopped: the last one its fix print wrote."""
    return int((folder / "steps.txt").read_text().split()[-1])


def test_the_dump_finds_the_loss_at_its_step(run):
    text = (run / "log.lammps").read_text()
    assert "Dump dcd of non-matching # of atoms" in text and "Lost atoms" not in text
    last_frame = dcd_last_step(run / "md.dcd")
    assert last_frame == 1100
    found = find_lost_atoms(text, dump_every=DUMP, last_frame=last_frame)
    assert found.by_dump and found.after_row == 1000
    assert found.step == lammps_own_step(run) == 1200 > KICK


def test_analyze_reports_it(run):
    report = analyze(run)
    assert report["failed"]
    lost = next(e for e in report["events"] if e["mode"] == "lost_atoms")
    assert lost["step"] == lammps_own_step(run)
    assert "found at the next dump" in lost["detail"]
