"""``ionmd run --np N`` against the cores mpirun may use in a SLURM job (review of
e84ea49): over several nodes, or from an ``salloc`` shell (no ``SLURM_CPUS_ON_NODE``),
mpirun places ranks over the job's nodes, whose CPUs ``SLURM_JOB_CPUS_PER_NODE`` gives
(``32(x2),16``: SLURM's format, summed here by hand); ``--np`` with the one-rank module
runner is refused before a run directory is written."""

from __future__ import annotations

import pytest

from run_command_setup import HAVE, ionmd_run, outside_slurm, record_run_all, run_inputs


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return run_inputs(tmp_path_factory.mktemp("inputs"))


@pytest.fixture
def ran(monkeypatch):
    outside_slurm(monkeypatch)
    return record_run_all(monkeypatch)


def test_ranks_over_a_multi_node_job_are_not_refused(inputs, tmp_path, ran, capsys, monkeypatch):
    # two nodes of HAVE CPUs each, and a third of 1: mpirun places 2 HAVE + 1 ranks
    monkeypatch.setenv("SLURM_JOB_CPUS_PER_NODE", f"{HAVE}(x2),1")
    monkeypatch.setenv("SLURM_JOB_NUM_NODES", "3")
    monkeypatch.setenv("SLURM_CPUS_ON_NODE", str(HAVE))
    assert ionmd_run(inputs, tmp_path / "a", "--np", str(2 * HAVE + 1)) == 0
    assert "warning" not in capsys.readouterr().err
    assert ionmd_run(inputs, tmp_path / "b", "--np", str(2 * HAVE + 2)) == 1
    err = capsys.readouterr().err
    assert f"are {2 * HAVE + 1}" in err and "SLURM_JOB_CPUS_PER_NODE" in err
    assert ran == [2 * HAVE + 1]


def test_an_salloc_shell_counts_the_jobs_cpus(inputs, tmp_path, ran, capsys, monkeypatch):
    """salloc sets no SLURM_CPUS_ON_NODE; its shell may be on the login node, whose
    affinity says nothing of the job's node."""
    monkeypatch.setenv("SLURM_JOB_CPUS_PER_NODE", str(4 * HAVE))
    monkeypatch.setenv("SLURM_JOB_NUM_NODES", "1")
    assert ionmd_run(inputs, tmp_path / "a", "--np", str(4 * HAVE)) == 0
    assert ran == [4 * HAVE]
    # within one node of a batch job, the node's CPUs (affinity) still bound it
    monkeypatch.setenv("SLURM_CPUS_ON_NODE", str(4 * HAVE))
    assert ionmd_run(inputs, tmp_path / "b", "--np", str(HAVE + 1)) == 1
    assert f"are {HAVE}" in capsys.readouterr().err


def test_np_with_the_module_runner_is_refused_before_anything_is_written(inputs, tmp_path, ran,
                                                                         capsys):
    assert ionmd_run(inputs, tmp_path / "runs", "--np", "2", "--runner", "module") == 1
    err = capsys.readouterr().err
    assert "--runner module" in err and "--runner subprocess" in err
    assert not (tmp_path / "runs").exists() and ran == []
    # a dry run plans what the run would refuse: refused alike (cores are checked only
    # where the runs will run, the runner anywhere)
    assert ionmd_run(inputs, tmp_path / "runs", "--np", "2", "--runner", "module",
                     "--dry-run") == 1
    assert "--runner module" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()
