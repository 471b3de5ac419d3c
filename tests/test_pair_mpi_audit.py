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
