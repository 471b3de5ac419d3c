"""A run's LAMMPS lock (``.lmp.lock``) with the SLURM executor's ``srun`` launcher is held
by LAMMPS itself, in the job step, not by the ``srun`` client that started it.

Measured on a real single-node SLURM (audit A17: ``slurmd`` killed mid-run): ``srun``
printed "srun: error: Node failure on vm" and ended with exit status 0 while its step's
LAMMPS went on under ``slurmstepd`` for another 40 s, writing restart files. The lock
held by ``srun`` went with it, so ``ionmd sweep status`` showed the run ``queued`` (its
task requeued) instead of ``running``, and a requeued task starting meanwhile would have
found the run unlocked: two LAMMPS in one directory. Here a stand-in ``srun`` starts its
command as ``slurmstepd`` does (a process of its own that inherits none of ``srun``'s
files) and ends at once, as ``srun`` did.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from types import SimpleNamespace

from ionmd.sweep.state import lock_held
from ionmd.sweep.worker import LOCKRUN, locked_command

FAKE_SRUN = """\
#!{python}
import subprocess, sys
args = sys.argv[1:]
while args[0].startswith("-"):          # --ntasks N --cpus-per-task T --exact
    args = args[2:] if args[0] in ("--ntasks", "--cpus-per-task") else args[1:]
# the step runs apart from the client, as slurmstepd runs it: no inherited files
subprocess.Popen(args, close_fds=True, start_new_session=True,
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print("srun: error: Node failure on vm", file=sys.stderr)
sys.exit(0)
"""


def _wait(cond, timeout: float) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def test_lock_outlives_an_srun_that_ends_before_its_step(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    srun = bin_dir / "srun"
    srun.write_text(FAKE_SRUN.format(python=sys.executable))
    srun.chmod(0o755)
    rd = SimpleNamespace(path=tmp_path / "run")
    rd.path.mkdir()
    # the worker's command for launcher = "srun" (lammps_command), LAMMPS a 3 s sleep
    command = locked_command(rd, ["srun", "--ntasks", "1", "--cpus-per-task", "1", "--exact",
                                  "sleep"]) + ["3"]
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    res = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
    assert res.returncode == 0 and "Node failure" in res.stderr, res.stderr
    # srun is gone, its step's "LAMMPS" still runs: the run is locked (old: never)
    assert _wait(lambda: lock_held(rd), 5.0), "the step's LAMMPS does not hold .lmp.lock"
    # and for as long as it runs only: let go once it ends
    assert _wait(lambda: not lock_held(rd), 15.0)


def test_only_rank_0_of_a_step_takes_the_lock(tmp_path):
    """Every rank of ``srun --ntasks N`` starts lockrun: rank 0 takes the lock, the others
    start LAMMPS at once (each taking it would leave all but one waiting, then refused)."""
    lock = tmp_path / ".lmp.lock"
    lock.touch()
    holder = subprocess.Popen([sys.executable, str(LOCKRUN), "--step", str(lock), "sleep", "30"],
                              env=dict(os.environ, SLURM_PROCID="0"))
    try:
        rd = SimpleNamespace(path=tmp_path)
        assert _wait(lambda: lock_held(rd), 5.0)
        t0 = time.time()
        other = subprocess.run([sys.executable, str(LOCKRUN), "--step", str(lock), "true"],
                               env=dict(os.environ, SLURM_PROCID="1"), timeout=30)
        assert other.returncode == 0 and time.time() - t0 < 5     # not held up by rank 0's lock
        # rank 0 of another step on the same run directory is refused, as before
        second = subprocess.run([sys.executable, str(LOCKRUN), "--step", str(lock), "true"],
                                env=dict(os.environ, SLURM_PROCID="0"), capture_output=True,
                                text=True, timeout=60)
        assert second.returncode == 75 and "not starting a second LAMMPS" in second.stderr
    finally:
        holder.kill()
        holder.wait()
