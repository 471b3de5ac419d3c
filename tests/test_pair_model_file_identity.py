"""The same-model check compares the files the ranks open, not the path strings.

Ranks of a node that gave the same path were taken to read the same file, and only the
first of them read it: with a relative path and ranks in different working directories
(a launcher that cd's each rank into its own node-local scratch), a stale copy beside one
rank was never read and its atoms ran another potential without an error. Ranks are now
grouped by the file's device and inode.
"""

import os
import subprocess

import pytest

from contract_models import save_toy_staged
from lammps_runner import lammps_cmd, write_data
from structures import licl_supercell

ELEMENTS = ["Cl", "Li"]
RANK = "${PMI_RANK:-${OMPI_COMM_WORLD_RANK:-$PMIX_RANK}}"


def run_in_rank_dirs(tmp_path):
    write_data(licl_supercell(2, rattle=0.05, seed=5), tmp_path / "struct.data", ELEMENTS)
    (tmp_path / "in.lmp").write_text(
        "units metal\natom_style atomic\natom_modify map yes\nread_data ../struct.data\n"
        f"pair_style ionmd model.pt\npair_coeff * * {' '.join(ELEMENTS)}\nrun 0\n")
    mpirun, np_flag, n, lmp = lammps_cmd(2)
    return subprocess.run([mpirun, np_flag, n, "bash", "-c",
                           f'cd n{RANK} && exec {lmp} -in ../in.lmp -log none'],
                          cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})


@pytest.mark.mpi
def test_stale_copy_beside_one_rank_is_found(tmp_path):
    for rank, rc in ((0, 3.6), (1, 3.5)):           # rank 1's copy: another model
        (tmp_path / f"n{rank}").mkdir()
        save_toy_staged(tmp_path / f"n{rank}" / "model.pt", rc=rc)
    proc = run_in_rank_dirs(tmp_path)
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert ("the model file model.pt is not the same file on every MPI rank: 1 of 2 ranks "
            "(the first: rank 1 on host") in proc.stdout, proc.stdout[-3000:]


@pytest.mark.mpi
def test_same_content_in_each_rank_dir_runs(tmp_path):
    for rank in (0, 1):
        (tmp_path / f"n{rank}").mkdir()
        save_toy_staged(tmp_path / f"n{rank}" / "model.pt")
    assert (tmp_path / "n0/model.pt").read_bytes() == (tmp_path / "n1/model.pt").read_bytes()
    proc = run_in_rank_dirs(tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "Loop time" in proc.stdout
