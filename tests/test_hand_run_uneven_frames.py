"""Frames that runs at several time steps, or held at several thermostat targets, wrote into
one dump (a hand run resumed with ``timestep 0.002`` appending to its ``md.dump``; a
dump on through ``temp 900`` then ``temp 600``): two time steps are refused whatever
--timestep-fs says (ionmd dates a frame by its step at one time step); two targets are a
thermostat ramp's (no D: of neither temperature). Before, the time step was asked for
("give the one of the frames") and either value taken: ``--timestep-fs 1`` dated the
frames here, 0.9 ps long, as 0.6 ps (audit A19: 3.0 ps for a real 4.0 ps);
``--temperature 600`` was taken, and D reported at 600 K, for frames half at 900 K.

A first run at LAMMPS's default time step (no ``timestep`` command: 0.001 ps in units
metal), resumed with ``timestep 0.002``, is refused alike. Before, the unechoed first run
counted for nothing: the echoed 2 fs was taken for every frame, the run reported 1.2 ps
long for 0.3 + 0.6 ps, D of the first run's frames halved, silently.

References: real LAMMPS runs (Li in the holes of a Lennard-Jones Cl crystal), the dump's
own step numbers read with numpy, LAMMPS's own ``dt`` thermo column (the default it ran
at), and the second run analysed alone."""

import json
import re

import numpy as np
import pytest

from hand_run_inputs import MASSES, ROCK_SALT, SPARSE_LI, dump_steps, lj_pair, run_then_resume
from lammps_runner import run_lmp
from ionmd.analysis.run_spec import load_run_spec
from ionmd.cli import main

EVERY, STEPS = 20, 300

_SETUP = ROCK_SALT + SPARSE_LI + MASSES + lj_pair("5.0") + """pair_modify shift yes
write_data start.data
thermo_style custom step temp pe press
thermo 100
velocity all create 900 1234 mom yes rot yes
"""

_FIRST = _SETUP + f"""
timestep 0.001
fix 1 all nvt temp 900 900 0.1
dump d all custom {EVERY} md.dump id type x y z
run {STEPS}
write_restart md.restart
"""

_RESUME = f"""
units metal
read_restart md.restart
timestep 0.002
fix 1 all nvt temp 900 900 0.1
dump d all custom {EVERY} md.dump id type x y z
dump_modify d append yes
thermo_style custom step temp pe press
thermo 100
run {STEPS}
"""

_TWO_TARGETS = _SETUP + f"""
timestep 0.002
fix 1 all nvt temp 900 900 0.1
dump d all custom {EVERY} md.dump id type x y z
run {STEPS}
unfix 1
fix 1 all nvt temp 600 600 0.1
run {STEPS}
"""


@pytest.fixture(scope="module")
def resumed(tmp_path_factory):
    """log.lammps (1 fs, steps 0-300) and log.lammps.1 (read_restart, 2 fs, steps
    300-600) of one md.dump, as a user resuming by hand leaves them."""
    return run_then_resume(tmp_path_factory.mktemp("uneven") / "LiCl" / "900K", _FIRST, _RESUME)


def _analyze(run, capsys, *flags):
    code = main(["analyze", str(run), "--fit-start-ps", "0.1", "--fit-end-ps", "0.4", *flags])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("flags", [(), ("--timestep-fs", "1"), ("--timestep-fs", "2")])
def test_two_time_steps_in_one_dump_are_refused_whatever_is_given(resumed, capsys, flags):
    steps = np.array(dump_steps(resumed / "md.dump"))
    # the dump's frames: 0-300 at 1 fs, then 300-600 at 2 fs, i.e. 0.3 + 0.6 ps; one
    # --timestep-fs dates them 0.6 ps (1 fs) or 1.2 ps (2 fs) long
    assert steps.min() == 0 and steps.max() == 2 * STEPS
    code, err = _analyze(resumed, capsys, *flags)
    assert code == 1, err
    assert ("timestep 0.001 (log.lammps, run 1 from step 0), timestep 0.002 (log.lammps.1, "
            "run 1 after read_restart) (units metal): the frames' clock is uneven") in err
    assert "split the trajectory where they meet" in err
    assert not (resumed / "analysis" / "results.json").exists()


def test_the_discard_the_refusal_names_analyses_the_second_run_alone(resumed, capsys,
                                                                     tmp_path):
    """The discard said leaves the 1 fs run out: the frames then analysed are those of
    the 2 fs run, dated as numpy dates its dump steps, with the D of that run's frames
    split into a folder of their own."""
    _, err = _analyze(resumed, capsys)
    discard = re.search(r"discard_ps ([0-9.]+) \(--discard-ps", err).group(1)
    assert float(discard) == pytest.approx(STEPS * 0.002)      # run 1's steps, 2 fs clock
    from ionmd.analysis.run_analysis import transport_trajectory
    from ionmd.analysis.run_inputs import run_frames

    spec = load_run_spec(resumed, {"discard_ps": float(discard)})
    assert spec.timestep_fs == 2.0
    traj = transport_trajectory(spec, *run_frames(spec))
    steps = np.unique(dump_steps(resumed / "md.dump"))
    kept = steps[steps >= STEPS]
    np.testing.assert_allclose(traj.times_ps, (kept - kept[0]) * 0.002, rtol=0, atol=1e-12)

    alone = tmp_path / "LiCl" / "900K"
    alone.mkdir(parents=True)
    (alone / "start.data").write_text((resumed / "start.data").read_text())
    (alone / "log.lammps").write_text((resumed / "log.lammps.1").read_text())
    text = (resumed / "md.dump").read_text()
    frames = ["ITEM: TIMESTEP\n" + f for f in text.split("ITEM: TIMESTEP\n")[1:]]
    (alone / "md.dump").write_text("".join(f for f in frames
                                           if int(f.split("\n")[1]) >= STEPS))
    assert _analyze(resumed, capsys, "--discard-ps", discard, "--charges", "Li=1,Cl=-1")[0] == 0
    assert _analyze(alone, capsys, "--charges", "Li=1,Cl=-1")[0] == 0
    got = json.loads((resumed / "analysis" / "results.json").read_text())
    ref = json.loads((alone / "analysis" / "results.json").read_text())
    assert got["run_length_ps"] == pytest.approx(ref["run_length_ps"]) == STEPS * 0.002
    assert got["diffusion"][0]["D"] == pytest.approx(ref["diffusion"][0]["D"], rel=1e-6)


