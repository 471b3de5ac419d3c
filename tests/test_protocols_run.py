"""Protocols run for real with `lmp` + the plugin on a 32-atom cell and a Morse model:
thermostat/barostat targets, ramps, fix halt, resume after a kill."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

from contract_models import RepulsiveEdgeModel, save_contract_model
from ionmd.analysis.run_spec import load_run_spec
from ionmd.analysis.trajectory import read_frames, read_lammps_trajectory
from ionmd.lammps.thermo_log import parse_thermo
from ionmd.protocols import execute, launch, plan_runs, run_all
from ionmd.lammps.dcd import dcd_layout
from ionmd.lammps.log import HALT_RE
from ionmd.lammps.process import kill_run
from protocol_setup import ELEMENTS, fcc_cell, short


def thermo_of(rd) -> dict:
    logs = load_run_spec(rd.path).logs
    return parse_thermo("\n".join(p.read_text() for p in logs))


def block_sem(x: np.ndarray, n_blocks: int = 5) -> float:
    """Standard error of the mean from block averages (samples are correlated)."""
    means = np.array([b.mean() for b in np.array_split(x, n_blocks)])
    return float(means.std(ddof=1) / np.sqrt(n_blocks))


@pytest.mark.parametrize("name", ["conductivity-nvt", "conductivity", "umlip-benchmark"])
def test_temperature_and_pressure_targets(tmp_path, morse, name):
    # NVT Berendsen (MACE-SSE) at 800 K; NpT Nose-Hoover (AQVolt26) and NpT Berendsen
    # (seed 003, its 2 fs step) at 800 K and 20 kbar
    proto = short(name, temperatures=(800.0,), pressure_bar=20000.0, duration_ps=2.5,
                  tdamp_fs=50.0, pdamp_fs=500.0)
    (rd,) = plan_runs(proto, fcc_cell(), morse, tmp_path, name="fcc")
    (status,) = run_all([rd], progress=False)
    assert status["state"] == "completed" and status["step"] == proto.steps(800.0)
    th = thermo_of(rd)
    late = th["Step"] >= 0.4 * proto.steps(800.0)
    temp = th["Temp"][late]
    assert abs(temp.mean() - 800.0) < max(3 * block_sem(temp), 0.02 * 800.0)
    assert abs(temp.mean() - 800.0) < 0.06 * 800.0
    if name != "conductivity-nvt":
        press = th["Press"][late]
        sem = block_sem(press)
        assert sem < 2500.0
        assert abs(press.mean() - 20000.0) < 3 * sem + 500.0
        assert np.ptp(th["Volume"]) > 0.0
    else:
        assert np.ptp(th["Volume"]) == 0.0


def test_stability_ramp_follows_requested_profile(tmp_path, morse):
    proto = short("stability", temperatures=(300.0,), temperature_end=1100.0, duration_ps=2.0,
                  tdamp_fs=50.0, halt_volume_change=0.5)
    (rd,) = plan_runs(proto, fcc_cell(), morse, tmp_path, name="fcc")
    (status,) = run_all([rd], progress=False)
    assert status["state"] == "completed", status
    th = thermo_of(rd)
    target = 300.0 + 800.0 * th["Step"] / proto.steps(300.0)
    # compare 0.2 ps window means with the requested linear ramp
    bins = np.array_split(np.arange(20, len(target)), 9)
    dev = [th["Temp"][b].mean() - target[b].mean() for b in bins]
    assert np.max(np.abs(dev)) < 120.0, dev
    slope = np.polyfit(th["Step"][20:], th["Temp"][20:], 1)[0] * proto.steps(300.0)
    assert abs(slope - 800.0) < 150.0


def test_fix_halt_stops_and_status_says_why(tmp_path, morse):
    # heating to 2100 K expands the cell by far more than a 4 % limit: must trip mid-ramp
    proto = short("stability", temperatures=(300.0,), temperature_end=2100.0, duration_ps=1.0,
                  halt_volume_change=0.04, pdamp_fs=200.0, tdamp_fs=50.0)
    (rd,) = plan_runs(proto, fcc_cell(), morse, tmp_path, name="fcc")
    (status,) = run_all([rd], progress=False)
    assert status["state"] == "failed" and not status["resumable"]
    assert "volume" in status["reason"] and "fix halt" in status["reason"]
    step = status["failed_step"]
    assert 0 < step < proto.steps(300.0)
    assert status["failed_temperature_K"] == pytest.approx(300.0 + 1800.0 * step / 1000.0)
    # independent check from the log: |V/V0 - 1| crossed 4 % at (not before) that step, V0
    # the volume the MD starts from (after the relaxation, which shrinks this cell by 1 %)
    th = thermo_of(rd)
    v0 = th["Volume"][0]
    dv = np.abs(th["Volume"] / v0 - 1.0)
    assert th["Step"][np.argmax(dv > 0.04)] == step   # thermo and checks share a 10-step grid
    # a halted run is a physical failure: executing again does not rerun it
    assert execute(rd)["state"] == "failed" and rd.status["pieces"] == 1


@pytest.mark.parametrize("halt, runner", [(None, "subprocess"), (0.5, "subprocess"), (0.5, "module")])
def test_lost_atoms_stop_the_run_and_status_says_why(tmp_path, halt, runner):
    # a deliberately broken start: two atoms 0.8 A apart under a steep r^-12 repulsion, no
    # relaxation; they fly off by many box lengths in the first steps and LAMMPS loses them
    model = save_contract_model(RepulsiveEdgeModel(1.0, 2.0), tmp_path / "rep.pt", cutoff=4.0,
                                elements=ELEMENTS)
    atoms = fcc_cell()
    atoms.positions[1] = atoms.positions[0] + [0.8, 0.0, 0.0]
    proto = short("stability", temperatures=(300.0,), temperature_end=2100.0, duration_ps=0.2,
                  relax=False, tdamp_fs=50.0, halt_volume_change=halt)
    (rd,) = plan_runs(proto, atoms, model, tmp_path, name="broken")
    (status,) = run_all([rd], progress=False, runner=runner)
    assert status["state"] == "failed" and not status["resumable"]
    assert status["reason"].startswith("atoms lost") and status["failure_mode"] == "lost_atoms"
    assert "volume" not in status["reason"]      # ionmd.sweep tells the modes apart by it
    # independent check from the log: LAMMPS's own count, and where the thermo rows stop
    log = (rd.path / "log.0.lammps").read_text()
    lost = re.search(r"ERROR: Lost atoms: original (\d+) current (\d+)", log)
    assert lost and int(lost.group(1)) == 32 and int(lost.group(2)) < 32
    assert lost.group(0) in status["reason"]
    last_row = int(parse_thermo(log)["Step"][-1])
    assert last_row < status["failed_step"] <= last_row + proto.thermo_every
    assert status["failed_temperature_K"] == pytest.approx(300.0 + 1800.0 * status["failed_step"] / 200)
    if halt is not None:            # the exploding cell also tripped fix halt on the volume
        assert "fix halt" in status["reason"] and HALT_RE.search(log)
    # a physical failure: executing again does not rerun it
    assert execute(rd)["state"] == "failed" and rd.status["pieces"] == 1


def test_killed_run_resumes_and_stitches(tmp_path, morse):
    proto = short("conductivity", temperatures=(700.0,), duration_ps=3.0, dump_every=20,
                  restart_every=200, tdamp_fs=50.0, pdamp_fs=500.0)
    (rd,) = plan_runs(proto, fcc_cell(), morse, tmp_path / "a", name="fcc")
    proc = launch(rd)
    deadline = time.time() + 60
    while not (rd.path / "restart.a").exists() and time.time() < deadline:
        time.sleep(0.01)
    time.sleep(0.15)              # let it write frames past the restart, then kill it
    kill_run(proc)              # SIGKILL to lmp and its children, as a batch system does
    assert rd.status["state"] == "running"          # its runner is gone: status is stale
    # how far it got: the DCD is flushed every frame (the log may lag behind a SIGKILL)
    layout = dcd_layout(rd.path / "traj.0.dcd")
    istart, nsavc, header, frame = layout.istart, layout.nsavc, layout.header, layout.frame
    killed_at = istart + ((rd.path / "traj.0.dcd").stat().st_size - header) // frame * nsavc - nsavc
    assert 200 <= killed_at < 3000
    status = execute(rd)
    assert status["state"] == "completed" and status["step"] == 3000
    assert status["pieces"] == 2 and status["resumed_from"] in ("restart.a", "restart.b")
    spec = load_run_spec(rd.path)
    assert [p.name for p in spec.trajectory] == ["traj.0.dcd", "traj.1.dcd"]
    assert [p.name for p in spec.logs] == ["log.0.lammps", "log.1.lammps"]
    assert "read_restart" in (rd.path / "in.1.lmp").read_text()
    joined, _, _ = read_frames(spec.data_file, spec.trajectory, type_map=spec.type_map)
    np.testing.assert_array_equal(joined.steps, np.arange(0, 3001, 20))  # no gap, no duplicate
    assert len(joined.starts) == 1                  # the seam frame matched its repeat
    # the resumed piece ran only the remaining steps
    th1 = parse_thermo(spec.logs[1].read_text())
    resumed_at = int(th1["Step"][0])
    assert 0 < resumed_at <= killed_at and resumed_at % 200 == 0
    # piece 0 was cut back to the resume step (frames after its last restart are redone)
    first, _, _ = read_frames(spec.data_file, spec.trajectory[:1], type_map=spec.type_map)
    assert first.steps[-1] == resumed_at
    # same run without interruption: the same trajectory (restart files keep full state)
    (ref,) = plan_runs(proto, fcc_cell(), morse, tmp_path / "b", name="fcc")
    assert execute(ref)["state"] == "completed"
    spec_ref = load_run_spec(ref.path)
    traj = read_lammps_trajectory(spec.data_file, spec.trajectory, timestep_fs=1.0)
    traj_ref = read_lammps_trajectory(spec_ref.data_file, spec_ref.trajectory, timestep_fs=1.0)
    assert np.max(np.abs(traj.positions - traj_ref.positions)) < 1e-2


def test_pressure_ramp_follows_requested_profile(tmp_path, morse):
    proto = short("pressure-ramp", temperatures=(300.0,), pressure_bar=0.0,
                  pressure_end_bar=40000.0, duration_ps=3.0, tdamp_fs=50.0, pdamp_fs=300.0)
    (rd,) = plan_runs(proto, fcc_cell(), morse, tmp_path, name="fcc")
    (status,) = run_all([rd], progress=False)
    assert status["state"] == "completed"
    th = thermo_of(rd)
    target = 40000.0 * th["Step"] / proto.steps(300.0)
    halves = [th["Step"] < 1500, th["Step"] >= 1500]
    means = [(th["Press"][h].mean(), target[h].mean()) for h in halves]
    for got, want in means:
        assert abs(got - want) < 6000.0, means
    assert means[1][0] - means[0][0] > 10000.0           # it rose with the ramp
    # a stiffer squeeze: the volume in the last quarter is below that of the first
    q = len(th["Step"]) // 4
    assert th["Volume"][-q:].mean() < th["Volume"][:q].mean()
