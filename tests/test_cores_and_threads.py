"""The cores a run may use and the threads each rank runs, counted once (``ionmd.cores``) for
``ionmd run``, ``ionmd bench`` and the sweep's local pool. References: the kernel's
affinity (``os.sched_setaffinity`` / ``os.sched_getaffinity`` in a child process), the
variables SLURM sets in a job, and OpenMP's own reading of ``OMP_NUM_THREADS``
(libgomp's ``omp_get_max_threads`` through ctypes, in a process started with the value)."""

from __future__ import annotations

import ctypes.util
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from ase.io import read

from ionmd.bench import BenchPoint
from ionmd.cli import main
from ionmd.cores import omp_threads
from ionmd.errors import IonmdError
from protocol_setup import fcc_cell
from run_command_setup import HAVE, ionmd_run, outside_slurm, record_run_all, run_inputs

ON_ONE_CPU = "the SLURM job's CPUs on this node (SLURM_CPUS_ON_NODE) are 1"


@pytest.fixture(autouse=True)
def no_slurm_job(monkeypatch):
    outside_slurm(monkeypatch)


# ------------------------------------------------------------------ available cores
AFFINITY_PROBE = """
import json, os
from ionmd.cores import available_cores
rows = []
for one_cpu in (False, True):
    if one_cpu:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    for slurm in (None, "1", "64"):
        os.environ.pop("SLURM_CPUS_ON_NODE", None)
        if slurm is not None:
            os.environ["SLURM_CPUS_ON_NODE"] = slurm
        rows.append([slurm, len(os.sched_getaffinity(0)), *available_cores()])
print(json.dumps(rows))
"""


def test_available_cores_are_the_affinity_capped_by_the_jobs_cpus_on_the_node():
    """The kernel's count in the same process, before and after ``sched_setaffinity``,
    lowered only by a job narrower than it (SLURM_CPUS_ON_NODE)."""
    out = subprocess.run([sys.executable, "-c", AFFINITY_PROBE], capture_output=True,
                         text=True, check=True).stdout
    rows = json.loads(out)
    assert [row[1] for row in rows] == [HAVE] * 3 + [1] * 3
    for slurm, kernel, count, source in rows:
        if slurm is not None and int(slurm) < kernel:
            assert (count, source) == (int(slurm), "the SLURM job's CPUs on this node "
                                                   "(SLURM_CPUS_ON_NODE)")
        else:
            assert (count, source) == (kernel, "the CPUs this process may use")


@pytest.mark.parametrize("value", ["\u00b2", "\u0663"])     # superscript 2, Arabic-Indic 3
def test_a_slurm_count_python_calls_a_digit_but_c_does_not_is_ignored(monkeypatch, value):
    """str.isdigit accepts '²' and int() then raised; the plugin's strtol reads neither:
    not a count of CPUs (SLURM writes ASCII digits), so the affinity counts."""
    from ionmd.cores import available_cores, mpi_cores

    monkeypatch.setenv("SLURM_CPUS_ON_NODE", value)
    monkeypatch.setenv("SLURM_JOB_NUM_NODES", value)
    assert available_cores().count == len(os.sched_getaffinity(0))
    mpi_cores()


# ------------------------------------------------------------------ OMP_NUM_THREADS
def _libgomp() -> str:
    """torch's own libgomp (the OpenMP pair_style ionmd's torch threads run on), else the
    system's."""
    torch_dir = Path(importlib.util.find_spec("torch").submodule_search_locations[0])
    bundled = sorted((torch_dir / "lib").glob("libgomp*.so*"))
    found = str(bundled[0]) if bundled else ctypes.util.find_library("gomp")
    assert found, "no libgomp next to torch nor on the system"
    return found


