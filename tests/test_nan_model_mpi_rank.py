"""A non-finite model output on an MPI rank other than 0 stops LAMMPS with its message in
log.lammps, so that the failure is a ``nan_model`` (status.json of `ionmd run`, the
post-mortem of `ionmd analyze`). pair_style ionmd raised it with Error::one on the failing
rank alone, which writes to that rank's stdout only and aborts: log.lammps (rank 0's)
ended without it, also without its buffered rows, and under mpirun the line was now and
then lost from stdout too (the abort outran the flush). Now the check is collective and
rank 0 prints the failing rank's message (Error::all).

The stand-in model (tests/contract_models.py's contract) is finite, except a Cl-Cl edge
shorter than 2.9 A (sqrt(r - 2.9): attractive, then NaN); the cell puts every Li at x < L/2
and every Cl at x > L/2, so on 2 ranks (a 2 x 1 x 1 grid: x the longest side) only rank 1
holds Cl atoms and fails. Reference: the rank the message names, and the step at which the
same input fails on 1 rank, where the message always was in the log.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from ase import Atoms

from contract_models import save_contract_model
from ionmd.cli import main
from lammps_runner import run_lmp

ELEMENTS = ["Li", "Cl"]
LX, LYZ = 12.0, 9.0
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


def split_cell() -> Atoms:
    """Li on a 3 A grid in x < LX/2, Cl on the same grid shifted by LX/2."""
    grid = np.array([[x, y, z] for x in (0.75, 3.75) for y in np.arange(0, LYZ, 3.0)
                     for z in np.arange(0, LYZ, 3.0)])
    return Atoms(["Li"] * len(grid) + ["Cl"] * len(grid),
                 positions=np.r_[grid, grid + [LX / 2, 0, 0]], cell=[LX, LYZ, LYZ], pbc=True)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return save_contract_model(ClClNonFinite(2.9), tmp_path_factory.mktemp("m") / "clcl.pt",
                               cutoff=4.0, elements=ELEMENTS)


def hand_run(folder, model, nprocs: int):
    from ase.io import write

    folder.mkdir()
    write(folder / "struct.data", split_cell(), format="lammps-data", specorder=ELEMENTS,
          masses=True, atom_style="atomic")
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


def test_a_hand_run_on_two_ranks_logs_rank_ones_failure(tmp_path, model):
    serial_log, _ = hand_run(tmp_path / "one", model, 1)
    serial_step = int(re.search(NAN_RE, serial_log).group(1))
    log, _ = hand_run(tmp_path / "two", model, 2)
    found = re.search(NAN_RE, log)
    assert found, log[-2000:]
    assert " on MPI rank 1 " in found.group(0)      # the rank that holds the Cl atoms
    assert int(found.group(1)) == serial_step > 0   # mid-run, where 1 rank fails
    assert main(["analyze", str(tmp_path / "two"), "--failures-only"]) in (0, None)
    report = json.loads((tmp_path / "two" / "analysis" / "failure.json").read_text())
    # the stand-in's pull heats the cell past 2 x 300 K first: the runaway is found too
    assert [e["step"] for e in report["events"] if e["mode"] == "nan_model"] == [serial_step]


def test_ionmd_run_on_two_ranks_records_rank_ones_failure(tmp_path, model):
    from ionmd.protocols import plan_runs, run_all
    from protocol_setup import short

    proto = short("stability", temperatures=(300.0,), temperature_end=600.0, duration_ps=0.2,
                  relax=False, ensemble="nvt", tdamp_fs=50.0, halt_volume_change=None,
                  dump_every=1, thermo_every=1)
    (rd,) = plan_runs(proto, split_cell(), model, tmp_path / "out", name="split")
    (status,) = run_all([rd], nprocs=2, progress=False)
    found = re.search(NAN_RE, (rd.path / "log.0.lammps").read_text())
    assert found and " on MPI rank 1 " in found.group(0), status
    step = int(found.group(1))
    assert status["state"] == "failed" and status["failure_mode"] == "nan_model"
    assert status["failed_step"] == step > 0
