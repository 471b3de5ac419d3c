"""`memory auto`'s switch to recomputation is logged whichever rank switches.

It was printed by rank 0 alone, when rank 0 itself switched: with the atoms off rank 0
(a slab, vacuum on its subdomain) the other ranks recomputed their stages without a word.
Now the ranks' switches are gathered at the end of the run and rank 0 says how many ranks
recomputed and why (the auditor's layout: LiCl in the last third of a box split 4 x 1 x 1).
"""

import pytest

from contract_models import save_toy_staged
from lammps_runner import assert_same_physics, single_point
from structures import licl_supercell

ELEMENTS = ["Cl", "Li"]
NPROCS = 4


def slab_off_rank0():
    atoms = licl_supercell(2, rattle=0.05, seed=2)
    cell = atoms.cell.array.copy()
    cell[0, 0] *= 3
    atoms.set_cell(cell)
    atoms.positions[:, 0] += 2 * cell[0, 0] / 3 + 0.5
    atoms.wrap()
    return atoms


@pytest.mark.mpi
def test_auto_switch_on_other_ranks_is_logged(tmp_path):
    atoms = slab_off_rank0()
    # the ranks of `processors 4 1 1` (equal slices of x) that hold atoms: not rank 0
    holders = sorted(set((atoms.positions[:, 0] // (atoms.cell[0, 0] / NPROCS)).astype(int)))
    assert 0 not in holders and len(holders) >= 1
    # each holder's graph has > 20 edges (16+ atoms with ~6 neighbours within 3.6 A): it
    # switches; the empty ranks have none
    model = save_toy_staged(tmp_path / "auto20.pt", memory_auto_edges=20)
    run = single_point(atoms, model, tmp_path / "auto", ELEMENTS, nprocs=NPROCS,
                       processors="4 1 1")
    assert (f"pair_style ionmd: memory auto: {len(holders)} of {NPROCS} ranks recomputed the "
            f"stages in the backward pass (rank {holders[0]}: ") in run.log, run.log[-3000:]
    assert "edges > 20 on this rank" in run.log
    ref = single_point(atoms, model, tmp_path / "fast", ELEMENTS, pair_extra="memory fast")
    assert_same_physics(run, ref, 1e-10)
