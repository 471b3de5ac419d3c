"""The check every TorchScript export runs before writing (ionmd.export.contract.
EagerReference) must see an error of 1e-3 in one atom's force of a float32 export.

Before, its test graphs put atoms 0.45 A apart (uniform points), where SevenNet-0 gives
per-atom energies of 1e6 eV and forces of 7e7 eV/A, and the error was measured against
the largest value, so a defect elsewhere was a thousand times under the tolerance. The
graphs now keep atoms 1.5 A apart and each value is held to its own size."""

import numpy as np
import pytest
import torch

from ionmd.errors import ExportError
from ionmd.export.contract import EagerReference
from ionmd.export.staged import random_graphs, relative_error


@pytest.fixture(scope="module")
def sevennet0_check(sevennet0_f32):
    """The eager SevenNet-0 float32 model's reference outputs and its written export."""
    from ionmd.export.sevennet import build_sevennet_eager

    wrapper, meta = build_sevennet_eager("7net-0", dtype="float32")
    return EagerReference(wrapper, meta), torch.jit.load(str(sevennet0_f32))


def atom_forces(edge_grad, edge_index, n: int) -> np.ndarray:
    """Forces from dE/d edge_vec (edge_vec = x_j - x_i): f_i += g, f_j -= g."""
    grad = edge_grad.detach().double().numpy()
    forces = np.zeros((n, 3))
    np.add.at(forces, edge_index[0].numpy(), grad)
    np.subtract.at(forces, edge_index[1].numpy(), grad)
    return forces


class ForceDefect(torch.nn.Module):
    """``inner`` with ``delta`` added to dE/d edge_vec[edge, component] on graphs of
    ``num_edges`` edges, energies unchanged: the forces of the edge's two atoms are off
    by ``delta`` in that component (f_i += g, f_j -= g)."""

    def __init__(self, inner, num_edges: int, edge: int, component: int, delta: float):
        super().__init__()
        self.inner = inner
        self.num_edges, self.edge, self.component, self.delta = num_edges, edge, component, delta

    def forward(self, edge_vec, edge_index, species, nlocal: int):
        energy = self.inner(edge_vec, edge_index, species, nlocal)
        if edge_vec.shape[0] != self.num_edges:
            return energy
        x = edge_vec[self.edge, self.component]
        bump = torch.zeros_like(energy)
        bump[int(edge_index[0, self.edge])] = self.delta * (x - x.detach())
        return energy + bump


def defect_in_a_typical_force(reference, module, graph: int = 0, size: float = 1e-3):
    """``module`` with an error of ``size`` times the force on the graph's atom of median
    force, along that force's largest component, and the atom's index."""
    _, grad = reference.expected[graph]
    edge_vec, edge_index, species = reference.graphs[graph]
    forces = atom_forces(grad, edge_index, int(species.shape[0]))
    norms = np.linalg.norm(forces, axis=1)
    atom = int(np.argsort(norms)[len(norms) // 2])
    edge = int(torch.nonzero(edge_index[0] == atom)[0, 0])
    component = int(np.abs(forces[atom]).argmax())
    delta = size * float(norms[atom])
    return ForceDefect(module, int(edge_vec.shape[0]), edge, component, delta), atom


def test_real_export_passes_with_margin(sevennet0_check):
    reference, module = sevennet0_check
    assert reference.mismatch(module) < reference.rtol / 10


def test_error_of_one_atoms_force_is_refused(sevennet0_check):
    reference, module = sevennet0_check
    defective, atom = defect_in_a_typical_force(reference, module)
    edge_vec, edge_index, species = reference.graphs[0]
    vec = edge_vec.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(defective(vec, edge_index, species, len(species)).sum(), vec)
    n = len(species)
    got = atom_forces(grad, edge_index, n)[atom]
    want = atom_forces(reference.expected[0][1], edge_index, n)[atom]
    assert np.linalg.norm(got - want) / np.linalg.norm(want) == pytest.approx(1e-3, rel=0.05)
    with pytest.raises(ExportError, match="disagrees with the eager model"):
        reference.check(defective)


@pytest.mark.parametrize("cutoff", [3.6, 5.0, 6.0])
def test_check_graphs_keep_atoms_apart(cutoff):
    """No two atoms of a check graph closer than 1.5 A (0.3 cutoff for short cutoffs):
    pairs beyond the cutoff are farther anyway, so the shortest edge says it."""
    for seed in range(3):
        for edge_vec, _, _ in random_graphs(3, cutoff, torch.float64, seed=seed):
            assert float(edge_vec.norm(dim=1).min()) >= min(1.5, 0.3 * cutoff)


def test_small_value_beside_a_large_one_is_held_to_its_own_size():
    """An error of 1e-3 in a value of 1 beside one of 1e3 (the old measure, scaled by the
    largest value: 1e-6) counts as 1e-3 / (1 + median)."""
    ref = torch.tensor([1e3, 1.0, 2.0, 1.5, 0.5], dtype=torch.float64)
    got = ref.clone()
    got[1] += 1e-3
    assert relative_error(got, ref) == pytest.approx(1e-3 / (1.0 + 1.5))
    assert relative_error(ref, ref) == 0.0
    assert relative_error(torch.tensor([1e-4, 0.0]), torch.zeros(2)) == pytest.approx(1e-4)
