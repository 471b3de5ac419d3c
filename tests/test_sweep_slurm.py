"""The SLURM executor against a real single-node SLURM (Debian's slurmctld + slurmd +
munged, installed with apt-get when absent and started in a temp dir by
``slurm_cluster.py``): SevenNet-0 on the 2-atom LiCl cell at two temperatures (200 steps each), submitted
through submitit as one job array, each run started with ``srun lmp``. One array task is
cancelled mid-run (``scancel``); the resubmission resumes that run from its restart file
and leaves the other alone; every run is done once (pieces, frames), a further submit
has nothing to do, and ``collect`` builds the table."""

from __future__ import annotations

import json
import re
import subprocess
import time

import numpy as np
import pytest
from ase.build import bulk

from ionmd.analysis.run_spec import load_run_spec
from ionmd.analysis.trajectory import read_frames

from ionmd.cli import main
from ionmd.lammps.restart import restart_complete
from ionmd.sweep import load_campaign, plan_campaign
from ionmd.sweep.state import classify, read_claim, slurm_job_states
from slurm_cluster import start_cluster
from sweep_setup import write_campaign

STEPS = 200
SHORT_RUN_ANALYSIS = "charges = {Li = 1, Cl = -1}\nfit_start_ps = 0.02"
"""For runs of 0.2 ps less 0.1 ps discarded, whose MSD fit ends at 0.05 ps."""


@pytest.fixture(scope="module")
def slurm(tmp_path_factory, monkeypatch_module):
    t0 = time.time()
    cluster = start_cluster(tmp_path_factory.mktemp("slurm"))   # fails loudly if it cannot
    print(f"\nSLURM fixture: install {cluster.timings['install_s']:.1f} s, daemons up "
          f"{cluster.timings['start_s']:.1f} s, total {time.time() - t0:.1f} s")
    monkeypatch_module.setenv("SLURM_CONF", str(cluster.conf))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def _wait(cond, timeout, what, report=None):
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}"
                                 + (f"\n{report()}" if report else ""))
        time.sleep(0.2)


def _job_report(campaign_path, run, job) -> str:
    """What a failed SLURM test needs to be understood: the run's status and claim, the
    queue, and the job's submitit logs (every incarnation of a requeued task)."""
    from ionmd.sweep.slurm import job_logs

    parts = [f"status: {run.rundir.status}", f"claim: {read_claim(run.rundir)}",
             f"squeue --states=all: {_squeue_all()}"]
    for f in job_logs(load_campaign(campaign_path), job):
        parts.append(f"--- {f}\n{f.read_text()[-3000:]}")
    return "\n".join(parts)


def _squeue_all() -> str:
    res = subprocess.run(["squeue", "--states=all", "--array", "--format=%i|%T|%r"],
                         capture_output=True, text=True)
    return (res.stdout + res.stderr).strip().replace("\n", "; ")


