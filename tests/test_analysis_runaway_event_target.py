"""The runaway event's ``target_temperature_K`` is the target its rows were compared with:
that of the ``run`` whose thermostat held them (c1fb498/e491ffb made the check compare each
thermo row with its own run block's target), not the run's own target (run.json). A hand
run whose 300 K equilibration runs away (energy poured in faster than a weak thermostat
takes it out) before a 600 K production reported the runaway "at target 600 K".

Real LAMMPS (64-atom NaCl, tests/failure_nacl_runs.py); reference: the ``fix nvt`` target
the input echoes for the run whose steps hold the event, and the 5-row mean the log's own
rows give there.
"""

from __future__ import annotations

import re

from failure_nacl_runs import analyze, lmp, nacl_dir

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
    num = r"[-+.\deE]+"
    rows = [(int(m[1]), float(m[2])) for m in re.finditer(
        rf"(?m)^\s*(\d+)\s+{num}\s+({num})(?:\s+{num}){{6}}\s*$", (run / "log.lammps").read_text())]
    equilibration = [(s, t) for s, t in rows if s <= 1000]
    means = [(equilibration[k + 4][0], sum(t for _, t in equilibration[k:k + 5]) / 5)
             for k in range(len(equilibration) - 4)]
    hot = [s for s, m in means if m > 2 * 300]
    assert hot and hot[0] < 1000        # the equilibration itself ran away above 2 x 300 K
    failure = analyze(run)
    first = failure["first"]
    assert first["mode"] == "temperature_runaway"
    assert first["step"] <= 1000                          # in the equilibration's steps
    assert first["target_temperature_K"] == 300.0         # its fix nvt's, not run.json's 600
    assert "target 300 K" in first["detail"]