@pytest.fixture(scope="module")
def two_targets(tmp_path_factory):
    """One md.dump written at 900 K (steps 0-300), then at 600 K (300-600), 2 fs."""
    run = tmp_path_factory.mktemp("targets") / "LiCl" / "T600"
    run_lmp(_TWO_TARGETS, run)
    return run


def test_two_thermostat_targets_are_asked_for_with_the_discard_that_leaves_one(two_targets,
                                                                                capsys):
    code, err = _analyze(two_targets, capsys)
    assert code == 1, err
    assert "temperature_K is unknown (log.lammps: thermostats at 600, 900 K)" in err
    assert "discard_ps 0.6 (--discard-ps, or run.json): the runs after it" in err   # 300 x 2 fs


@pytest.mark.parametrize("given", ["600", "900"])
def test_frames_held_at_two_targets_give_no_d_of_either(two_targets, capsys, given):
    """Before: --temperature 600 (or 900) was taken, and D over both halves reported at it.
    Now the run is analysed as a ramp's: its length and failure checks, no D, saying why."""
    code, err = _analyze(two_targets, capsys, "--temperature", given)
    assert code == 0, err
    res = json.loads((two_targets / "analysis" / "results.json").read_text())
    assert res["diffusion"] == []
    assert ("log.lammps: thermostats held at 900 K, then 600 K in turn over the first 0.6 ps "
            "of the frames, past the 0 ps discarded (discard_ps)") in res["no_transport"]
    assert "discard_ps 0.6 (--discard-ps, or run.json) leaves the ramp" in res["no_transport"]
    steps = np.unique(dump_steps(two_targets / "md.dump"))
    assert res["run_length_ps"] == pytest.approx((steps[-1] - steps[0]) * 0.002)


def test_the_discard_leaves_the_frames_of_the_last_target(two_targets, capsys):
    """discard_ps 0.6: the 600 K run's frames, at 600 K from the log, with a D."""
    code, err = _analyze(two_targets, capsys, "--discard-ps", "0.6")
    assert code == 0, err
    res = json.loads((two_targets / "analysis" / "results.json").read_text())
    assert res["temperature_K"] == 600 and res["diffusion"][0]["D"] > 0
    assert "no_transport" not in res


_DEFAULT_FIRST = (_FIRST.replace("timestep 0.001\n", "")
                  .replace("thermo_style custom step temp pe press",
                           "thermo_style custom step dt temp pe press"))


@pytest.fixture(scope="module")
def resumed_from_default(tmp_path_factory):
    """As ``resumed``, its first run at LAMMPS's default time step (no timestep command)."""
    return run_then_resume(tmp_path_factory.mktemp("default_dt") / "LiCl" / "900K",
                           _DEFAULT_FIRST, _RESUME)


def test_a_run_at_the_default_time_step_then_another_is_refused(resumed_from_default, capsys):
    resumed = resumed_from_default
    log = (resumed / "log.lammps").read_text()
    assert not re.search(r"^timestep", log, re.M)       # the first run sets none ...
    rows = re.findall(r"^\s+(\d+)\s+(\S+)\s+\S+\s+\S+\s+\S+\s*$", log, re.M)
    assert rows and {float(dt) for _, dt in rows} == {0.001}    # ... and ran at 0.001 ps
    steps = dump_steps(resumed / "md.dump")
    assert max(steps) == 2 * STEPS          # 300 steps at 1 fs, 300 at 2 fs: 0.9 ps
    code = main(["analyze", str(resumed), "--fit-start-ps", "0.1", "--fit-end-ps", "0.4"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert ("timestep 0.001 (LAMMPS's default, log.lammps, run 1 from step 0), timestep "
            "0.002 (log.lammps.1, run 1 after read_restart) (units metal): the frames' "
            "clock is uneven") in err
    assert not (resumed / "analysis" / "results.json").exists()


def test_the_discard_it_names_leaves_the_second_run_alone(resumed_from_default, capsys):
    resumed = resumed_from_default
    code = main(["analyze", str(resumed), "--fit-start-ps", "0.1", "--fit-end-ps", "0.2"])
    err = capsys.readouterr().err
    discard = re.search(r"discard_ps ([\d.]+)", err)[1]
    assert float(discard) == pytest.approx(STEPS * 0.002)   # run 1's steps on the 2 fs clock
    code = main(["analyze", str(resumed), "--discard-ps", discard, "--fit-start-ps", "0.1",
                 "--fit-end-ps", "0.2"])
    err = capsys.readouterr().err
    assert code == 0, err
    res = json.loads((resumed / "analysis" / "results.json").read_text())
    assert res["timestep_fs"] == 2.0
    assert res["run_length_ps"] == pytest.approx(STEPS * 0.002, abs=1e-9)