def _openmp_reading(value: str) -> tuple[int, str]:
    """omp_get_max_threads() and libgomp's stderr in a process started with the value."""
    probe = (f"import ctypes; print(ctypes.CDLL({_libgomp()!r}).omp_get_max_threads())")
    proc = subprocess.run([sys.executable, "-I", "-c", probe], capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": value}, check=True)
    return int(proc.stdout), proc.stderr


@pytest.mark.parametrize("value", ["3", "4,2", " 5 ", "4, 2", "+3", "04", "1,2,3", "12"])
def test_omp_num_threads_is_read_as_openmp_reads_it(value, monkeypatch):
    threads, complaint = _openmp_reading(value)
    assert complaint == ""
    monkeypatch.setenv("OMP_NUM_THREADS", value)
    assert omp_threads() == threads


@pytest.mark.parametrize("value", ["abc", "0", "", "  ", "4,", "2,abc", "-1", "4 2", "3abc"])
def test_omp_num_threads_openmp_rejects_is_refused_by_name(value, monkeypatch):
    _, complaint = _openmp_reading(value)
    assert "Invalid value for environment variable OMP_NUM_THREADS" in complaint
    monkeypatch.setenv("OMP_NUM_THREADS", value)
    with pytest.raises(IonmdError, match=f"OMP_NUM_THREADS={value!r} is not a thread count"):
        omp_threads()


@pytest.mark.parametrize("value", ["\xa03", "3\xa0", "9223372036854775808",
                                   "99999999999999999999", "2,99999999999999999999"])
def test_omp_num_threads_beyond_c_blanks_and_longs_is_refused(value, monkeypatch):
    """A no-break space (a pasted value) is no blank to C's isspace, and an entry past a C
    long overflows libgomp's strtoul: libgomp ignores both; they were read as 3 and as the
    huge count."""
    _, complaint = _openmp_reading(value)
    assert "Invalid value for environment variable OMP_NUM_THREADS" in complaint
    monkeypatch.setenv("OMP_NUM_THREADS", value)
    with pytest.raises(IonmdError, match=re.escape(f"OMP_NUM_THREADS={value!r} is not a")):
        omp_threads()


def test_unset_omp_num_threads_counts_one_thread_per_rank(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert omp_threads() == 1


# ------------------------------------------------------------------ ionmd run
@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return run_inputs(tmp_path_factory.mktemp("inputs"))


@pytest.fixture
def ran(monkeypatch):
    return record_run_all(monkeypatch)


def test_run_counts_the_outer_level_of_a_nested_omp_list(inputs, tmp_path, ran, capsys,
                                                         monkeypatch):
    """``{HAVE},2``: OpenMP starts HAVE threads per rank, so 2 ranks need 2 HAVE cores
    (read as 1 thread before: 2 ranks on HAVE >= 2 cores passed)."""
    monkeypatch.setenv("OMP_NUM_THREADS", f"{HAVE},2")
    assert ionmd_run(inputs, tmp_path / "runs", "--np", "2") == 1
    assert f"2 MPI rank(s) x {HAVE} thread(s) = {2 * HAVE} cores" in capsys.readouterr().err
    assert ran == [] and not (tmp_path / "runs").exists()


def test_run_refuses_an_omp_num_threads_openmp_would_ignore(inputs, tmp_path, ran, capsys,
                                                            monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "abc")
    assert ionmd_run(inputs, tmp_path / "runs") == 1
    err = capsys.readouterr().err
    assert "OMP_NUM_THREADS='abc' is not a thread count" in err and "4,2" in err
    assert ran == [] and not (tmp_path / "runs").exists()


def test_run_builds_the_run_cell_once(inputs, tmp_path, ran, capsys, monkeypatch):
    """The run cell (minutes for millions of atoms) was built by plan_runs and again for
    the summary line; the line's atom count is the data file's (read back by ASE)."""
    import ionmd.protocols.plan
    import ionmd.protocols.prepare

    built = []
    original = ionmd.protocols.prepare.run_cell

    def counted(*args, **kwargs):
        built.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(ionmd.protocols.prepare, "run_cell", counted)
    monkeypatch.setattr(ionmd.protocols.plan, "run_cell", counted)
    assert ionmd_run(inputs, tmp_path / "runs", supercell="2x2x1") == 0
    assert len(built) == 1
    data = next((tmp_path / "runs").rglob("struct.data"))
    atoms = read(data, format="lammps-data", atom_style="atomic")
    assert len(atoms) == 4 * len(fcc_cell())
    assert f"{len(atoms)} atoms" in capsys.readouterr().out


# ------------------------------------------------------------------ one answer in a job
def _fake_point(model, atoms, ranks, workdir, threads=1, ghost="auto", memory="auto", **kw):
    return BenchPoint(atoms=len(atoms), ranks=ranks, threads=threads, steps=3, ms_per_step=10.0,
                      atom_steps_per_s=len(atoms) / 0.01, ghost=ghost, memory=memory,
                      device_used="cpu")


def _bench(inputs, out: Path, ranks: str) -> None:
    """``ionmd bench`` of ``ranks`` (comma-separated) into ``out``, its runs faked."""
    assert main(["bench", str(inputs[1]), "--atoms", "64", "--np", ranks, "--no-progress",
                 "-o", str(out)]) == 0


def test_bench_run_and_sweep_give_one_answer_in_a_job_narrower_than_the_affinity(
        inputs, tmp_path, ran, capsys, monkeypatch):
    """A SLURM job of 1 CPU whose affinity is wider: bench timed 2 ranks on the affinity's
    cores without a word while run and the sweep refused; now all three say the same."""
    import ionmd.bench
    from ionmd.sweep.local import pool_width

    monkeypatch.setattr(ionmd.bench, "run_point", _fake_point)
    monkeypatch.setenv("SLURM_CPUS_ON_NODE", "1")
    monkeypatch.setenv("SLURM_JOB_CPUS_PER_NODE", "1")
    monkeypatch.setenv("SLURM_JOB_NUM_NODES", "1")
    why = f"2 MPI rank(s) x 1 thread(s) = 2 cores, but {ON_ONE_CPU}"

    _bench(inputs, tmp_path / "bench", "1,2")
    assert f"ionmd bench: warning: --np 2: {why}" in capsys.readouterr().err
    data = json.loads((tmp_path / "bench" / "bench.json").read_text())
    assert data["cores"] == 1 and why in data["notes"][0]

    assert ionmd_run(inputs, tmp_path / "runs", "--np", "2") == 1
    assert f"--np 2: {why}" in capsys.readouterr().err

    campaign = SimpleNamespace(executor={"cores": 1},
                               resources=SimpleNamespace(ranks=2, threads=1, cores=2, gpus=0))
    pool_width(campaign)
    assert why in capsys.readouterr().err


def test_bench_csv_marks_each_point_that_shares_cores(inputs, tmp_path, capsys, monkeypatch):
    """bench.csv (no notes) gave the oversubscribed points' times unmarked: 2 ranks in a job
    of 1 CPU read like a scaling point. Each row now says whether its ranks x threads
    exceed the job's CPUs (SLURM_CPUS_ON_NODE=1)."""
    import csv

    import ionmd.bench

    monkeypatch.setattr(ionmd.bench, "run_point", _fake_point)
    monkeypatch.setenv("SLURM_CPUS_ON_NODE", "1")
    monkeypatch.setenv("SLURM_JOB_CPUS_PER_NODE", "1")
    monkeypatch.setenv("SLURM_JOB_NUM_NODES", "1")
    _bench(inputs, tmp_path / "bench", "1,2")
    with open(tmp_path / "bench" / "bench.csv", newline="") as fh:
        rows = {int(row["ranks"]): row["shares_cores"] for row in csv.DictReader(fh)}
    assert rows == {1: "False", 2: "True"}
    points = json.loads((tmp_path / "bench" / "bench.json").read_text())["points"]
    assert [(p["ranks"], p["shares_cores"]) for p in points] == [(1, False), (2, True)]


def test_bench_counts_the_cpus_of_a_multi_node_job_as_run_does(inputs, tmp_path, ran, capsys,
                                                               monkeypatch):
    """Two nodes of HAVE CPUs: mpirun places 2 HAVE ranks over them (bench warned against
    the affinity's HAVE before); one more is warned as run refuses it."""
    import ionmd.bench

    monkeypatch.setattr(ionmd.bench, "run_point", _fake_point)
    monkeypatch.setenv("SLURM_CPUS_ON_NODE", str(HAVE))
    monkeypatch.setenv("SLURM_JOB_CPUS_PER_NODE", f"{HAVE}(x2)")
    monkeypatch.setenv("SLURM_JOB_NUM_NODES", "2")
    _bench(inputs, tmp_path / "a", f"1,{2 * HAVE}")
    assert "warning" not in capsys.readouterr().err
    assert ionmd_run(inputs, tmp_path / "runs", "--np", str(2 * HAVE)) == 0

    _bench(inputs, tmp_path / "b", f"1,{2 * HAVE + 1}")
    bench_err = capsys.readouterr().err
    assert ionmd_run(inputs, tmp_path / "runs", "--np", str(2 * HAVE + 1)) == 1
    run_err = capsys.readouterr().err
    why = (f"{2 * HAVE + 1} MPI rank(s) x 1 thread(s) = {2 * HAVE + 1} cores, but the SLURM "
           f"job's CPUs over its nodes (SLURM_JOB_CPUS_PER_NODE) are {2 * HAVE}")
    assert why in bench_err and why in run_err
