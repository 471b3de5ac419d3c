"""Errors that pair_style ionmd finds on one MPI rank other than 0 reach the run's outcome.

LAMMPS's Error::one on rank 1 writes "ERROR on proc 1" to that rank's stdout only and aborts:
log.lammps (rank 0's) ended without it, and `ionmd run` recorded the run as interrupted and
resumable (every resume failed again). Now where every rank reaches the same point (the
memory guard before the model call, the collective check after a model call that makes no
exchange) the failing rank's reason stops all ranks and rank 0 logs it; and `ionmd run`
reads every rank's words in the piece's screen output (mpirun's stdout) too.

Stand-ins: a contract model that raises (TorchScript ``raise``) where its local atoms hold
Cl, on a cell with every Li at x < L/2 and every Cl at x > L/2, so on 2 ranks (a 2 x 1 x 1
grid) only rank 1 fails; the memory guard's real-graph check with ``max_memory 0.1`` on a
slab that lies wholly in rank 1's half of a tall box (rank 0 empty). References: the
failing rank the geometry gives, and the same input's message on 1 rank.
"""

from __future__ import annotations

import re
from typing import Tuple

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import bulk

from contract_models import ToyMessagePassing, save_contract_model, save_toy_staged
from lammps_runner import run_lmp, to_lammps_frame, write_data

pytestmark = pytest.mark.mpi

ELEMENTS = ["Li", "Cl"]
LX, LYZ = 12.0, 9.0
WORDS = "the stand-in cannot run on Cl atoms"


class FailsOnLocalCl(torch.nn.Module):
    """0.1 exp(-r) per edge; raises where a local atom is Cl (species 1)."""

    def forward(self, edge_vec: torch.Tensor, edge_index: torch.Tensor, species: torch.Tensor,
                nlocal: int) -> torch.Tensor:
        if bool((species[:nlocal] == 1).any()):
            raise RuntimeError("the stand-in cannot run on Cl atoms")
        r = torch.linalg.norm(edge_vec, dim=1)
        out = torch.zeros(species.shape[0], dtype=edge_vec.dtype)
        return out.index_add(0, edge_index[0], 0.1 * torch.exp(-r))[:nlocal]


def split_cell() -> Atoms:
    """Li on a 3 A grid in x < LX/2, Cl on the same grid shifted by LX/2."""
    grid = np.array([[x, y, z] for x in (0.75, 3.75) for y in np.arange(0, LYZ, 3.0)
                     for z in np.arange(0, LYZ, 3.0)])
    return Atoms(["Li"] * len(grid) + ["Cl"] * len(grid),
                 positions=np.r_[grid, grid + [LX / 2, 0, 0]], cell=[LX, LYZ, LYZ], pbc=True)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return save_contract_model(FailsOnLocalCl(), tmp_path_factory.mktemp("m") / "fails.pt",
                               cutoff=4.0, elements=ELEMENTS)


def failed_model_call(folder, model, nprocs: int) -> tuple[str, str]:
    from ase.io import write

    folder.mkdir()
    write(folder / "struct.data", split_cell(), format="lammps-data", specorder=ELEMENTS,
          masses=True, atom_style="atomic")
    proc = run_lmp(f"""units metal
atom_style atomic
processors * 1 1
read_data struct.data
pair_style ionmd {model}
pair_coeff * * Li Cl
run 0
""", folder, nprocs=nprocs, check=False)
    assert proc.returncode != 0, proc.stdout[-2000:]
    return (folder / "log.lammps").read_text(), proc.stdout


MODEL_CALL_RE = r"ERROR.*pair_style ionmd at step (\d+): (?:the model call failed on MPI rank (\d+): )?"


def test_a_model_call_failing_on_rank_one_is_in_the_log(tmp_path, model):
    serial_log, _ = failed_model_call(tmp_path / "one", model, 1)
    serial = re.search(MODEL_CALL_RE, serial_log)
    assert serial and WORDS in serial_log[serial.start():], serial_log[-2000:]
    log, out = failed_model_call(tmp_path / "two", model, 2)
    found = re.search(MODEL_CALL_RE, log)
    assert found, f"log.lammps:\n{log[-1500:]}\nstdout:\n{out[-1500:]}"
    assert found.group(2) == "1"                     # the rank that holds the Cl atoms
    assert found.group(1) == serial.group(1) == "0"
    assert WORDS in log[found.start():]


