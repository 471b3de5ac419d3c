"""A stage failing on one MPI rank under `ghost halo` stops every rank with its reason in
log.lammps (rank 0's), and nothing hangs.

Under `ghost halo` the ranks exchange node features between the model's stages. A rank whose
stage raised went through Error::one while the others waited in the next exchange: its line
reached that rank's stdout only (log.lammps ended without it) and the others could wait until
the job's wall time. Now the failing rank keeps joining the call's exchanges with zero rows to
the call's end and every rank reaches the collective check after it, so each rank calls each
collective the same number of times whichever stage fails.

Stand-in: the toy staged model whose stage k raises where a local atom is Cl, on a cell with
every Li at x < L/2 and every Cl at x > L/2 (`processors * 1 1`): on 2 ranks only rank 1 fails,
on 3 ranks ranks 1 and 2 (the lowest, 1, is named). Reference: the failing rank the geometry
gives; each run is bounded by a timeout (a hang fails the test).
"""

from __future__ import annotations

import re
import subprocess
from typing import Tuple

import pytest
import torch

from contract_models import ToyMessagePassing, save_toy_staged
from lammps_runner import lammps_cmd, write_data
from structures import li_cl_split_cell

pytestmark = pytest.mark.mpi

ELEMENTS = ["Li", "Cl"]
WORDS = "the stand-in cannot run on Cl atoms"


class StageKFailsOnLocalCl(ToyMessagePassing):
    """The toy staged model whose stage `fail_stage` raises where a local atom is Cl
    (species 0 in the staged file's element order Cl, Li); its whole-graph forward (what
    `ghost redundant` calls, no stages) raises there too."""

    def __init__(self, rc: float, fail_stage: int):
        super().__init__(rc)
        self.fail_stage = fail_stage

    def forward(self, edge_vec: torch.Tensor, edge_index: torch.Tensor, species: torch.Tensor,
                nlocal: int) -> torch.Tensor:
        if bool((species[:nlocal] == 0).any()):
            raise RuntimeError("the stand-in cannot run on Cl atoms")
        n = species.shape[0]    # ToyMessagePassing.forward (TorchScript has no super())
        h = self.halo_embed(species)
        energy = self.e0[species]
        for layer in self.layers:
            h, e = layer(h, edge_vec, edge_index, n)
            energy = energy + e
        return energy[:nlocal]

    @torch.jit.export
    def halo_stage(self, k: int, h: torch.Tensor, edge_vec: torch.Tensor,
                   edge_index: torch.Tensor, species: torch.Tensor,
                   nlocal: int) -> Tuple[torch.Tensor, torch.Tensor]:
        if k == self.fail_stage and bool((species[:nlocal] == 0).any()):
            raise RuntimeError("the stand-in cannot run on Cl atoms")
        return self.stage_output(k, h, edge_vec, edge_index, species, nlocal)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("m")
    return {k: save_toy_staged(folder / f"stage{k}.pt", 3.6, model=StageKFailsOnLocalCl(3.6, k))
            for k in (1, 3)}


MODEL_CALL_RE = r"ERROR.*pair_style ionmd at step 0: the model call failed on MPI rank (\d+): "


@pytest.mark.parametrize("nprocs", [2, 3])
@pytest.mark.parametrize("ghost", ["halo", "redundant"])
@pytest.mark.parametrize("stage", [1, 3])
def test_a_stage_failing_on_one_rank_stops_all_with_it_in_the_log(tmp_path, models, nprocs,
                                                                    ghost, stage):
    write_data(li_cl_split_cell(), tmp_path / "struct.data", ELEMENTS)
    (tmp_path / "in.lmp").write_text(f"""units metal
atom_style atomic
processors * 1 1
read_data struct.data
pair_style ionmd {models[stage]} ghost {ghost}
pair_coeff * * Li Cl
run 0
""")
    try:
        proc = subprocess.run(lammps_cmd(nprocs) + ["-in", "in.lmp", "-log", "log.lammps"],
                              cwd=tmp_path, env={**__import__("os").environ,
                                                 "OMP_NUM_THREADS": "1"},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{nprocs} ranks, ghost {ghost}, stage {stage}: lmp hung (no exit in 120 s)")
    log = (tmp_path / "log.lammps").read_text()
    assert proc.returncode != 0, proc.stdout[-2000:]
    if ghost == "halo":
        assert "halo exchange between" in log
    found = re.search(MODEL_CALL_RE, log)
    assert found, f"log.lammps:\n{log[-1500:]}\nstdout:\n{proc.stdout[-1500:]}"
    assert found.group(1) == "1"         # the lowest rank holding Cl atoms
    assert WORDS in log[found.start():]