def test_campaign_through_slurm_job_array(tmp_path, slurm, sevennet0_f32, capsys):
    folder = tmp_path / "camp"
    folder.mkdir()
    bulk("LiCl", "rocksalt", a=5.14).write(folder / "LiCl.cif")
    (folder / "sn0.pt").symlink_to(sevennet0_f32)
    path = write_campaign(
        folder, name="slurmtest", structures='["LiCl.cif"]', models='["sn0.pt"]',
        protocol="conductivity-nvt", temperatures=(900, 1200), duration_ps=STEPS / 1000,
        discard_ps=0.02, restart_every=40,
        executor='kind = "slurm"\nruns_per_job = 1\nlauncher = "srun"',
        resources='ranks = 1\nthreads = 1\nwalltime = "0:10:00"',
        analysis="charges = {Li = 1, Cl = -1}\nmcmc_samples = 20\nfit_start_ps = 0.01\n"
                 "window_ps = 0.05\nrunaway_factor = 10")   # 2 atoms: T fluctuates wildly
    runs = plan_campaign(load_campaign(path))
    t0 = time.time()
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 0
    first = {str(r.path): read_claim(r.rundir)["job_id"] for r in runs}
    assert len({j.split("_")[0] for j in first.values()}) == 1      # one job array
    # cancel one array task once its run has written a restart file (a job killed mid-run)
    victim = runs[1]
    _wait(lambda: (victim.path / "restart.a").is_file(), 300, "a restart file")
    res = subprocess.run(["scancel", first[str(victim.path)]], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    _wait(lambda: first[str(victim.path)] not in slurm_job_states(), 60,
          "the cancelled task to leave the queue")
    assert classify(victim.rundir, slurm_job_states()) == "interrupted"
    # resubmit: the cancelled run goes out again, the other one (running or done) does not
    assert main(["sweep", "submit", str(path), "--wait", "--no-progress"]) == 0
    elapsed = time.time() - t0
    for r in runs:
        st, claim = r.rundir.status, read_claim(r.rundir)
        assert st["state"] == "completed" and st["step"] == STEPS, st
        ran = claim["ran"]
        assert ran["command"][0] == "srun" and ran["command"][-1].endswith("lmp")
        assert ran["slurm_job"] == claim["job_id"]       # ran by the job it was given to
        spec = load_run_spec(r.path)
        frames, _, _ = read_frames(spec.data_file, spec.trajectory, type_map=spec.type_map)
        np.testing.assert_array_equal(frames.steps, np.arange(0, STEPS + 1, 10))
        resumed = [f for f in r.path.glob("in.*.lmp")
                   if re.search(r"^read_restart", f.read_text(), re.M)]
        if r is victim:
            assert claim["job_id"].split("_")[0] != first[str(r.path)].split("_")[0]
            assert st["pieces"] == 2 and len(resumed) == 1
        else:
            assert claim["job_id"] == first[str(r.path)]
            assert st["pieces"] == 1 and not resumed
    print(f"SLURM campaign (2 runs x {STEPS} steps of SevenNet-0 on 2 atoms, one cancelled "
          f"and resubmitted): {elapsed:.1f} s")
    capsys.readouterr()
    assert main(["sweep", "status", str(path)]) == 0
    assert "2 completed (of 2)" in capsys.readouterr().out
    # idempotent: nothing left to submit
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 0
    assert {str(r.path): read_claim(r.rundir)["job_id"] for r in runs}[str(runs[0].path)] == first[str(runs[0].path)]
    # the table is written; its cells hold one Li ion, whose D has no error bar, so no run
    # could be analysed and collect says so with exit status 1 (c403c39)
    capsys.readouterr()
    assert main(["sweep", "collect", str(path), "--no-progress"]) == 1
    assert "no run could be analysed" in capsys.readouterr().err
    rows = json.loads((folder / "runs" / "collect" / "results.json").read_text())["rows"]
    assert [(r["temperature_K"], r["replicas_done"]) for r in rows] == [(900.0, 1), (1200.0, 1)]


def test_two_rank_run_in_a_slurm_allocation(tmp_path, slurm):
    # several ranks: the default launcher is the wheel's mpirun inside the allocation
    from protocol_setup import morse_model
    from sweep_setup import campaign_dir

    folder = campaign_dir(tmp_path / "camp", morse_model(tmp_path / "morse.pt"))
    path = write_campaign(folder, name="mpitest", temperatures=(600,), duration_ps=0.2,
                          executor='kind = "slurm"', resources='ranks = 2\nwalltime = 5',
                          analysis=SHORT_RUN_ANALYSIS)
    assert main(["sweep", "submit", str(path), "--wait", "--no-progress"]) == 0
    (run,) = plan_campaign(load_campaign(path))
    assert run.rundir.status["state"] == "completed"
    ran = read_claim(run.rundir)["ran"]
    assert ran["command"][0].endswith("mpirun") and ran["command"][1:3] == ["-np", "2"]
    assert ran["slurm_job"] == read_claim(run.rundir)["job_id"]
    log = (run.path / "log.0.lammps").read_text()
    assert "on 2 procs for 200 steps" in log and "2 MPI tasks" in log


def test_resources_checked_against_the_partition(tmp_path, slurm):
    # sinfo of the running cluster: one node with os.cpu_count() CPUs, partition "debug"
    from protocol_setup import morse_model
    from sweep_setup import campaign_dir, line_of

    from ionmd.sweep import CampaignError

    folder = campaign_dir(tmp_path / "camp", morse_model(tmp_path / "morse.pt"))
    path = write_campaign(folder, executor='kind = "slurm"\npartition = "gpu"',
                          resources=f"ranks = {slurm.cpus + 1}\nwalltime = 5")
    with pytest.raises(CampaignError) as exc:
        load_campaign(path)
    err = str(exc.value)
    assert f"line {line_of(path, 'partition =')}: SLURM partition 'gpu' does not exist here; partitions: debug" in err
    path = write_campaign(folder, executor='kind = "slurm"\npartition = "debug"',
                          resources=f"ranks = {slurm.cpus + 1}\nwalltime = 5")
    with pytest.raises(CampaignError) as exc:
        load_campaign(path)
    assert (f"line {line_of(path, 'ranks =')}: each run needs ranks x threads = {slurm.cpus + 1} "
            f"cores on one node but the nodes of partition 'debug' have {slurm.cpus}") in str(exc.value)


CONVERGING = """\
name = "converging"
structures = ["licl.cif"]
models = ["licl.pt"]
temperatures = [1200]

[protocol]
name = "conductivity-nvt"
until = "hops>=120,D_rel_ci<=0.3"
max_time = "6ps"
check_every = "0.5ps"
fit_start_ps = 0.1
discard_ps = 0.5
dump_every = 20
restart_every = 500
supercell = "none"
template = "frozen.lmp"

[resources]
ranks = 1
walltime = "0:10:00"

[executor]
kind = "slurm"
launcher = "srun"
"""


def test_converging_run_goes_on_converging_after_its_task_is_cancelled(tmp_path, slurm):
    """A run with a stopping rule in a job array: its task is cancelled (as at the
    walltime) after the first check; the resubmitted task continues the same loop and stops
    where an uninterrupted local run stops."""
    from ionmd.protocols import execute, plan_runs
    from protocol_setup import superionic_folder

    folder = superionic_folder(tmp_path / "conv")
    path = folder / "converging.toml"
    path.write_text(CONVERGING)
    campaign = load_campaign(path)
    (ref,) = plan_runs(campaign.protocol, campaign.structures[0].atoms, folder / "licl.pt",
                       tmp_path / "ref", name="licl")      # the cell as the campaign read it
    reference = execute(ref)
    assert reference["stop_reason"] == "converged" and len(reference["checks"]) >= 3
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 0
    (run,) = plan_campaign(campaign)
    job = read_claim(run.rundir)["job_id"]
    _wait(lambda: len(run.rundir.status.get("checks", [])) >= 1
          and run.rundir.status.get("pieces", 0) >= 2, 300, "the second piece")
    res = subprocess.run(["scancel", job], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    _wait(lambda: job not in slurm_job_states(), 60, "the task to end")
    cut = run.rundir.status
    assert classify(run.rundir, slurm_job_states()) in ("interrupted",
                                                                           "pending")
    assert cut.get("stop_reason") is None
    assert main(["sweep", "submit", str(path), "--wait", "--no-progress"]) == 0
    st = run.rundir.status
    assert read_claim(run.rundir)["job_id"] != job            # a second task finished it
    assert (st["state"], st["stop_reason"], st["step"]) == \
        (reference["state"], reference["stop_reason"], reference["step"])
    assert [(c["step"], c["met"], c["values"]["hops"]) for c in st["checks"]] == \
        [(c["step"], c["met"], c["values"]["hops"]) for c in reference["checks"]]


def _frames(path):
    spec = load_run_spec(path)
    frames, _, _ = read_frames(spec.data_file, spec.trajectory, type_map=spec.type_map)
    return frames


def test_task_at_its_time_limit_is_requeued_and_resumes_bit_for_bit(tmp_path, slurm, capsys):
    """SLURM's walltime warning (USR2 to the batch shell, as --signal=B:USR2@... sends it):
    the run is stopped and recorded as timed out, the task requeued; while it waits the
    run is queued (before: "running", with no LAMMPS left), then the requeued task resumes
    it from its restart file, bit for bit the trajectory of an uninterrupted run."""
    from protocol_setup import morse_model
    from sweep_setup import campaign_dir


    folder = campaign_dir(tmp_path / "camp", morse_model(tmp_path / "morse.pt"))
    settings = dict(protocol="conductivity-nvt", temperatures=(900,), duration_ps=20.0,
                    restart_every=1000)
    path = write_campaign(folder, name="timelimit", executor='kind = "slurm"',
                          resources="ranks = 1\nwalltime = 10", **settings)
    ref = write_campaign(folder, name="ref", output="ref", **settings)   # local, uninterrupted
    for p in (path, ref):
        p.write_text(p.read_text().replace("dump_every = 10", "dump_every = 100"))
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 0
    (run,) = plan_campaign(load_campaign(path))
    job = read_claim(run.rundir)["job_id"]
    # a whole restart file (one cut short by the signal would start the run over)
    _wait(lambda: run.rundir.status.get("state") == "running"
          and restart_complete(run.path / "restart.a"), 300, "a restart file")
    res = subprocess.run(["scancel", "--batch", "--signal=USR2", job], capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stderr
    _wait(lambda: slurm_job_states().get(job) == "PENDING", 60, "SLURM to requeue the task")
    st = run.rundir.status
    assert st["state"] == "interrupted" and st["reason"].startswith(
        f"timed out: SLURM job {job} reached its time limit"), st
    # the run's own account kept beside the job's: the restart it resumes from
    assert "resume from restart." in st["reason"], st
    assert classify(run.rundir, slurm_job_states()) == "queued"
    capsys.readouterr()
    assert main(["sweep", "status", str(path)]) == 0
    out = capsys.readouterr().out
    assert "1 queued (of 1)" in out and f"job {job} was requeued (PENDING)" in out
    # nothing to submit while it waits. SLURM starts a requeued job once the old one's
    # credentials expired (cred_expire, 30 s on the test cluster): forcing an earlier start
    # (scontrol update StartTime=now) had slurmd kill it unstarted ("Job credential
    # revoked"), and the run stayed interrupted
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 0
    assert read_claim(run.rundir)["job_id"] == job
    assert main(["sweep", "submit", str(ref), "--no-progress"]) == 0
    _wait(lambda: job not in slurm_job_states() and run.rundir.status["state"] == "completed",
          300, "the requeued task to complete the run", lambda: _job_report(path, run, job))
    st = run.rundir.status
    assert st["state"] == "completed" and st["pieces"] == 2, st
    assert read_claim(run.rundir)["ran"]["slurm_job"] == job       # the requeued task
    got, want = _frames(run.path), _frames(plan_campaign(load_campaign(ref))[0].path)
    np.testing.assert_array_equal(got.steps, want.steps)
    np.testing.assert_array_equal(got.positions, want.positions)


def test_claims_are_seen_by_job_id_whatever_the_campaign_is_called(tmp_path, slurm, capsys):
    """The campaign renamed while its job waits (or a second campaign file sharing its
    output): the run is queued under its job, not pending, and not submitted again."""
    from protocol_setup import morse_model
    from sweep_setup import campaign_dir


    folder = campaign_dir(tmp_path / "camp", morse_model(tmp_path / "morse.pt"))
    kw = dict(temperatures=(600,), duration_ps=0.2, resources="ranks = 1\nwalltime = 5",
              analysis=SHORT_RUN_ANALYSIS)
    path = write_campaign(folder, name="first", executor='kind = "slurm"\nsbatch = {hold = true}',
                          **kw)
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 0
    (run,) = plan_campaign(load_campaign(path))
    job = read_claim(run.rundir)["job_id"]
    assert slurm_job_states()[job] == "PENDING"                 # held by sbatch --hold
    renamed = write_campaign(folder, name="renamed", executor='kind = "slurm"', **kw)
    assert classify(run.rundir, slurm_job_states()) == "queued"
    capsys.readouterr()
    assert main(["sweep", "submit", str(renamed), "--no-progress"]) == 0
    assert "nothing to submit" in capsys.readouterr().out
    assert read_claim(run.rundir)["job_id"] == job
    # a partial table says what is missing and why (before: 'pending', as if never submitted)
    assert main(["sweep", "collect", str(renamed), "--no-progress"]) == 0
    assert "partial: 0 of 1 runs analysed (1 queued not in the table" in capsys.readouterr().out
    doc = json.loads((folder / "runs" / "collect" / "results.json").read_text())
    assert doc["complete"] is False and [r["class"] for r in doc["runs"]] == ["queued"]
    subprocess.run(["scontrol", "release", job], check=True, capture_output=True)
    assert main(["sweep", "submit", str(renamed), "--wait", "--no-progress"]) == 0
    st = run.rundir.status
    assert st["state"] == "completed" and st["pieces"] == 1
    assert read_claim(run.rundir)["ran"]["slurm_job"] == job


def test_executor_options_are_checked_before_anything_is_submitted(tmp_path, slurm):
    from protocol_setup import morse_model
    from sweep_setup import campaign_dir, line_of

    from ionmd.sweep import CampaignError

    folder = campaign_dir(tmp_path / "camp", morse_model(tmp_path / "morse.pt"))
    path = write_campaign(folder, executor='kind = "slurm"\nmem_gb = 2\n'
                                           '[executor.sbatch]\nmail-typo = "END"\ntime = "5"\n'
                                           'mail-user = "me@example.org"\nhint = "nomultithread"')
    with pytest.raises(CampaignError) as exc:
        load_campaign(path)
    err = str(exc.value)
    assert (f"line {line_of(path, 'mail-typo')}: sbatch has no option --mail-typo (`sbatch "
            f"--help`); did you mean --mail-type") in err
    time_line = line_of(path, 'time = "5"')
    assert (f"line {time_line}: sbatch option 'time' is set by ionmd from "
            f"resources.walltime") in err
    # the test node declares no memory (RealMemory 1 MB): sbatch would refuse --mem=2048M
    assert f"line {line_of(path, 'mem_gb')}: mem_gb = 2 per run but the nodes of partition 'debug'" in err
    # options sbatch takes, also one its --help does not list (hint)
    for ok in ("mail-user", "hint ="):
        assert f"line {line_of(path, ok)}:" not in err
    assert "3 problem(s)" in err


def test_refused_and_failed_jobs_say_why(tmp_path, slurm, capsys):
    """sbatch refusing the array: its own message, the options and their lines, the runs
    still pending. A setup line that fails stops the job (before: it ran the runs in the
    wrong environment); status names the job and its log."""
    from protocol_setup import morse_model
    from sweep_setup import campaign_dir, line_of


    folder = campaign_dir(tmp_path / "camp", morse_model(tmp_path / "morse.pt"))
    kw = dict(temperatures=(600,), duration_ps=0.2, resources="ranks = 1\nwalltime = 5",
              analysis=SHORT_RUN_ANALYSIS)
    # 0.0005 GB: --mem=1M (the node's 1 MB; before, int(GB) gave --mem=0GB: the whole node)
    path = write_campaign(folder, name="refused", executor='kind = "slurm"\nconstraint = "bigmem"'
                                                          '\nmem_gb = 0.0005', **kw)
    capsys.readouterr()
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "sbatch refused the campaign's job array; nothing was submitted" in err
    assert "Invalid feature specification" in err
    assert f"constraint = 'bigmem' (line {line_of(path, 'constraint')})" in err
    script = err.split("The batch script it refused: ")[1].split("\n")[0]
    assert "#SBATCH --constraint=bigmem\n#SBATCH --cpus-per-task=1\n" in open(script).read()
    assert "#SBATCH --mem=1M\n" in open(script).read()
    (run,) = plan_campaign(load_campaign(path))
    assert classify(run.rundir, slurm_job_states()) == "pending"
    path = write_campaign(folder, name="refused", executor='kind = "slurm"\nsetup = '
                          '["export IONMD_SETUP=1", "module load no-such-module"]', **kw)
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 0
    job = read_claim(run.rundir)["job_id"]
    _wait(lambda: job not in slurm_job_states(), 120, "the job to end")
    assert run.rundir.status["state"] == "pending" and not (run.path / "in.0.lmp").exists()
    capsys.readouterr()
    assert main(["sweep", "status", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"job {job} left the queue without running it" in out
    log = next(f for f in out.split("logs: ")[1].split(", ") if f.strip().endswith(".err"))
    text = open(log.strip()).read()
    assert "ionmd: a setup line of the campaign failed (exit 127): module load no-such-module" in text


def test_submit_without_sbatch_says_so(tmp_path, slurm, monkeypatch, capsys):
    # squeue answers but sbatch is not on PATH (a node without the submit commands): before,
    # "sbatch refused the campaign's job array: [Errno 2] No such file or directory: 'sbatch'"
    import shutil
    import sys
    from pathlib import Path

    from protocol_setup import morse_model
    from sweep_setup import campaign_dir

    folder = campaign_dir(tmp_path / "camp", morse_model(tmp_path / "morse.pt"))
    path = write_campaign(folder, executor='kind = "slurm"', resources="ranks = 1\nwalltime = 5")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("squeue", "sinfo", "srun"):
        (bin_dir / name).symlink_to(shutil.which(name))
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path(sys.executable).parent}")
    capsys.readouterr()
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "`sbatch` not found on PATH: run `ionmd sweep submit` on a SLURM login node" in err
    assert "nothing was submitted" in err and "refused" not in err


def test_job_held_by_slurm_keeps_its_claim(tmp_path, slurm, capsys):
    """A task requeued and held (``scontrol requeuehold State=SpecialExit``: what an admin
    or a job's special exit code leaves): its run is queued under its job, not submitted
    again; status says it waits for a release (before: "was requeued", as if it would
    resume by itself); released, the same job resumes it from its restart."""
    from protocol_setup import morse_model
    from sweep_setup import campaign_dir

    folder = campaign_dir(tmp_path / "camp", morse_model(tmp_path / "morse.pt"))
    path = write_campaign(folder, name="held", executor='kind = "slurm"',
                          resources="ranks = 1\nwalltime = 10", protocol="conductivity-nvt",
                          temperatures=(900,), duration_ps=20.0, restart_every=1000)
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 0
    (run,) = plan_campaign(load_campaign(path))
    job = read_claim(run.rundir)["job_id"]
    _wait(lambda: run.rundir.status.get("state") == "running"
          and restart_complete(run.path / "restart.a"), 300, "a restart file")
    res = subprocess.run(["scontrol", "requeuehold", "State=SpecialExit", job],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    _wait(lambda: slurm_job_states().get(job) == "SPECIAL_EXIT"
          and run.rundir.status["state"] == "interrupted", 60, "SLURM to hold the task",
          lambda: _job_report(path, run, job))
    assert classify(run.rundir, slurm_job_states()) == "queued"
    capsys.readouterr()
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 0
    assert "nothing to submit" in capsys.readouterr().out
    assert read_claim(run.rundir)["job_id"] == job
    assert main(["sweep", "status", str(path)]) == 0
    assert f"job {job} is held by SLURM (SPECIAL_EXIT)" in capsys.readouterr().out
    subprocess.run(["scontrol", "release", job], check=True, capture_output=True)
    _wait(lambda: job not in slurm_job_states() and run.rundir.status["state"] == "completed",
          300, "the released task to complete the run", lambda: _job_report(path, run, job))
    st = run.rundir.status
    assert st["pieces"] == 2 and st["step"] == st["planned_steps"]
    assert read_claim(run.rundir)["ran"]["slurm_job"] == job
