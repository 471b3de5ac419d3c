"""Per-atom energies and per-atom virials of an eSEN model from fairchem's own calculator,
the reference of tests/test_esen_per_atom.py.

One ``FAIRChemCalculator`` call, unchanged except for two observers:

* a forward hook on the energy head's ``energy_block`` (fairchem's ``compute_energy``
  applies it to every node's l = 0 features and then sums): the per-node outputs,
  denormalised as fairchem's predictor does for the total (``rmsd * e + mean``, with the
  element references ``ref[Z]`` added per atom), are the per-atom energies;
* a tensor hook on the edge vectors fairchem's own graph builder makes
  (``pos[src] - pos[dst] + shift``, periodic images as shifts): the gradient fairchem's
  force/stress backward sends through them, times the energy normaliser's rmsd, is
  dE/dr for every directed edge. The edge
  distances are recomputed from the same tensor, so every geometric input of the model
  (distances, Wigner matrices, envelope) flows through it.

The per-atom virial is then LAMMPS's pair convention for a many-body potential:
each directed edge's ``-r (x) dE/dr`` split half and half between its two atoms
(orientation-free: flipping an edge flips both ``r`` and ``dE/dr``). The caller checks
the reference itself: the per-atom energies add up to the calculator's energy, forces
assembled from the edge gradients are the calculator's forces, and the virial summed
over atoms is the calculator's stress times the volume.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from ase import Atoms


@dataclass
class EsenPerAtom:
    energy: float               # the calculator's energy (eV)
    forces: np.ndarray          # the calculator's forces [N, 3]
    stress: np.ndarray          # the calculator's stress, ASE Voigt (eV/A^3)
    atom_energy: np.ndarray     # [N] eV: rmsd * e_n + mean / N + ref[Z_n]
    atom_virial: np.ndarray     # [N, 6] eV, LAMMPS order xx yy zz xy xz yz
    edge_forces: np.ndarray     # [N, 3] forces assembled from the edge gradients


def _energy_task(model, task_name: str):
    (task,) = [t for t in model.dataset_to_tasks[task_name] if t.property == "energy"]
    return task


def fairchem_per_atom(calc, atoms: Atoms) -> EsenPerAtom:
    """Per-atom energies and edge-split per-atom virials of ``atoms`` from ``calc`` (a
    ``FAIRChemCalculator``, e.g. ``tiny_esen.fairchem_float64_calculator``)."""
    model = calc.predictor.model.module
    backbone = model.backbone
    node_outputs, edge_grads, graphs = [], [], []

    def keep_node_energies(module, args, out):
        node_outputs.append(out.detach().reshape(-1).clone())

    original = backbone._generate_graph

    def observed_graph(data_dict):
        graph = original(data_dict)
        vec = graph["edge_distance_vec"]
        graph["edge_distance"] = torch.linalg.norm(vec, dim=-1)
        vec.register_hook(lambda g: edge_grads.append(g.detach().clone()))
        graphs.append((graph["edge_index"].detach().clone(), vec.detach().clone()))
        return graph

    hooks = [m.register_forward_hook(keep_node_energies)
             for name, m in model.named_modules() if name.endswith("energy_block")]
    backbone._generate_graph = observed_graph   # instance attribute shadows the method
    try:
        calc.reset()    # a cached result would not run the model
        ref = atoms.copy()
        ref.calc = calc
        energy = ref.get_potential_energy()
        forces = ref.get_forces()
        stress = ref.get_stress()
    finally:
        del backbone._generate_graph
        for h in hooks:
            h.remove()
    if len(node_outputs) != 1 or len(edge_grads) != 1 or len(graphs) != 1:
        raise RuntimeError(f"expected one energy head call and one edge gradient, got "
                           f"{len(node_outputs)} and {len(edge_grads)}")

    task = _energy_task(model, calc.task_name)
    n = len(atoms)
    e = node_outputs[0].double().numpy()
    assert e.shape == (n,)
    atom_energy = e * float(task.normalizer.rmsd) + float(task.normalizer.mean) / n
    if task.element_references is not None:
        table = task.element_references.element_references.double().numpy()
        atom_energy = atom_energy + table[atoms.numbers]

    # the backward ran on the model's normalised energy: E = rmsd * E_model + ...
    (edge_index, vec) = graphs[0]
    g = edge_grads[0].double().numpy() * float(task.normalizer.rmsd)
    src, dst = edge_index.numpy()
    r = vec.double().numpy()
    w = -r[:, :, None] * g[:, None, :]                     # [E, 3, 3]
    w6 = np.stack([w[:, 0, 0], w[:, 1, 1], w[:, 2, 2], w[:, 0, 1], w[:, 0, 2], w[:, 1, 2]], 1)
    atom_virial = np.zeros((n, 6))
    np.add.at(atom_virial, src, 0.5 * w6)
    np.add.at(atom_virial, dst, 0.5 * w6)
    # r = x_src - x_dst: dE/dx_src = g, dE/dx_dst = -g
    edge_forces = np.zeros((n, 3))
    np.add.at(edge_forces, src, -g)
    np.add.at(edge_forces, dst, g)
    return EsenPerAtom(energy=energy, forces=forces, stress=stress, atom_energy=atom_energy,
                       atom_virial=atom_virial, edge_forces=edge_forces)


def voigt_virial_of(stress: np.ndarray, volume: float) -> np.ndarray:
    """ASE Voigt stress (xx yy zz yz xz xy, eV/A^3) -> virial in LAMMPS order (eV)."""
    s = -np.asarray(stress) * volume
    return np.array([s[0], s[1], s[2], s[5], s[4], s[3]])
