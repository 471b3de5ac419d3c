"""One rule for the ramps a hand run's logs echo over the runs that wrote its frames, a
thermostat's (``fix nvt temp 300 600``) as a barostat's (``fix npt ... iso 1 5000``):
where the ramped run's frames lie inside the discarded start (``discard_ps``) the frames
after it are analysed, and a note says so; where they reach into the analysed frames,
no D nor sigma (``no_transport``), naming the ramp and the discard that would leave it
out. Before: a barostat ramp gave no D whatever the discard, and a thermostat ramp with
``--temperature`` given was analysed over the ramp with a note only (and without it the
temperature was asked for, though the frames after the discard are all at 600 K).

References: real LAMMPS runs (a Lennard-Jones LiCl, units metal) whose input
ramps for 250 steps then holds for 1000 into one dump: the ramp ends 0.5 ps into the
frames (LAMMPS's own dump steps say so), so a 0.5 ps discard leaves it out, 0.25 ps
does not."""

from __future__ import annotations

import json

import pytest

from ionmd.cli import main
from lammps_runner import run_lmp
from hand_run_inputs import LJ_ROCK_SALT, dump_steps    # 64-atom LJ LiCl, units metal

DT_PS, RAMP, HELD, EVERY = 0.002, 250, 1000, 25

RAMPS = {
    "thermostat": ("fix 1 all nvt temp 300 600 0.1", "fix 1 all nvt temp 600 600 0.1"),
    "barostat": ("fix 1 all npt temp 600 600 0.1 iso 1 5000 1.0",
                 "fix 1 all npt temp 600 600 0.1 iso 5000 5000 1.0"),
}
FLAGS = ["--charges", "Li=1,Cl=-1", "--fit-start-ps", "0.1", "--window-ps", "1"]


@pytest.fixture(scope="module", params=sorted(RAMPS))
def ramped(request, tmp_path_factory):
    """The run folder: the ramp, then the held run, both dumping md.dump."""
    ramp, held = RAMPS[request.param]
    run = tmp_path_factory.mktemp(request.param) / "LiCl" / "T600"
    run_lmp(LJ_ROCK_SALT + f"timestep {DT_PS}\nvelocity all create 300 1\n{ramp}\n"
            f"dump d all custom {EVERY} md.dump id type x y z\nrun {RAMP}\n{held}\n"
            f"run {HELD}\n", run)
    # the ramp: the frames to 0.5 ps
    assert dump_steps(run / "md.dump") == list(range(0, RAMP + HELD + 1, EVERY))
    return request.param, run


def analysed(run, out, *flags):
    assert main(["analyze", str(run), "-o", str(out), *FLAGS, *flags]) == 0
    return json.loads((out / run.name / "results.json").read_text())


def test_a_ramp_inside_the_discarded_start_leaves_the_rest_analysed(ramped, tmp_path, capsys):
    kind, run = ramped
    res = analysed(run, tmp_path / "out", "--discard-ps", "0.5")
    assert res["diffusion"] and "no_transport" not in res and "pressure_ramp" not in res
    assert res["temperature_K"] == 600.0            # the held run's, from the log
    (note,) = res["settings_notes"]
    what = ("thermostat ramped from 300 to 600 K" if kind == "thermostat"
            else "barostat ramped the pressure from 1 to 5000 bar")
    assert f"log.lammps: {what}" in note
    assert "over the first 0.5 ps of the frames, inside the 0.5 ps discarded" in note
    assert note in capsys.readouterr().err


def test_a_ramp_past_the_discarded_start_gives_no_transport(ramped, tmp_path, capsys):
    kind, run = ramped
    res = analysed(run, tmp_path / "out", "--discard-ps", "0.25", "--temperature", "600")
    assert res["diffusion"] == [] and "conductivity" not in res
    why = res["no_transport"]
    assert "over the first 0.5 ps of the frames, past the 0.25 ps discarded" in why
    assert "discard_ps 0.5 (--discard-ps, or run.json) leaves the ramp" in why
    assert why in capsys.readouterr().out
    assert "settings_notes" not in res
    if kind == "barostat":
        assert res["pressure_ramp"] == {"start": 1, "end": 5000, "unit": "bar"}
        assert "barostat ramped the pressure from 1 to 5000 bar" in why
    else:
        assert "thermostat ramped from 300 to 600 K" in why and "pressure_ramp" not in res
        # without --temperature: asked for, and the discard that would say it named
        assert main(["analyze", str(run), "-o", str(tmp_path / "asked"), *FLAGS,
                     "--discard-ps", "0.25"]) == 1
        assert ("temperature_K is unknown (log.lammps: thermostats at 300-600, 600 K); put it "
                "in run.json or pass --temperature; or leave the thermostat ramp out with "
                "discard_ps 0.5") in capsys.readouterr().err


@pytest.mark.parametrize("name, ramp", [
    ("stability", dict(temperature_end=400.0)),
    ("pressure-ramp", dict(pressure_bar=0.0, pressure_end_bar=20000.0)),
])
def test_ionmd_folders_keep_their_declared_ramp(tmp_path, morse, name, ramp):
    """An ``ionmd run`` folder declares its ramp (run.json's ``temperature_end_K``,
    settings.json's protocol) over its whole run: no D nor sigma whatever its discard, said
    once in the folder's terms, with no log-read ramp nor note beside it (its chunked
    ``fix npt`` ramp echoed in the log is that same ramp)."""
    from ionmd.analysis.run_inputs import ramp_of
    from ionmd.analysis.run_spec import load_run_spec
    from ionmd.protocols import execute, plan_runs
    from protocol_setup import fcc_cell, short

    proto = short(name, temperatures=(300.0,), duration_ps=0.2, discard_ps=0.1, **ramp)
    (rd,) = plan_runs(proto, fcc_cell(), morse, tmp_path, name="fcc")
    assert execute(rd)["state"] == "completed"
    spec = load_run_spec(rd.path)
    assert spec.discard_ps == 0.1 and spec.frames_ramps == [] and spec.settings_notes == []
    why = ramp_of(spec)["no_transport"]
    if name == "stability":
        assert why.startswith("thermostat ramped from 300 to 400 K: D and sigma over the ramp "
                              "are of no one temperature")
        assert spec.pressure_ramp is None
    else:
        assert why.startswith("barostat ramped the pressure from 0 to 20000 bar (the density "
                              "changes over the run): D and sigma over the ramp are of no one "
                              "state")
        assert spec.pressure_ramp == (0.0, 20000.0, "bar")
    assert "discard_ps" not in why and "log" not in why
