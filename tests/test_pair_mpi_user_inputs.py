"""Inputs a LAMMPS user writes for many MPI ranks (found by an MPI audit, 2026-12-05):
each against the serial run or the state LAMMPS should be in."""

import re

import pytest

from contract_models import save_toy_models
from lammps_runner import run_lmp, write_data
from structures import licl_supercell

pytestmark = pytest.mark.mpi


@pytest.fixture(scope="module")
def toy_staged(tmp_path_factory):
    """A 3-layer message-passing model with stages (3.6 A cutoff: a 12.8 A redundant shell)."""
    return save_toy_models(tmp_path_factory.mktemp("toy"))[1]


def ghost_cutoffs(log):
    return [float(v) for v in re.findall(r"ghost atom cutoff = ([0-9.]+)", log)]


def test_redundant_shell_is_not_kept_for_later_runs(toy_staged, tmp_path):
    """'ghost redundant' raises the ghost cutoff to layers x cutoff + skin; a later run in
    halo mode kept it (12.8 A instead of 5.6: every rank held and exchanged features of
    ~3x the ghosts it needs). A value the user sets with comm_modify stays."""
    write_data(licl_supercell(rep=2), tmp_path / "struct.data", ["Cl", "Li"])
    style = f"pair_style ionmd {toy_staged}"
    proc = run_lmp(f"""units metal
atom_style atomic
read_data struct.data
{style} ghost redundant
pair_coeff * * Cl Li
run 0
{style} ghost halo
pair_coeff * * Cl Li
run 0
comm_modify cutoff 8.0
{style} ghost redundant
pair_coeff * * Cl Li
run 0
{style}
pair_coeff * * Cl Li
run 0
""", tmp_path, nprocs=2)
    assert ghost_cutoffs(proc.stdout) == [12.8, 5.6, 12.8, 8.0]


def test_redundant_shell_is_not_kept_by_the_next_pair_style(toy_staged, tmp_path):
    """After 'ghost redundant', a run with another pair style kept the 12.8 A shell
    (pair_style zero 3.0 needs 3.0 + 2.0 skin)."""
    write_data(licl_supercell(rep=2), tmp_path / "struct.data", ["Cl", "Li"])
    proc = run_lmp(f"""units metal
atom_style atomic
read_data struct.data
pair_style ionmd {toy_staged} ghost redundant
pair_coeff * * Cl Li
run 0
pair_style zero 3.0
pair_coeff * *
run 0
""", tmp_path, nprocs=2)
    assert ghost_cutoffs(proc.stdout) == [12.8, 5.0]


def _partitions(tmp_path, model, launcher_env=True):
    """`mpirun -np 2 lmp -partition 2x1` (as neb/temper run) without OMP_NUM_THREADS; the
    screen output of both partitions."""
    import os
    import subprocess

    from lammps_runner import BIN

    write_data(licl_supercell(rep=1), tmp_path / "struct.data", ["Cl", "Li"])
    (tmp_path / "in.lmp").write_text("units metal\natom_style atomic\nread_data struct.data\n"
                                     f"pair_style ionmd {model}\npair_coeff * * Cl Li\nrun 0\n")
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"
           and not k.startswith(("SLURM_", "OMPI_COMM_WORLD_LOCAL", "MV2_COMM_WORLD_LOCAL"))}
    strip = [] if launcher_env else ["env", "-u", "MPI_LOCALRANKID",
                                     "-u", "OMPI_COMM_WORLD_LOCAL_RANK"]
    subprocess.run([str(BIN / "mpirun"), "-np", "2", *strip, str(BIN / "lmp"), "-partition",
                    "2x1", "-in", "in.lmp"], cwd=tmp_path, env=env, check=True,
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    return [(tmp_path / f"screen.{k}").read_text() for k in range(2)]


def test_partitions_share_the_node(toy_staged, tmp_path):
    """Each partition's rank counted only its own partition on the node: 2 partitions of 1
    rank on 2 cores took 2 torch threads each (and each partition's rank 0 would pick GPU 0,
    with the whole node's memory as its budget). The launcher's node-local rank count
    covers all partitions."""
    import os

    cores = os.cpu_count() or 1
    if cores < 2:
        pytest.skip("needs 2 cores to tell 1 thread per rank from 1 per core")
    for screen in _partitions(tmp_path, toy_staged):
        assert "2 partitions: 2 MPI ranks of all partitions on this node" in screen
        assert f"{max(1, cores // 2)} torch thread(s) per rank" in screen


def test_partitions_without_launcher_layout_say_so(toy_staged, tmp_path):
    screens = _partitions(tmp_path, toy_staged, launcher_env=False)
    assert all("the MPI launcher does not say how many ranks share this node" in s
               and "set OMP_NUM_THREADS" in s for s in screens)


def test_threads_follow_the_cores_this_process_may_use(toy_staged, tmp_path):
    """Without OMP_NUM_THREADS the threads per rank came from the node's core count over its
    ranks: a job given part of a node (a SLURM cgroup, a binding; here `taskset -c 0` on 2
    cores) ran more threads than its cores (a 4-core job on a 128-core node: 128 per rank),
    and ranks bound to their own cores (`srun -c 4`, `mpirun -bind-to core`) must not divide
    theirs by the node's ranks. Now: the affinity mask over the ranks whose masks overlap."""
    import os
    import shutil
    import subprocess

    from lammps_runner import BIN, lammps_cmd

    if (os.cpu_count() or 1) < 2 or not shutil.which("taskset"):
        pytest.skip("needs 2 cores and taskset to give the process fewer cores than the node")
    write_data(licl_supercell(rep=1), tmp_path / "struct.data", ["Cl", "Li"])
    (tmp_path / "in.lmp").write_text("units metal\natom_style atomic\nread_data struct.data\n"
                                     f"pair_style ionmd {toy_staged}\npair_coeff * * Cl Li\nrun 0\n")
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}

    def threads_line(cmd):
        out = subprocess.run(cmd + ["-in", "in.lmp", "-log", "none"], cwd=tmp_path, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             timeout=600).stdout
        line = next((ln for ln in out.splitlines() if "torch thread(s) per rank" in ln), None)
        assert line is not None, out[-2000:]
        return line.split("device cpu, ", 1)[1]

    mpirun = [str(BIN / "mpirun"), "-np", "2"]
    assert threads_line(["taskset", "-c", "0", *lammps_cmd()]) == \
        "1 torch thread(s) per rank (1 usable core(s), shared by 1 rank(s) of this node)"
    assert threads_line(mpirun + [str(BIN / "lmp")]) == \
        "1 torch thread(s) per rank (2 usable core(s), shared by 2 rank(s) of this node)"
    assert threads_line(mpirun[:1] + ["-bind-to", "core"] + mpirun[1:] + [str(BIN / "lmp")]) == \
        "1 torch thread(s) per rank (1 usable core(s), shared by 1 rank(s) of this node)"
