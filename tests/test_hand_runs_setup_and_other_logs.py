"""Which runs of a hand-written LAMMPS input wrote the frames (``run_spec.run_blocks``),
read from real LAMMPS logs:

* a ``run 0`` (a setup, a single point) at the default 1 fs before a production at 2 fs,
  its dump defined before it: LAMMPS writes its step-0 frame, so the two time steps were
  both "of the frames" and the run was refused ('timestep 0.001, 0.002: give the one of
  the frames'); a run of no step moves no atom, and the production's 2 fs is taken. The
  production runs in a ``label``/``next``/``jump`` loop and ends with ``run N upto``,
  its settings set in an ``include``d file: every run of it is at 2 fs and 900 K.
* an equilibration at 1 fs and 900 K dumping ``equil.dump``, then ``log log.prod.lammps``
  and the production at 2 fs dumping ``md.dump``: the production's log, opened by the
  ``log`` command of the same LAMMPS process, was read from nothing (refused: 'no
  'units' command echoed', 'no thermostat in force'); it now goes on from the settings
  in force where the first log opened it, and the production's 2 fs and 900 K are taken.
  With the production's log gone, the equilibration's settings were taken for the
  frames of md.dump (1 fs: D twice the true one, no word); now the time step and
  temperature are asked for, naming the files the logs' runs dump.

* an equilibration ramped 300 -> 900 K dumping ``equil.dump``, ``write_restart``, ``clear``,
  ``read_restart`` and a production at 900 K dumping ``md.dump``: ``clear`` (a command
  of one word) was not read, so the equilibration's thermostat and dump were still "in
  force" over the production (refused: 'thermostats at 300-900, 900 K').

* a resumed piece's log (``units metal``, ``read_restart``, no ``timestep``) was said to
  run at "LAMMPS's default 1 fs" where the restart file's 2 fs was in force (a user
  following it gets D twice the true one); it now says the time step is the restart
  file's, which the log does not say.

References: the input scripts (what each run was set to) and LAMMPS's own dump steps.
"""

from __future__ import annotations

import shutil

import pytest

from hand_run_inputs import LJ_COEFFS, LJ_ROCK_SALT, dump_steps
from lammps_runner import run_lmp
from ionmd.analysis.run_spec import load_run_spec
from ionmd.lammps.echoed_input import run_blocks
from ionmd.errors import AnalysisError

SETUP_RUN = LJ_ROCK_SALT + """
dump d all custom 20 md.dump id type x y z
run 0
include production.lmp
variable i loop 2
label loop
run 60
next i
jump SELF loop
run 200 upto
"""

PRODUCTION = """
velocity all create 900 1
timestep 0.002
fix 1 all nvt temp 900 900 0.1
"""

TWO_LOGS = LJ_ROCK_SALT + """
timestep 0.001
velocity all create 900 1
fix 1 all nvt temp 900 900 0.1
dump e all custom 20 equil.dump id type x y z
run 100
undump e
log log.prod.lammps
timestep 0.002
dump d all custom 20 md.dump id type x y z
run 100
"""

CLEARED = LJ_ROCK_SALT + """
timestep 0.001
velocity all create 300 1
fix eq all nvt temp 300 900 0.1
dump e all custom 20 equil.dump id type x y z
run 100
write_restart eq.restart
clear
read_restart eq.restart
""" + LJ_COEFFS + """timestep 0.002
fix prod all nvt temp 900 900 0.1
dump d all custom 20 md.dump id type x y z
run 100
"""

CHARGES = {"charges": {"Li": 1, "Cl": -1}}


@pytest.fixture(scope="module")
def setup_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("setup") / "LiCl" / "T900"
    folder.mkdir(parents=True)
    (folder / "production.lmp").write_text(PRODUCTION)
    run_lmp(SETUP_RUN, folder)
    return folder


def test_a_run_of_no_step_is_of_no_frame_interval(setup_run):
    assert dump_steps(setup_run / "md.dump") == list(range(0, 201, 20))   # run 0's frame too
    blocks = run_blocks((setup_run / "log.lammps").read_text())
    assert [(b.timestep, b.thermostats, b.dumps) for b in blocks] == (
        [(0.002, ((900.0, 900.0),), ("md.dump",))] * 3)
    spec = load_run_spec(setup_run, CHARGES)
    assert (spec.timestep_fs, spec.temperature_K) == (2.0, 900.0)


@pytest.fixture(scope="module")
def two_logs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("logs") / "LiCl" / "T900"
    run_lmp(TWO_LOGS, folder)
    return folder


def test_the_production_log_gives_the_frames_settings(two_logs):
    assert dump_steps(two_logs / "md.dump") == list(range(100, 201, 20))
    spec = load_run_spec(two_logs, {**CHARGES, "trajectory": ["md.dump"]})
    assert spec.timestep_fs == 2.0 and spec.temperature_K == 900.0


def test_logs_whose_runs_dump_other_files_say_nothing_of_the_frames(two_logs, tmp_path):
    alone = tmp_path / "T900"
    shutil.copytree(two_logs, alone)
    (alone / "log.prod.lammps").unlink()        # the production's log lost
    with pytest.raises(AnalysisError) as refused:
        load_run_spec(alone, {**CHARGES, "trajectory": ["md.dump"]})
    said = str(refused.value)
    assert "timestep_fs is unknown" in said and "temperature_K is unknown" in said
    assert "no run dumps md.dump: their dumps write equil.dump" in said
    spec = load_run_spec(alone, {**CHARGES, "trajectory": ["md.dump"], "timestep_fs": 2.0,
                                 "temperature_K": 900.0})
    assert spec.timestep_fs == 2.0


def test_clear_forgets_the_fixes_and_dumps_before_it(tmp_path):
    folder = tmp_path / "LiCl" / "T900"
    run_lmp(CLEARED, folder)
    eq, prod = run_blocks((folder / "log.lammps").read_text())
    assert (eq.timestep, eq.thermostats, eq.dumps) == (0.001, ((300.0, 900.0),), ("equil.dump",))
    assert (prod.timestep, prod.thermostats, prod.dumps) == (0.002, ((900.0, 900.0),),
                                                             ("md.dump",))
    spec = load_run_spec(folder, {**CHARGES, "trajectory": ["md.dump"]})
    assert (spec.timestep_fs, spec.temperature_K) == (2.0, 900.0)


RESUMED = """
units metal
read_restart md.restart
""" + LJ_COEFFS + """fix 1 all nvt temp 900 900 0.1
dump d all custom 20 md.dump id type x y z
run 100
"""


def test_a_resumed_pieces_time_step_is_the_restart_files(tmp_path):
    folder = tmp_path / "LiCl" / "T900"
    run_lmp(LJ_ROCK_SALT + "timestep 0.002\nvelocity all create 900 1\nrun 40\n"
            "write_restart md.restart\n", folder)
    run_lmp(RESUMED, folder)        # its log.lammps replaces the first's
    log = (folder / "log.lammps").read_text()
    assert "units metal" in log and "read_restart" in log and "\ntimestep" not in log
    assert dump_steps(folder / "md.dump") == list(range(40, 141, 20))
    with pytest.raises(AnalysisError) as refused:
        load_run_spec(folder, {**CHARGES, "temperature_K": 900.0})
    said = str(refused.value)
    assert "no timestep after read_restart: the restart file's" in said
    assert "1 fs" not in said
