"""OMP_NUM_THREADS that OpenMP ignores ('abc', '0'): pair_style ionmd skipped its sharing
of the node's cores whenever the variable was set at all, so each of 2 ranks ran one torch
thread per core (2 x 2 threads on 2 cores). Now it warns and shares the cores as if unset;
a count OpenMP accepts (a nested list '2,1': its first entry) is kept as given.

A list with a bad entry ('2,abc', '4,', '3,0') was taken as a count too (only its first
entry was read) though OpenMP ignores the whole value; '3\\n' (OpenMP: 3) was warned
against. The reference for accepted or ignored: libgomp's own reading (omp_get_max_threads
and its "Invalid value" complaint, in a process started with the value)."""

import os
import subprocess
import sys

import pytest

from contract_models import save_toy_models
from test_cores_and_threads import _openmp_reading
from lammps_runner import BIN, write_data
from structures import licl_supercell

pytestmark = pytest.mark.mpi


@pytest.fixture(scope="module")
def cell_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("omp")
    model = save_toy_models(path)[1]
    write_data(licl_supercell(rep=1), path / "struct.data", ["Cl", "Li"])
    (path / "in.lmp").write_text("units metal\natom_style atomic\nread_data struct.data\n"
                                 f"pair_style ionmd {model}\npair_coeff * * Cl Li\nrun 0\n")
    return path


def _two_ranks(cell_dir, omp: str) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": omp}
    proc = subprocess.run([str(BIN / "mpirun"), "-np", "2", str(BIN / "lmp"), "-in", "in.lmp",
                           "-log", "none"], cwd=cell_dir, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:]
    return proc.stdout


def _threads_per_rank(out: str) -> int:
    line = next(ln for ln in out.splitlines() if "torch thread(s) per rank" in ln)
    return int(line.split("device cpu, ", 1)[1].split()[0])


@pytest.mark.parametrize("omp", ["abc", "0"])
def test_a_value_openmp_ignores_is_warned_and_the_cores_shared(cell_dir, omp):
    out = _two_ranks(cell_dir, omp)
    assert f"OMP_NUM_THREADS='{omp}' is not a thread count" in out
    cores = len(os.sched_getaffinity(0))
    assert _threads_per_rank(out) == max(1, cores // 2)


def test_a_nested_list_is_kept_as_given(cell_dir):
    out = _two_ranks(cell_dir, "1,2")
    assert "is not a thread count" not in out
    assert _threads_per_rank(out) == 1


@pytest.mark.parametrize("omp", ["2,abc", "4,", "3,0", "1 ,", "1,,2", "1\n", "1, 2"])
def test_the_plugin_reads_a_list_as_openmp_does(cell_dir, omp):
    _, complaint = _openmp_reading(omp)
    ignored = "Invalid value for environment variable OMP_NUM_THREADS" in complaint
    out = _two_ranks(cell_dir, omp)
    assert ("is not a thread count" in out) == ignored
    if ignored:      # shared: 2 ranks on the affinity's cores
        assert _threads_per_rank(out) == max(1, len(os.sched_getaffinity(0)) // 2)
    else:            # kept: torch's own reading of the value in one process
        torch_threads = subprocess.run(
            [sys.executable, "-c", "import torch; print(torch.get_num_threads())"],
            env={**os.environ, "OMP_NUM_THREADS": omp}, capture_output=True, text=True,
            check=True).stdout
        assert _threads_per_rank(out) == int(torch_threads)


def test_a_slurm_jobs_share_of_the_node_caps_the_threads(cell_dir):
    """A SLURM job given 1 CPU of a node whose affinity mask is wider (no cgroup, no binding)
    ran one torch thread per core of the mask: the job's CPUs on the node (SLURM's
    SLURM_CPUS_ON_NODE) are the cores its one rank may use."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs an affinity mask of 2 cores to be wider than the job")
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    proc = subprocess.run([str(BIN / "lmp"), "-in", "in.lmp", "-log", "none"], cwd=cell_dir,
                          env={**env, "SLURM_CPUS_ON_NODE": "1"}, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:]
    line = next(ln for ln in proc.stdout.splitlines() if "torch thread(s) per rank" in ln)
    assert "1 torch thread(s) per rank (1 usable core(s)" in line, line
