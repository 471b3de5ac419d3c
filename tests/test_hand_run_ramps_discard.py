"""One rule for the ramps a hand run's logs echo over the runs that wrote its frames, a
thermostat's (``fix nvt temp 300 600``) as a barostat's (``fix npt ... iso 1 5000``):
where the ramped run's frames lie inside the discarded start (``discard_ps``) the frames
after it are analysed, and a note says so; where they reach into the analysed frames,
no D nor sigma (``no_transport``), naming the ramp and the discard that would leave it
out. Before: a barostat ramp gave no D whatever the discard, and a thermostat ramp with
``--temperature`` given was analysed over the ramp with a note only (and without it the
temperature was asked for, though the frames after the discard are all at 600 K).

References: real LAMMPS runs (Li in a Lennard-Jones Cl crystal, units metal) whose input
ramps for 250 steps then holds for 1000 into one dump: the ramp ends 0.5 ps into the
frames (LAMMPS's own dump steps say so), so a 0.5 ps discard leaves it out, 0.25 ps
does not."""

from __future__ import annotations

import json

import pytest

from ionmd.cli import main
from lammps_runner import run_lmp

DT_PS, RAMP, HELD, EVERY = 0.002, 250, 1000, 25

CELL = """
units metal
atom_style atomic
lattice fcc 5.4
region box block 0 2 0 2 0 2
create_box 2 box
create_atoms 2 box
lattice fcc 5.4 origin 0.5 0 0
create_atoms 1 box
group li type 1
delete_atoms random count 24 yes li NULL 4321
mass 1 6.94
mass 2 35.45
pair_style lj/cut 5.0
pair_coeff 1 1 0.01 2.4
pair_coeff 1 2 0.02 2.0
pair_coeff 2 2 0.3 3.4
pair_modify shift yes
write_data start.data
thermo 50
"""

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
    run_lmp(CELL + f"timestep {DT_PS}\nvelocity all create 300 1\n{ramp}\n"
            f"dump d all custom {EVERY} md.dump id type x y z\nrun {RAMP}\n{held}\n"
            f"run {HELD}\n", run)
    lines = (run / "md.dump").read_text().splitlines()
    steps = [int(lines[k + 1]) for k, line in enumerate(lines) if line == "ITEM: TIMESTEP"]
    assert steps == list(range(0, RAMP + HELD + 1, EVERY))   # the ramp: the frames to 0.5 ps
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
