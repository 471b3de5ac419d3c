"""SLURM jobs that ended without running their runs, against a real single-node SLURM
(tests/slurm_cluster.py), and what ``submit`` and ``status`` say of them:

* a goal campaign whose setup line fails (``setup = ["false"]``): ``submit --wait`` exits
  4 as without the goal (before: 0, "after: 3 pending"), and status quotes the job's
  stderr line and says to fix the setup first (before: "see its log below; `ionmd sweep
  submit` submits it again", as if submitting again would help);
* an array task cancelled before it started: status says SLURM's state (CANCELLED) and
  that it wrote no log (before: "see its log below", the only file listed its
  ``_submitted.pkl``);
* ``mem_gb`` against nodes whose slurm.conf line sets no RealMemory (this cluster's: sinfo
  gives 1 MB): said so (before: "have 0.000977 GB (sinfo)").

References: the cluster's own squeue and sinfo, the job's stderr file, the campaign file's
lines."""

from __future__ import annotations

import subprocess
import time

import pytest

from ionmd.cli import main
from ionmd.errors import EXIT_INTERRUPTED
from ionmd.sweep import CampaignError, load_campaign, plan_campaign
from ionmd.sweep.state import read_claim, slurm_job_states
from slurm_cluster import running_cluster
from sweep_setup import campaign_dir, goal_campaign, line_of, write_campaign

SLURM_EXECUTOR = 'kind = "slurm"\nlauncher = "srun"\nsetup = ["false"]\n'


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    with running_cluster(tmp_path_factory.mktemp("slurm")) as cluster:
        yield cluster


def wait_for(cond, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


def test_goal_campaign_whose_setup_fails(tmp_path, slurm, capsys):
    path = goal_campaign(tmp_path, 'sigma_300K_factor = 2, budget = "1 core-h", step = "1ps"')
    text = path.read_text()
    path.write_text(text.replace('kind = "local"\ncores = 2\n', SLURM_EXECUTOR))
    capsys.readouterr()
    code = main(["sweep", "submit", str(path), "--wait", "--no-progress"])
    out, err = capsys.readouterr()
    runs = plan_campaign(load_campaign(path))
    assert [r.rundir.status["state"] for r in runs] == ["pending"] * 3    # no run started
    assert "after: 3 pending (of 3)" in out, out
    assert code == EXIT_INTERRUPTED, out + err          # was 0; without the goal 4
    assert main(["sweep", "status", str(path)]) == 0
    out = capsys.readouterr().out
    job = read_claim(runs[0].rundir)["job_id"]
    stderr_file = next(f for f in out.split("logs: ")[1].split("\n")[0].split(", ")
                       if f.endswith(".err"))
    quoted = next(line for line in open(stderr_file) if "setup line" in line).strip()
    assert quoted == "ionmd: a setup line of the campaign failed (exit 1): false"
    assert (f"job {job} left the queue without running it: a setup line failed; its stderr "
            f'says "{quoted}". Fix executor.setup (line {line_of(path, "setup =")} of {path}) '
            f"first") in out, out


def test_task_cancelled_before_it_started(tmp_path, slurm, capsys):
    from protocol_setup import morse_model

    folder = campaign_dir(tmp_path / "camp", morse_model(tmp_path / "morse.pt"))
    path = write_campaign(folder, temperatures=(600,), duration_ps=0.2,
                          executor='kind = "slurm"\nsbatch = {hold = true}',
                          resources="ranks = 1\nwalltime = 5",
                          analysis="charges = {Li = 1, Cl = -1}\nfit_start_ps = 0.02")
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 0
    (run,) = plan_campaign(load_campaign(path))
    job = read_claim(run.rundir)["job_id"]
    assert slurm_job_states()[job] == "PENDING"                 # held: it never starts
    subprocess.run(["scancel", job], check=True, capture_output=True)
    wait_for(lambda: job not in slurm_job_states(), 60, "the task to leave the queue")
    said = subprocess.run(["squeue", "--states=all", "--array", "--noheader", "--format=%i %T"],
                          capture_output=True, text=True, check=True).stdout.split()
    state = said[said.index(job) + 1]                           # SLURM's own word
    assert state == "CANCELLED"
    capsys.readouterr()
    assert main(["sweep", "status", str(path)]) == 0
    out = capsys.readouterr().out
    assert (f"job {job} left the queue without running it: SLURM says {state} (scancel, or "
            f"an admin); it wrote no job log: it never started;") in out, out
    assert "see its log below" not in out and "submitted.pkl" not in out, out


def test_mem_gb_on_nodes_without_real_memory(tmp_path, slurm):
    from protocol_setup import morse_model

    said = subprocess.run(["sinfo", "--noheader", "--format=%m"], capture_output=True,
                          text=True, check=True).stdout.split()
    assert said == ["1"]           # the test cluster's slurm.conf sets no RealMemory
    folder = campaign_dir(tmp_path / "camp", morse_model(tmp_path / "morse.pt"))
    path = write_campaign(folder, executor='kind = "slurm"\nmem_gb = 2')
    with pytest.raises(CampaignError) as exc:
        load_campaign(path)
    err = str(exc.value)
    assert (f"line {line_of(path, 'mem_gb')}: mem_gb = 2 per run but the nodes of partition "
            f"'debug' declare no memory: sinfo gives 1 MB, SLURM's default where slurm.conf "
            f"sets no RealMemory") in err, err
    assert "0.000977" not in err
