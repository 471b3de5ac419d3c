"""Errors that pair_style ionmd finds on one MPI rank other than 0 reach the run's outcome.

LAMMPS's Error::one on rank 1 writes "ERROR on proc 1" to that rank's stdout only and aborts:
log.lammps (rank 0's) ended without it, and `ionmd run` recorded the run as interrupted and
resumable (every resume failed again). Now where every rank reaches the same point (the
memory guard before the model call, the collective check after every model call: under
`ghost halo` the failing rank first goes on through the call's exchanges) the failing rank's
reason stops all ranks and rank 0 logs it; and `ionmd run` reads every rank's words in the
piece's screen output (mpirun's stdout) too.

Stand-ins: a contract model that raises (TorchScript ``raise``) where its local atoms hold
Cl, on a cell with every Li at x < L/2 and every Cl at x > L/2, so on 2 ranks (a 2 x 1 x 1
grid) only rank 1 fails (the memory guard's case, a slab wholly in rank 1's half of a tall
box, is test_pair_memory_guard.py's, beside its deep model). References: the failing rank
the geometry gives, and the same input's message on 1 rank.

A non-finite model output on a rank other than 0 likewise stops LAMMPS with its message in
log.lammps, so that the failure is a ``nan_model`` (status.json of `ionmd run`, the
post-mortem of `ionmd analyze`): Error::one on the failing rank alone wrote it to that
rank's stdout only, and log.lammps also lost its buffered rows (under mpirun the line was
now and then lost from stdout too: the abort outran the flush). Now the check is collective
and rank 0 prints the failing rank's message (Error::all). Stand-in: a contract model finite
except a Cl-Cl edge shorter than 2.9 A (sqrt(r - 2.9): attractive, then NaN), on the same
split cell; reference: the step at which the same input fails on 1 rank.
"""

from __future__ import annotations

import json
import re
from typing import Tuple

import pytest
import torch

from contract_models import ToyMessagePassing, save_contract_model, save_toy_staged
from ionmd.cli import main
from lammps_runner import run_lmp, write_data
from structures import li_cl_split_cell

pytestmark = pytest.mark.mpi

ELEMENTS = ["Li", "Cl"]
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


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return save_contract_model(FailsOnLocalCl(), tmp_path_factory.mktemp("m") / "fails.pt",
                               cutoff=4.0, elements=ELEMENTS)


def split_cell_folder(folder):
    """``folder`` made, with :func:`split_cell` as struct.data (types 1 Li, 2 Cl)."""
    folder.mkdir()
    write_data(li_cl_split_cell(), folder / "struct.data", ELEMENTS)
    return folder


def ionmd_run_on_two_ranks(model, out, **proto):
    """A 0.2 ps NVT stability run of :func:`split_cell` at 300 K under `ionmd run` on 2
    ranks (``proto``: more protocol settings): (its run folder, its status)."""
    from ionmd.protocols import plan_runs, run_all
    from protocol_setup import short

    proto = short("stability", temperatures=(300.0,), duration_ps=0.2, relax=False,
                  ensemble="nvt", tdamp_fs=50.0, halt_volume_change=None, **proto)
    (rd,) = plan_runs(proto, li_cl_split_cell(), model, out, name="split")
    (status,) = run_all([rd], nprocs=2, progress=False)
    return rd, status


def failed_model_call(folder, model, nprocs: int) -> tuple[str, str]:
    split_cell_folder(folder)
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
    _, status = ionmd_run_on_two_ranks(model, tmp_path / "out")
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
        return self.stage_output(k, h, edge_vec, edge_index, species, nlocal)


def test_ionmd_run_records_a_halo_rank_failure(tmp_path):
    """Under `ghost halo` the other ranks wait in the failing call's exchanges: rank 1
    stopped alone (Error::one), its line in mpirun's stdout only, which `ionmd run` keeps in
    the piece's screen file and reads (it recorded 'interrupted', resumable). Now the failing
    rank goes on through the call's exchanges and the check after the call stops every rank
    with its reason (tests/test_rank_failure_halo_stage.py: log.lammps); `ionmd run` records
    it as the failure it is."""
    model = save_toy_staged(tmp_path / "staged.pt", 3.6, model=StageFailsOnLocalCl(3.6))
    rd, status = ionmd_run_on_two_ranks(model, tmp_path / "out")
    assert "halo exchange between" in (rd.path / "screen.0.txt").read_text()
    assert status["state"] == "failed" and status["resumable"] is False, status
    assert "on MPI rank 1" in status["reason"] and WORDS in status["reason"], status


