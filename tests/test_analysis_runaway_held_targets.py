"""A hand run that equilibrates hot and then runs its production colder (a melt-quench:
``fix nvt temp 1500 1500``, ``run``, ``unfix``, ``fix nvt temp 600 600``, ``run``; real
LAMMPS, 64-atom NaCl) is no temperature runaway: its thermostat held every row where it
was told to. ``ionmd analyze`` compared the equilibration's 1500 K rows with the
production's 600 K target and flagged ``temperature_runaway`` at step 300, before the
first frame (at -0.1 ps), which left the run out of every fit as failed; and the first
rows of the production, still cooling from 1500 K, read as a runaway too.

The runaway event's ``target_temperature_K`` is the target its rows were compared with:
that of the ``run`` whose thermostat held them, not the run's own target (run.json). A hand
run whose 300 K equilibration runs away (energy poured in faster than a weak thermostat
takes it out) before a 600 K production reported the runaway "at target 600 K".

Reference: the log's own rows against the targets its echoed ``fix`` commands set for
each ``run``; and the same run with a real runaway (energy poured into the production
faster than its thermostat takes it out) still flagged, in its production, where its rows
say; a runaway in the equilibration reported with the ``fix nvt`` target the input echoes
for the run whose steps hold it, and the 5-row mean the log's own rows give there.
"""

from __future__ import annotations

import re

import pytest

from failure_nacl_runs import analyze, lmp, nacl_dir

QUENCH = """velocity all create 1500 42 dist gaussian
thermo 20
fix 1 all nvt temp 1500 1500 0.1
run 400
unfix 1
fix 2 all nvt temp 600 600 {damp}
{heat}
dump 1 all custom 20 md.dump id type x y z
run 1600
"""


def _rows(log: str) -> list[tuple[int, float]]:
    """(step, Temp) of the log's thermo rows (thermo_style custom step time temp ...)."""
    num = r"[-+.\deE]+"
    row = rf"(?m)^\s*(\d+)\s+{num}\s+({num})(?:\s+{num}){{6}}\s*$"     # 9 columns
    return [(int(m[1]), float(m[2])) for m in re.finditer(row, log)]


def _means(rows: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """(last step, mean Temp) of each 5 consecutive rows: the check's running mean."""
    return [(rows[k + 4][0], sum(t for _, t in rows[k:k + 5]) / 5)
            for k in range(len(rows) - 4)]


@pytest.fixture(scope="module")
def quench(tmp_path_factory):
    run = nacl_dir(tmp_path_factory.mktemp("quench") / "melt_quench", reps=(2, 2, 2),
                   temperature_K=600.0, dump_every=20)
    lmp(run, QUENCH.format(damp=0.1, heat=""))
    return run


def test_a_hot_equilibration_then_a_colder_production_is_no_runaway(quench):
    rows = _rows((quench / "log.lammps").read_text())
    hot = [t for s, t in rows if 200 <= s <= 400]
    assert sum(hot) / len(hot) > 2 * 600    # the equilibration's rows: above 2 x 600 K
    failure = analyze(quench)
    assert failure["modes"] == [], failure["events"]


def test_a_runaway_in_the_production_is_still_flagged(quench, tmp_path):
    run = nacl_dir(tmp_path / "heated", reps=(2, 2, 2), temperature_K=600.0, dump_every=20)
    # energy poured in (fix heat, 20 eV/ps) faster than a weak thermostat takes it out
    lmp(run, QUENCH.format(damp=10.0, heat="fix 3 all heat 1 20.0"))
    rows = _rows((run / "log.lammps").read_text())
    production = [(s, t) for s, t in rows if s > 400]
    # the first production row after which 5 rows average above 2 x 600 K and keep rising
    means = _means(production)
    failure = analyze(run)
    assert failure["modes"] == ["temperature_runaway"]
    step = failure["first"]["step"]
    assert step > 400                                  # in the production
    hot = [s for s, m in means if m > 1200]
    assert hot and hot[0] <= step <= hot[0] + 100


RESET = """velocity all create 300 42 dist gaussian
thermo 20
fix 1 all nvt temp 300 300 0.1
run 400
unfix 1
reset_timestep 0
fix 2 all nvt temp 1500 1500 0.1
dump 1 all custom 20 md.dump id type x y z
run 1600
"""


def test_a_cold_equilibration_before_reset_timestep_leaves_the_production_its_target(tmp_path):
    """After ``reset_timestep 0`` the production's rows are kept at the steps the
    equilibration's also covered: they are compared with the production's 1500 K, not
    with the equilibration's 300 K."""
    run = nacl_dir(tmp_path / "reset", reps=(2, 2, 2), temperature_K=1500.0, dump_every=20)
    lmp(run, RESET)
    rows = _rows((run / "log.lammps").read_text())
    start = max(k for k, (s, _) in enumerate(rows) if s == 0)      # the production's step 0
    production = [t for s, t in rows[start:] if 100 <= s <= 400]
    assert sum(production) / len(production) > 2 * 300     # above twice the equilibration's
    failure = analyze(run)
    assert failure["modes"] == [], failure["events"]


HOT_EQUILIBRATION = """velocity all create 300 42 dist gaussian
thermo 20
fix 1 all nvt temp 300 300 10.0
fix 3 all heat 1 20.0
run 1000
unfix 3
unfix 1
fix 2 all nvt temp 600 600 0.1
dump 1 all custom 20 md.dump id type x y z
run 400
"""


def test_a_runaway_in_the_equilibration_reports_the_equilibrations_target(tmp_path):
    run = nacl_dir(tmp_path / "hot_eq", reps=(2, 2, 2), temperature_K=600.0, dump_every=20)
    lmp(run, HOT_EQUILIBRATION)
    rows = _rows((run / "log.lammps").read_text())
    equilibration = [(s, t) for s, t in rows if s <= 1000]
    means = _means(equilibration)
    hot = [s for s, m in means if m > 2 * 300]
    assert hot and hot[0] < 1000        # the equilibration itself ran away above 2 x 300 K
    failure = analyze(run)
    first = failure["first"]
    assert first["mode"] == "temperature_runaway"
    assert first["step"] <= 1000                          # in the equilibration's steps
    assert first["target_temperature_K"] == 300.0         # its fix nvt's, not run.json's 600
    assert "target 300 K" in first["detail"]
