"""A SLURM task whose ``srun`` ended while its step's LAMMPS ran on (2922666: the run left
``running``, nothing recorded) lets go of the run's claim: no job of its hand-out runs it
any more. The run then reads ``running`` by its LAMMPS lock alone, and ``interrupted``
(handed out again, recorded from the whole log) once that LAMMPS ended. Before, the claim
still named the task, so ``sweep status`` read the run ``running`` for as long as the
array task lived on (its other runs: hours), its LAMMPS long gone; a local submitter
(``launcher = "srun"`` in an allocation) kept it ``running`` until it exited.

Stand-in ``srun``: :mod:`test_sweep_lost_step`'s (starts its step apart from itself, as
``slurmstepd`` does, waits until the step holds the lock, prints "Node failure", exits 0).
Reference: the lock as :mod:`fcntl` sees it, and the squeue state given to ``classify``.
"""

from __future__ import annotations

from ionmd.sweep.state import classify, new_token, read_claim, write_claim
from ionmd.sweep.worker import run_one
from test_sweep_lost_step import _srun_on_path, fcc_run, wait_until_lock_free


def test_a_lost_step_frees_its_claim(tmp_path, monkeypatch):
    _srun_on_path(tmp_path, monkeypatch)
    rd = fcc_run(tmp_path, 3.0)
    token = new_token()
    write_claim(rd, token, "slurm", job_id="77_0")
    task_alive = {"77_0": "RUNNING"}         # squeue: the array task goes on (other runs)
    result = run_one(rd.path, token, launcher="srun")
    assert result["state"] == "running" and "Node failure" in result["reason"], result
    assert read_claim(rd).get("job_id") is None     # let go of: no job of it runs the run
    def said_running():                      # its LAMMPS runs: said by its lock
        assert classify(rd, task_alive) == "running"

    wait_until_lock_free(rd, said_running)
    # its LAMMPS ended, its task lives on: open to be handed out and recorded (old: running)
    assert classify(rd, task_alive) == "interrupted"
