"""A run whose launcher ends while its LAMMPS runs on (``srun`` after a lost ``slurmd``:
"srun: error: Node failure", exit status 0, its job step's LAMMPS writing on under
``slurmstepd``: audit A17) is not recorded while that LAMMPS holds the run's
``.lmp.lock``: recorded then, its trajectory's end was cut (``repair_pieces``) while
LAMMPS still appended to it, and its reason said "interrupted at step N (exit status 0)"
with the log already further on. It stays ``running``; once the lock is free the next
``execute`` (what ``ionmd sweep submit``'s worker runs) records it from the finished log.

The stand-in ``srun`` starts its command apart from itself, as ``slurmstepd`` does (a
session of its own, none of srun's files), waits until the step's lockrun holds the lock
(on a real cluster the step ran long before ``slurmd`` was lost), prints SLURM's line and
exits 0. References: LAMMPS's own log and trajectory once it ended (the planned steps,
one frame per ``dump_every``), and the lock as :mod:`fcntl` sees it.
"""

from __future__ import annotations

import json
import os
import sys
import time

from MDAnalysis.lib.formats.libdcd import DCDFile

from ionmd.lammps.process import find_lammps
from ionmd.protocols import plan_runs
from ionmd.protocols.execute import execute
from ionmd.protocols.outcome import finish
from ionmd.protocols.rundir import RunDir
from ionmd.sweep.state import lock_held
from ionmd.sweep.worker import locked_command
from protocol_setup import fcc_cell, morse_model, short

NODE_FAILURE = "srun: error: Node failure on vm"
FAKE_SRUN = """\
#!{python}
import fcntl, os, subprocess, sys, time
args = sys.argv[1:]
while args[0].startswith("-"):          # --ntasks N --cpus-per-task T --exact
    args = args[2:] if args[0] in ("--ntasks", "--cpus-per-task") else args[1:]
subprocess.Popen(args, close_fds=True, start_new_session=True, stdin=subprocess.DEVNULL,
                 stdout=open("step.out", "w"), stderr=subprocess.STDOUT)
lock = args[args.index("--step") + 1]
deadline = time.time() + 60
while time.time() < deadline:           # the step's rank 0 has taken the lock
    fd = os.open(lock, os.O_RDONLY | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
    except BlockingIOError:
        break
    finally:
        os.close(fd)
    time.sleep(0.02)
print("{line}", file=sys.stderr, flush=True)
sys.exit(0)
"""


def _srun_on_path(tmp_path, monkeypatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    srun = bin_dir / "srun"
    srun.write_text(FAKE_SRUN.format(python=sys.executable, line=NODE_FAILURE))
    srun.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def fcc_run(tmp_path, duration_ps: float, restart_every: int = 1000) -> RunDir:
    """A planned Morse run of the fcc cell at 600 K, a frame every 20 steps."""
    proto = short("conductivity", temperatures=(600.0,), duration_ps=duration_ps,
                  discard_ps=0.0, relax=False, dump_every=20, thermo_every=100,
                  restart_every=restart_every)
    (rd,) = plan_runs(proto, fcc_cell(), morse_model(tmp_path / "morse.pt"),
                      tmp_path / "out", name="fcc")
    return rd


def wait_until_lock_free(rd: RunDir, while_held=lambda: None) -> None:
    """Wait (180 s at most) until the run's LAMMPS lets go of its lock, calling
    ``while_held`` meanwhile."""
    deadline = time.time() + 180
    while lock_held(rd) and time.time() < deadline:
        while_held()
        time.sleep(0.1)
    assert not lock_held(rd), "the step's LAMMPS did not end in 180 s"


def test_a_lost_step_is_recorded_once_its_lammps_ended(tmp_path, monkeypatch):
    _srun_on_path(tmp_path, monkeypatch)
    rd = fcc_run(tmp_path, 6.0)
    command = ["srun", "--ntasks", "1", "--cpus-per-task", "1", "--exact", find_lammps(1)[0]]
    status = execute(rd, launcher=locked_command(rd, command))
    # srun ended, the step's LAMMPS runs on: nothing recorded (old: 'interrupted at step
    # N (exit status 0)', its trajectory cut back to N while LAMMPS wrote on)
    assert status["state"] == "running", status
    assert lock_held(rd)
    assert NODE_FAILURE in status["reason"] and "exit status 0" in status["reason"]
    on_disk = json.loads((rd.path / "status.json").read_text())
    assert on_disk["state"] == "running" and "end_from" not in on_disk["piece_times"][-1]
    wait_until_lock_free(rd)
    # once it ended: recorded from its whole log, every frame there (none cut)
    status = execute(RunDir.open(rd.path), launcher=locked_command(rd, command))
    steps = rd.planned_steps
    assert status["state"] == "completed" and status["step"] == steps, status
    with DCDFile(str(rd.path / "traj.0.dcd")) as dcd:
        assert dcd.n_frames == steps // 20 + 1


def test_the_fallback_reason_quotes_the_launcher(tmp_path):
    """A piece that ended without a LAMMPS error or its end, its log at step 200, and
    srun's line in its screen output (its LAMMPS killed later by slurmstepd): the reason
    names the step its log reached and quotes srun (old: 'interrupted at step 200 (exit
    status unknown); run again ...', the Node failure in the screen file alone)."""
    rd = fcc_run(tmp_path, 2.0, restart_every=100)
    rd.set_status("running", pieces=1, pid=None, step=0)
    rows = "\n".join(f"{s} 600.0 -1.0" for s in range(0, 201, 100))
    rd.piece(0)["log"].write_text(f"run {rd.planned_steps} upto\nPer MPI rank memory "
                                  f"allocation (min/avg/max) = 3 | 3 | 3 Mbytes\n"
                                  f"Step Temp PotEng\n{rows}\n")
    rd.piece(0)["screen"].write_text(f"LAMMPS (2 Aug 2023)\n{NODE_FAILURE}\n")
    status = finish(rd, rc=None)
    assert status["state"] == "interrupted" and status["step"] == 200
    assert f'"{NODE_FAILURE}"' in status["reason"] and "step 200" in status["reason"]