NAN_RE = r"ERROR.*pair_style ionmd: the model returned a non-finite energy or force at step (\d+).*"


class ClClNonFinite(torch.nn.Module):
    """0.1 exp(-r) per edge, except a Cl-Cl edge: sqrt(r - r_bad), NaN below r_bad (a
    constant NaN: no NaN gradient reaches the rank holding the edge's atom as a ghost)."""

    def __init__(self, r_bad: float):
        super().__init__()
        self.r_bad = r_bad

    def forward(self, edge_vec: torch.Tensor, edge_index: torch.Tensor, species: torch.Tensor,
                nlocal: int) -> torch.Tensor:
        r = torch.linalg.norm(edge_vec, dim=1)
        clcl = (species[edge_index[0]] == 1) & (species[edge_index[1]] == 1)
        e = torch.where(clcl, torch.sqrt(torch.clamp(r - self.r_bad, min=1e-12)),
                        0.1 * torch.exp(-r))
        e = torch.where(clcl & (r < self.r_bad), torch.full_like(r, float("nan")), e)
        out = torch.zeros(species.shape[0], dtype=edge_vec.dtype)
        return out.index_add(0, edge_index[0], e)[:nlocal]


@pytest.fixture(scope="module")
def nan_model(tmp_path_factory):
    return save_contract_model(ClClNonFinite(2.9), tmp_path_factory.mktemp("m") / "clcl.pt",
                               cutoff=4.0, elements=ELEMENTS)


def hand_run(folder, model, nprocs: int):
    split_cell_folder(folder)
    (folder / "run.json").write_text(json.dumps({
        "schema": "ionmd-run/1", "temperature_K": 300.0, "timestep_fs": 1.0, "dump_every": 1,
        "mobile_species": ["Li"], "charges": {"Li": 1, "Cl": -1},
        "type_map": {"1": "Li", "2": "Cl"}, "structure": "split"}))
    proc = run_lmp(f"""units metal
atom_style atomic
boundary p p p
processors * 1 1
read_data struct.data
pair_style ionmd {model}
pair_coeff * * Li Cl
velocity all create 300 1
fix 1 all nvt temp 300 300 0.05
thermo 1
dump d all custom 1 md.dump id type x y z
run 200
""", folder, nprocs=nprocs, check=False)
    assert proc.returncode != 0
    return (folder / "log.lammps").read_text(), proc.stdout


def test_a_hand_run_on_two_ranks_logs_rank_ones_failure(tmp_path, nan_model):
    serial_log, _ = hand_run(tmp_path / "one", nan_model, 1)
    serial_step = int(re.search(NAN_RE, serial_log).group(1))
    log, _ = hand_run(tmp_path / "two", nan_model, 2)
    found = re.search(NAN_RE, log)
    assert found, log[-2000:]
    assert " on MPI rank 1 " in found.group(0)      # the rank that holds the Cl atoms
    assert int(found.group(1)) == serial_step > 0   # mid-run, where 1 rank fails
    assert main(["analyze", str(tmp_path / "two"), "--failures-only"]) in (0, None)
    report = json.loads((tmp_path / "two" / "analysis" / "failure.json").read_text())
    # the stand-in's pull heats the cell past 2 x 300 K first: the runaway is found too
    assert [e["step"] for e in report["events"] if e["mode"] == "nan_model"] == [serial_step]


def test_ionmd_run_on_two_ranks_records_rank_ones_failure(tmp_path, nan_model):
    rd, status = ionmd_run_on_two_ranks(nan_model, tmp_path / "out", temperature_end=600.0,
                                        dump_every=1, thermo_every=1)
    found = re.search(NAN_RE, (rd.path / "log.0.lammps").read_text())
    assert found and " on MPI rank 1 " in found.group(0), status
    step = int(found.group(1))
    assert status["state"] == "failed" and status["failure_mode"] == "nan_model"
    assert status["failed_step"] == step > 0
