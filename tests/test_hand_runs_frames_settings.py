"""A LAMMPS run written by hand that equilibrates at other settings than its production:
``ionmd analyze`` takes the time step and the thermostat target in force over the runs that
wrote the frames, refuses a flag that contradicts them, and notes a folder named after
another temperature.

References: a real LAMMPS run (Li in the octahedral holes of a Lennard-Jones Cl crystal:
``timestep 0.001`` and a 300 -> 900 K ramp, ``reset_timestep 0``, then ``timestep 0.002``
and ``temp 900 900`` for the production that holds every dump frame), the log's own lines,
and the MSD of LAMMPS's own unwrapped ``xu yu zu`` dump of the same run, by numpy."""

import json
import os

import numpy as np
import pytest

from lammps_runner import run_lmp
from ionmd.analysis.run_spec import load_run_spec
from ionmd.cli import main

EVERY, DT_EQ, DT_PROD, T = 20, 0.001, 0.002, 900.0
FIT = (0.4, 2.0)            # ps

_RUN = f"""
units metal
atom_style atomic
boundary p p p
lattice fcc 5.4
region box block 0 3 0 3 0 3
create_box 2 box
create_atoms 2 box
lattice fcc 5.4 origin 0.5 0 0
create_atoms 1 box
group li type 1
group cl type 2
delete_atoms random count 81 yes li NULL 4321
mass 1 6.94
mass 2 35.45
pair_style lj/cut 8.0
pair_coeff 1 1 0.01 2.4
pair_coeff 1 2 0.02 2.0
pair_coeff 2 2 0.3 3.4
pair_modify shift yes
write_data start.data
variable T index {T:g}
thermo_style custom step temp pe press
thermo 100
timestep {DT_EQ}
velocity all create 300 1234 mom yes rot yes
fix 1 all nvt temp 300 ${{T}} 0.1
run 300
unfix 1
fix 1 all nvt temp ${{T}} ${{T}} 0.1
reset_timestep 0
timestep {DT_PROD}
dump d all custom {EVERY} md.dump id type x y z
dump u all custom {EVERY} unwrapped.ref id type xu yu zu
dump_modify u sort id
run 2000
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The run folder as the user left it: log.lammps, start.data, md.dump."""
    folder = tmp_path_factory.mktemp("hand") / "LiCl_lj" / "900K"
    run_lmp(_RUN, folder)
    return folder


def _analyze(run, capsys, *flags):
    code = main(["analyze", str(run), "--charges", "Li=1,Cl=-1", "--fit-start-ps", str(FIT[0]),
                 "--fit-end-ps", str(FIT[1]), *flags])
    return code, capsys.readouterr().err


def _numpy_msd(run) -> tuple[np.ndarray, np.ndarray]:
    """(lag in ps, MSD of Li in A2) from LAMMPS's unwrapped dump: every time origin, the Cl
    centre's drift removed, frames EVERY steps of 2 fs apart."""
    lines = (run / "unwrapped.ref").read_text().splitlines()
    n = int(lines[3])
    frames = [np.array([ln.split() for ln in lines[k + 9:k + 9 + n]], float)
              for k in range(0, len(lines), n + 9)]
    xyz = np.array([f[:, 2:5] for f in frames])
    types = frames[0][:, 1]
    li = xyz[:, types == 1] - xyz[:, types == 2].mean(axis=1, keepdims=True)
    lags = np.arange(1, len(li))
    msd = np.array([((li[k:] - li[:-k]) ** 2).sum(-1).mean() for k in lags])
    return lags * EVERY * DT_PROD, msd


def _ionmd_msd(run) -> tuple[np.ndarray, np.ndarray]:
    """(lag in ps, MSD of Li) of the trajectory ionmd analyses, with the run's settings
    as load_run_spec found them."""
    from ionmd.analysis.msd import compute_msd
    from ionmd.analysis.run_analysis import transport_trajectory
    from ionmd.analysis.run_inputs import run_frames

    spec = load_run_spec(run)
    m = compute_msd(transport_trajectory(spec, *run_frames(spec)), "Li")
    return m.lag_ps[1:], m.msd[1:]


