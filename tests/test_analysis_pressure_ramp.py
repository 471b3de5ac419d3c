"""A run whose barostat ramps its pressure (the pressure-ramp preset's 1 -> 50000 bar; a hand
run's ``fix npt ... iso 1 50000 1.0``) gives no D nor sigma, as a thermostat ramp does: its
density changes over the run, so its D is of no one state, and ``ionmd analyze`` reported it
"at" its temperature and fitted it in the Arrhenius plot. The reference is the run's own
input: its log's fix line (as LAMMPS echoes it) or its folder's settings.json protocol; a
barostat held at one pressure (npt or press/berendsen), or a pressure ramp of an
equilibration unfixed before the production, is no ramp: analysed as before."""

from __future__ import annotations

import json

import pytest

import test_analysis_foreign_trajectories as foreign
from ionmd.cli import main
from ionmd.lammps.echoed_input import barostat_target

STEPS = 119 * foreign.EVERY


@pytest.fixture(scope="module")
def walk():
    return foreign._walk(1000, n_frames=120, n_li=8)


def hand_run(root, name, walk, fixes: str):
    """The walk as a hand run at 1000 K (no run.json timing) whose log echoes ``fixes``
    before the production run that dumps the frames."""
    d = root / name
    foreign._lammps_dir(d, 1000, *walk)
    meta = json.loads((d / "run.json").read_text())
    del meta["timestep_fs"], meta["temperature_K"]
    (d / "run.json").write_text(json.dumps({**meta, "discard_ps": 1.0}))
    (d / "log.lammps").write_text(
        f"LAMMPS (2 Aug 2023)\nunits metal\nread_data struct.data\ntimestep 0.002\n{fixes}\n"
        f"dump d all custom {foreign.EVERY} md.dump id type x y z\nrun {STEPS}\n")
    return d


@pytest.mark.parametrize("words, want", [
    ("fix 1 all npt temp 1000 1000 0.1 iso 1 50000 1.0", (1.0, 50000.0)),
    ("fix 1 all npt/kk temp 300 300 0.1 aniso 0.0 1000.0 1.0", (0.0, 1000.0)),
    ("fix 1 all nph x 1 1 1.0 y 1 1 1.0 z 1 20000 1.0", (1.0, 20000.0)),
    ("fix b all press/berendsen iso 1 5000 1.0 modulus 250000", (1.0, 5000.0)),
    ("fix 1 all rigid/npt molecule temp 300 300 0.1 iso 1 9 1", (1.0, 9.0)),
    ("fix 1 all npt temp 1000 1000 0.1 iso 1 1 1.0", (1.0, 1.0)),
    ("fix 1 all press/berendsen iso 1.0 1.0 1.0", (1.0, 1.0)),
    ("fix 1 all npt temp 1000 1000 0.1 iso ${P0} ${P1} 1.0", None),
    ("fix 1 all nvt temp 300 2100 0.1", None),
])
def test_barostat_target_of_fix_lines(words, want):
    assert barostat_target(words.split()) == want


def test_hand_run_pressure_ramp_gives_no_transport(tmp_path, walk, capsys):
    runs = {
        "ramp": hand_run(tmp_path, "ramp", walk,
                         "fix 1 all npt temp 1000 1000 0.1 iso 1 50000 1.0"),
        "held": hand_run(tmp_path, "held", walk, "fix 1 all npt temp 1000 1000 0.1 iso 1 1 1.0"),
        # a compression before the production, unfixed: not of the frames
        "equilibrated": hand_run(tmp_path, "equilibrated", walk,
                                 "fix 2 all npt temp 1000 1000 0.1 iso 1 5000 1.0\nrun 100\n"
                                 "unfix 2\nfix 1 all nvt temp 1000 1000 0.1"),
    }
    out = tmp_path / "out"
    assert main(["analyze", *map(str, runs.values()), "-o", str(out), *foreign.POINT_IONS]) == 0
    printed = capsys.readouterr().out
    res = {k: json.loads((out / k / "results.json").read_text()) for k in runs}
    r = res["ramp"]
    assert r["diffusion"] == [] and "conductivity" not in r
    assert r["pressure_ramp"] == {"start": 1, "end": 50000, "unit": "bar"}
    assert "ramped the pressure from 1 to 50000 bar" in r["no_transport"]
    assert r["no_transport"] in printed
    assert r["failure"]["failed"] is False                  # the post-mortem still made
    for name in ("held", "equilibrated"):
        assert res[name]["diffusion"] and "no_transport" not in res[name], name
    summary = json.loads((out / "summary.json").read_text())
    why = {x["run"]: x["reason"] for x in summary["structures"]["synthetic"]["left_out"]}
    assert why[str(runs["ramp"])] == res["ramp"]["no_transport"]


def test_ionmd_folder_pressure_ramp_from_settings(tmp_path, walk):
    """An ionmd run folder of the pressure-ramp preset: the ramp is its settings.json's
    protocol (pressure_bar -> pressure_end_bar), whatever its log echoes."""
    d = hand_run(tmp_path, "preset", walk, "fix 1 all nvt temp 1000 1000 0.1")
    protocol = {"name": "pressure-ramp", "ensemble": "npt", "pressure_bar": 1.0,
                "pressure_end_bar": 50000.0}
    (d / "settings.json").write_text(json.dumps({"protocol": protocol}))
    assert main(["analyze", str(d), *foreign.POINT_IONS]) == 0
    res = json.loads((d / "analysis" / "results.json").read_text())
    assert res["diffusion"] == [] and res["pressure_ramp"]["end"] == 50000.0
    # the same protocol held at one pressure is analysed
    (d / "settings.json").write_text(json.dumps(
        {"protocol": {**protocol, "pressure_end_bar": 1.0}}))
    assert main(["analyze", str(d), *foreign.POINT_IONS]) == 0
    res = json.loads((d / "analysis" / "results.json").read_text())
    assert res["diffusion"] and "pressure_ramp" not in res
