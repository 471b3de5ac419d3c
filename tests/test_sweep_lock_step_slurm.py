"""``srun --ntasks 2 ... lockrun.py --step LOCK lmp`` (the SLURM executor's launcher) on a
real single-node SLURM (tests/slurm_cluster.py): where a third process holds the run's
lock, both ranks end with rank 0's refusal, naming the holder, within rank 0's wait, and
no LAMMPS runs (measured before: rank 1 started LAMMPS at once, a singleton under srun
without PMI, and ran its input on the run's files while rank 0 was refused). With the
lock free, both ranks run. References: SLURM's own srun (its step environment, exit
status), LAMMPS writing a file per rank, the holder's pid."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from ionmd.lammps.process import find_lammps
from ionmd.protocols.run_lock import lock_holder
from ionmd.sweep.lockrun import BUSY
from ionmd.sweep.worker import LOCKRUN
from slurm_cluster import running_cluster

# each rank writes ran.<its SLURM_PROCID>: what a LAMMPS run leaves in its folder
INPUT = 'variable r getenv SLURM_PROCID\nshell touch ran.${r}\n'


def test_the_ranks_of_a_step_give_up_together_and_run_together(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "in.lmp").write_text(INPUT)
    lock = run / ".lmp.lock"
    srun = ["srun", "--ntasks", "2", "--cpus-per-task", "1", "--exact", sys.executable,
            str(LOCKRUN), "--step", str(lock), find_lammps(1)[0], "-in", "in.lmp",
            "-log", "none"]
    with running_cluster(tmp_path / "slurm") as cluster:
        holder = subprocess.Popen([sys.executable, str(LOCKRUN), str(lock), "sleep", "120"])
        try:
            deadline = time.time() + 10
            while lock_holder(lock) is None and time.time() < deadline:
                time.sleep(0.02)
            t0 = time.time()
            res = subprocess.run(srun, cwd=run, env=cluster.env, capture_output=True,
                                 text=True, timeout=120)
            took = time.time() - t0
        finally:
            holder.kill()
            holder.wait()
        assert not list(run.glob("ran.*")), res.stderr     # old: ran.1 (rank 1's LAMMPS)
        assert res.returncode == BUSY, res.stderr
        assert res.stderr.count(f"holds {lock}: pid {holder.pid} on ") == 2, res.stderr
        assert took < 40, f"the step took {took:.0f} s to give up"   # rank 0 waits 10 s
        # the lock free (its dead holder's line still there): the step's ranks both run
        res = subprocess.run(srun, cwd=run, env=cluster.env, capture_output=True,
                             text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        assert sorted(p.name for p in run.glob("ran.*")) == ["ran.0", "ran.1"]
        assert os.path.getsize(lock) > 0 and f"pid {holder.pid} " not in lock.read_text()