def test_ionmd_run_records_rank_ones_model_failure_as_failed(tmp_path, model):
    from ionmd.protocols import plan_runs, run_all
    from protocol_setup import short

    proto = short("stability", temperatures=(300.0,), duration_ps=0.2, relax=False,
                  ensemble="nvt", tdamp_fs=50.0, halt_volume_change=None)
    (rd,) = plan_runs(proto, split_cell(), model, tmp_path / "out", name="split")
    (status,) = run_all([rd], nprocs=2, progress=False)
    assert status["state"] == "failed" and status["resumable"] is False, status
    assert "on MPI rank 1" in status["reason"] and WORDS in status["reason"], status


class StageFailsOnLocalCl(ToyMessagePassing):
    """The toy staged model whose first stage raises where a local atom is Cl (species 0)."""

    @torch.jit.export
    def halo_stage(self, k: int, h: torch.Tensor, edge_vec: torch.Tensor,
                   edge_index: torch.Tensor, species: torch.Tensor,
                   nlocal: int) -> Tuple[torch.Tensor, torch.Tensor]:
        if k == 1 and bool((species[:nlocal] == 0).any()):
            raise RuntimeError("the stand-in cannot run on Cl atoms")
        h_next = h[:nlocal]
        energy = torch.zeros(nlocal, dtype=h.dtype, device=h.device)
        for i, layer in enumerate(self.layers):
            if i + 1 == k:
                h_next, energy = layer(h, edge_vec, edge_index, nlocal)
        if k == 1:
            energy = energy + self.e0[species[:nlocal]]
        return h_next, energy


def test_ionmd_run_reads_a_halo_rank_failure_from_the_screen_output(tmp_path):
    """Under `ghost halo` the other ranks wait in the failing call's exchanges: rank 1
    stops alone (Error::one) and its line is in mpirun's stdout only, which `ionmd run`
    keeps in the piece's screen file and now reads (it recorded 'interrupted', resumable)."""
    from ionmd.protocols import plan_runs, run_all
    from protocol_setup import short

    model = save_toy_staged(tmp_path / "staged.pt", 3.6, model=StageFailsOnLocalCl(3.6))
    proto = short("stability", temperatures=(300.0,), duration_ps=0.2, relax=False,
                  ensemble="nvt", tdamp_fs=50.0, halt_volume_change=None)
    (rd,) = plan_runs(proto, split_cell(), model, tmp_path / "out", name="split")
    (status,) = run_all([rd], nprocs=2, progress=False)
    assert "halo exchange between" in (rd.path / "screen.0.txt").read_text()
    assert status["state"] == "failed" and status["resumable"] is False, status
    assert status["reason"].startswith("ERROR on proc 1: ") and WORDS in status["reason"]


def slab_in_upper_half():
    """The 8-atom LiCl cell (two atomic layers) at z = 25-30 A in a 40 A tall box: on
    `processors 1 1 2` rank 1 (z > 20 A) holds all 8 atoms, rank 0 none."""
    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True)
    cell = atoms.cell.array.copy()
    cell[2, 2] = 40.0
    atoms.set_cell(cell, scale_atoms=False)
    atoms.positions[:, 2] += 25.0
    return to_lammps_frame(atoms)


@pytest.fixture(scope="module")
def deep_tiny(tmp_path_factory):
    """5 layers x 5 A like SevenNet-0, 8 channels, float32 (test_pair_memory_guard's)."""
    from ionmd.export import export_sevennet
    from tiny_sevennet import write_tiny_sevennet_checkpoint

    d = tmp_path_factory.mktemp("deep_tiny")
    ckpt = write_tiny_sevennet_checkpoint(d / "deep.pth", cutoff=5.0, layers=5)
    return export_sevennet(ckpt, d / "deep_f32.pt", dtype="float32")


def test_memory_guard_on_rank_one_is_in_the_log(tmp_path, deep_tiny):
    write_data(slab_in_upper_half(), tmp_path / "struct.data", ["Cl", "Li"])
    proc = run_lmp(f"""units metal
atom_style atomic
atom_modify map yes
processors 1 1 2
read_data struct.data
pair_style ionmd {deep_tiny} ghost redundant max_memory 0.1
pair_coeff * * Cl Li
run 0
""", tmp_path, nprocs=2, check=False)
    assert proc.returncode != 0, proc.stdout[-3000:]
    log = (tmp_path / "log.lammps").read_text()
    found = re.search(r"ERROR.*at step (\d+): the graph does not fit in memory: rank (\d+) holds "
                      r"(\d+) local", log)
    assert found, f"log.lammps:\n{log[-1500:]}\nstdout:\n{proc.stdout[-1500:]}"
    assert found.groups() == ("0", "1", "8")