def test_the_time_step_of_the_production_is_taken(run, capsys):
    """Before: refused ('timestep 0.001, 0.002: give the one of the frames', 'thermostats
    at 300-900, 900 K') although every frame is of the run after `timestep 0.002`."""
    log = (run / "log.lammps").read_text()
    assert f"timestep {DT_EQ}" in log and f"timestep {DT_PROD}" in log
    code, err = _analyze(run, capsys)
    assert code == 0, err
    res = json.loads((run / "analysis" / "results.json").read_text())
    assert res["timestep_fs"] == pytest.approx(DT_PROD * 1e3)
    assert res["temperature_K"] == T
    t, msd = _numpy_msd(run)
    t_ionmd, msd_ionmd = _ionmd_msd(run)
    assert t_ionmd == pytest.approx(t, rel=1e-12)
    assert msd_ionmd == pytest.approx(msd, rel=1e-6)
    # ionmd fits by generalised least squares, numpy here by ordinary: near, not equal
    fit = (t >= FIT[0] - 1e-9) & (t <= FIT[1] + 1e-9)
    D_ols = np.polyfit(t[fit], msd[fit], 1)[0] / 6 * 1e-4
    assert res["diffusion"][0]["D"] == pytest.approx(D_ols, rel=0.1)


def test_a_time_step_flag_that_contradicts_the_production_is_refused(run, capsys):
    """Before: --timestep-fs 1 was taken without a word (D twice the true one)."""
    code, err = _analyze(run, capsys, "--timestep-fs", "1")
    assert code == 1
    assert "timestep_fs = 1 given" in err and "timestep 0.002 (units metal)" in err


def test_a_temperature_flag_that_contradicts_the_production_is_refused(run, capsys):
    """Before: --temperature 600 was taken for a production thermostat at 900 K (its sigma
    1.5x and the run in Arrhenius fits at 600 K)."""
    code, err = _analyze(run, capsys, "--timestep-fs", "2", "--temperature", "600")
    assert code == 1
    assert "temperature_K = 600 given" in err and "thermostat at 900 K" in err


def test_a_folder_named_after_another_temperature_is_noted(run, tmp_path):
    """A folder T600 whose production thermostat is at 900 K: analysed at 900 K (the log's),
    and the spec notes both. Before: no word."""
    other = tmp_path / "T600"
    other.mkdir()
    for name in ("log.lammps", "start.data", "md.dump"):
        os.symlink(run / name, other / name)
    spec = load_run_spec(other)
    assert spec.temperature_K == T
    (note,) = spec.settings_notes
    assert "900 K" in note and "600 K" in note and "--temperature 900" in note
    assert load_run_spec(run).settings_notes == []
    assert load_run_spec(other, {"temperature_K": 900.0}).settings_notes == []


def test_the_settings_of_the_frames_runs_come_from_the_commands_before_them(run):
    """The log's own lines: the equilibration's run at 1 fs and ramped, the production's at
    2 fs and 900 K with both dumps."""
    from ionmd.lammps.echoed_input import run_blocks

    eq, prod = run_blocks((run / "log.lammps").read_text())
    assert (eq.units, eq.timestep, eq.thermostats, eq.dumps) == ("metal", DT_EQ, ((300.0, T),), ())
    assert (prod.timestep, prod.thermostats, prod.dumps) == (DT_PROD, ((T, T),),
                                                             ("md.dump", "unwrapped.ref"))


def test_an_nve_production_asks_for_the_temperature(run, tmp_path, capsys):
    """An NVE production after an NVT equilibration: no thermostat is in force over the
    frames, so the equilibration's target is named, not taken."""
    other = tmp_path / "900K"
    other.mkdir()
    equilibration, production = (run / "log.lammps").read_text().split("unfix 1\n")
    production = "\n".join(line for line in production.splitlines()
                            if not line.startswith("fix 1 all nvt"))
    (other / "log.lammps").write_text(f"{equilibration}unfix 1\nfix 1 all nve\n{production}")
    for name in ("start.data", "md.dump"):
        os.symlink(run / name, other / name)
    code, err = _analyze(other, capsys)
    assert code == 1
    assert ("temperature_K is unknown (log.lammps: no thermostat in force over the runs that "
            "dump md.dump (the other runs': 300-900 K))") in err
