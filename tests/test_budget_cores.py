"""Ranks x threads against the cores a process may use: ``ionmd run --np N`` refuses to
oversubscribe before anything is written (``--oversubscribe`` overrides it, with a
warning), and the local pool runs no more at once than the available cores hold. The
references: ``taskset`` (what the kernel lets a process use) and os.sched_getaffinity."""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from run_command_setup import HAVE, ionmd_run, record_run_all, run_inputs


def test_available_cores_follow_taskset_and_slurm():
    probe = "from ionmd.sweep.local import available_cores; print(*available_cores(), sep='|')"
    out = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", probe], text=True,
                         capture_output=True, check=True).stdout.strip()
    assert out.split("|")[0] == "1"                # os.cpu_count() says HAVE
    env = dict(os.environ, SLURM_CPUS_ON_NODE="1")
    out = subprocess.run([sys.executable, "-c", probe], text=True, env=env,
                         capture_output=True, check=True).stdout.strip()
    assert out.split("|") == ["1", "the SLURM job's CPUs on this node (SLURM_CPUS_ON_NODE)"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return run_inputs(tmp_path_factory.mktemp("inputs"))


@pytest.fixture
def ran(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    return record_run_all(monkeypatch)


def test_np_beyond_the_cores_is_refused_before_anything_is_written(inputs, tmp_path, ran, capsys):
    code = ionmd_run(inputs, tmp_path / "runs", "--np", str(HAVE + 1))
    err = capsys.readouterr().err
    assert code == 1 and ran == []
    assert not (tmp_path / "runs").exists()
    assert f"--np {HAVE + 1}" in err and f"are {HAVE}" in err and "--oversubscribe" in err


def test_threads_count_with_the_ranks(inputs, tmp_path, ran, capsys, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", str(HAVE))
    assert ionmd_run(inputs, tmp_path / "runs", "--np", "2") == 1
    assert f"2 MPI rank(s) x {HAVE} thread(s) = {2 * HAVE} cores" in capsys.readouterr().err
    assert ran == []


def test_oversubscribe_runs_with_a_warning_and_fitting_ranks_run_quietly(inputs, tmp_path, ran, capsys):
    assert ionmd_run(inputs, tmp_path / "a", "--np", str(HAVE + 1), "--oversubscribe") == 0
    assert "warning: --oversubscribe" in capsys.readouterr().err
    assert ionmd_run(inputs, tmp_path / "b", "--np", str(HAVE)) == 0
    assert "warning" not in capsys.readouterr().err
    assert ran == [HAVE + 1, HAVE]
    # writing inputs for elsewhere (--dry-run) is not checked
    assert ionmd_run(inputs, tmp_path / "c", "--np", "64", "--dry-run") == 0


def test_pool_width_is_capped_at_the_available_cores(monkeypatch, capsys):
    """A campaign checked against os.cpu_count() (the machine) run under taskset or in a
    SLURM job with fewer cores: as many runs at once as the available cores hold."""
    from ionmd.sweep.local import pool_width

    def campaign(cores, ranks=1, threads=1):
        return SimpleNamespace(executor={"cores": cores},
                               resources=SimpleNamespace(ranks=ranks, threads=threads,
                                                         cores=ranks * threads, gpus=0))

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert pool_width(campaign(2)) == 2
    assert capsys.readouterr().err == ""
    assert pool_width(campaign(8)) == 2
    assert "executor.cores = 8 but the CPUs this process may use are 2" in capsys.readouterr().err
    monkeypatch.setenv("SLURM_CPUS_ON_NODE", "1")
    assert pool_width(campaign(2)) == 1
    assert pool_width(campaign(1, ranks=2)) == 1
    assert "2 MPI rank(s) x 1 thread(s) = 2 cores" in capsys.readouterr().err
