"""eSEN export: the node-energy module against fairchem's own calculator.

References: fairchem's ``FAIRChemCalculator`` on the same random-weight checkpoint
(its own graph builder, positions and cell autograd), a ghost-atom graph built here
(periodic images as separate nodes, as LAMMPS passes them), and finite
perturbations along a chain for the receptive field.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.neighborlist import neighbor_list

from structures import STRUCTURES
from tiny_esen import DATASET, fairchem_float64_calculator, write_tiny_esen_checkpoint

from ionmd.errors import ExportError
from ionmd.export.contract import sha256_of
from ionmd.export.esen import build_esen_node_energy_model

logging.getLogger().setLevel(logging.ERROR)  # fairchem warns about dataset_list at INFO/WARN


@pytest.fixture(scope="module")
def esen_checkpoint(model_dir):
    return write_tiny_esen_checkpoint(model_dir / "tiny_esen.pt")


@pytest.fixture(scope="module")
def esen_f64(esen_checkpoint):
    return build_esen_node_energy_model(esen_checkpoint, "float64")


@pytest.fixture(scope="module")
def fairchem_calc(esen_checkpoint):
    return fairchem_float64_calculator(esen_checkpoint)


def contract_inputs(atoms: Atoms, meta, dtype=torch.float64):
    """Periodic edge list in the contract's convention: i = centre, j = neighbour,
    edge_vec = x_j - x_i (image shift included), species by metadata element index."""
    i, j, vec = neighbor_list("ijD", atoms, meta.cutoff)
    species = [meta.elements.index(s) for s in atoms.get_chemical_symbols()]
    return (torch.tensor(vec, dtype=dtype), torch.tensor(np.stack([i, j]), dtype=torch.int64),
            torch.tensor(species, dtype=torch.int64))


def energy_forces_virial(module, edge_vec, edge_index, species, natoms: int, nlocal=None):
    """Contract caller: g = dE/d edge_vec, f_i += g, f_j -= g, W = -sum edge_vec (x) g.
    Ghost nodes (index >= natoms) carry an owner in ``owner`` folded by the caller."""
    vec = edge_vec.clone().requires_grad_(True)
    node_e = module(vec, edge_index, species)
    nlocal = node_e.shape[0] if nlocal is None else nlocal
    energy = node_e[:nlocal].sum()
    (g,) = torch.autograd.grad(energy, vec)
    g = g.double().numpy()
    i, j = edge_index.numpy()
    forces = np.zeros((species.shape[0], 3))
    np.add.at(forces, i, g)
    np.add.at(forces, j, -g)
    virial = -(edge_vec.double().numpy()[:, :, None] * g[:, None, :]).sum(axis=0)
    return float(energy.detach()), forces, virial


@pytest.mark.parametrize("name", list(STRUCTURES))
def test_matches_fairchem_calculator(name, esen_f64, fairchem_calc):
    module, meta = esen_f64
    atoms = STRUCTURES[name]()
    energy, forces, virial = energy_forces_virial(module, *contract_inputs(atoms, meta), len(atoms))
    ref = atoms.copy()
    ref.calc = fairchem_calc
    assert abs(energy - ref.get_potential_energy()) / len(atoms) <= 1e-8
    ref_forces = ref.get_forces()
    assert np.abs(ref_forces).max() > 0.1  # the comparison is not between zeros
    assert np.abs(forces - ref_forces).max() <= 1e-6
    stress = -virial / atoms.get_volume()  # ASE sign convention, eV/A^3
    assert np.abs(stress - ref.get_stress(voigt=False)).max() <= 1e-6


def ghost_graph(atoms: Atoms, shell: float, cutoff: float):
    """Local atoms plus every periodic image within ``shell`` of one of them, as
    separate nodes (what LAMMPS hands the pair style), and all pairs within the
    cutoff among them. Returns (positions, owners, edge_index, edge_vec)."""
    cell = atoms.cell.array
    reach = np.ceil(shell / (atoms.cell.volume / np.linalg.norm(
        np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1))).astype(int) + 1
    pos, owner = [atoms.positions], [np.arange(len(atoms))]
    for n in np.ndindex(*(2 * reach + 1)):
        shift = np.array(n) - reach
        if not shift.any():
            continue
        images = atoms.positions + shift @ cell
        dist = np.linalg.norm(images[:, None, :] - atoms.positions[None, :, :], axis=-1).min(axis=1)
        keep = dist <= shell
        pos.append(images[keep])
        owner.append(np.arange(len(atoms))[keep])
    pos, owner = np.concatenate(pos), np.concatenate(owner)
    cluster = Atoms(numbers=atoms.numbers[owner], positions=pos, pbc=False)
    i, j, vec = neighbor_list("ijD", cluster, cutoff)
    return pos, owner, np.stack([i, j]), vec


@pytest.fixture(scope="module")
def esen_short_f64(model_dir):
    """One interaction layer and a 4 A cutoff: a ghost shell small enough to be quick."""
    path = write_tiny_esen_checkpoint(model_dir / "tiny_esen_short.pt", layers=1, cutoff=4.0)
    return build_esen_node_energy_model(path, "float64")


@pytest.mark.parametrize("shell_hops, exact", [(None, True), (-1, False)])
def test_ghost_atoms_and_receptive_field(shell_hops, exact, esen_short_f64):
    """Ghost images as separate nodes, shell = num_layers x cutoff (the metadata's
    receptive field) reproduces the periodic result; one hop less does not."""
    module, meta = esen_short_f64
    assert meta.num_layers == 2
    atoms = STRUCTURES["licl_primitive_2"]()
    hops = meta.num_layers + (0 if shell_hops is None else shell_hops)
    _, owner, edge_index, vec = ghost_graph(atoms, hops * meta.cutoff, meta.cutoff)
    species = torch.tensor([meta.elements.index(atoms[k].symbol) for k in owner])
    energy, node_forces, virial = energy_forces_virial(
        module, torch.tensor(vec), torch.tensor(edge_index), species, len(atoms), nlocal=len(atoms))
    forces = np.zeros((len(atoms), 3))
    np.add.at(forces, owner, node_forces)  # LAMMPS reverse communication
    ref_e, ref_f, ref_w = energy_forces_virial(module, *contract_inputs(atoms, meta), len(atoms))
    close = (abs(energy - ref_e) <= 1e-9 and np.abs(forces - ref_f).max() <= 1e-9
             and np.abs(virial - ref_w).max() <= 1e-9)
    assert close == exact


def test_receptive_field_by_perturbation(esen_f64, esen_checkpoint):
    """Moving an atom k hops down a chain changes the centre atom's energy iff
    k <= interaction layers + 1 (eSEN's edge-degree embedding is one more hop)."""
    module, meta = esen_f64
    layers = int(meta.extra["interaction_layers"])
    assert meta.num_layers == layers + 1 == 3
    n, centre = 13, 6
    pos = np.zeros((n, 3))
    pos[:, 0] = np.arange(n) * 0.7 * meta.cutoff  # only nearest neighbours within cutoff
    species = torch.tensor([meta.elements.index(s) for s in ["Li", "Cl"] * 6 + ["Li"]])

    def centre_energy(p):
        cluster = Atoms(numbers=[3] * n, positions=p, pbc=False)
        i, j, vec = neighbor_list("ijD", cluster, meta.cutoff)
        with torch.no_grad():
            e = module(torch.tensor(vec), torch.tensor(np.stack([i, j])), species)
        return float(e[centre])

    base = centre_energy(pos)
    changed = []
    for k in range(1, 6):
        moved = pos.copy()
        moved[centre + k] += [0.0, 0.3, 0.1]
        changed.append(abs(centre_energy(moved) - base) > 1e-12)
    assert changed == [k <= meta.num_layers for k in range(1, 6)]


def test_metadata(esen_f64, esen_checkpoint):
    _, meta = esen_f64
    assert meta.family == "esen"
    assert meta.cutoff == 6.0
    assert meta.dtype == "float64"
    assert meta.elements[:3] == ["H", "He", "Li"] and "Cl" in meta.elements
    assert meta.source_sha256 == sha256_of(esen_checkpoint)
    assert meta.extra["task"] == DATASET
    assert meta.extra["max_neighbors"] == "300"
    assert meta.extra["lmax"] == meta.extra["mmax"] == "2"
    assert "esen" in meta.to_text()


def test_float32_close_to_float64(esen_checkpoint, esen_f64):
    module64, meta = esen_f64
    module32, meta32 = build_esen_node_energy_model(esen_checkpoint, "float32",
                                                    measure_receptive_field=False)
    assert meta32.dtype == "float32"
    atoms = STRUCTURES["li3ps4_like_32"]()
    e32, f32, _ = energy_forces_virial(module32, *contract_inputs(atoms, meta, torch.float32),
                                       len(atoms))
    e64, f64, _ = energy_forces_virial(module64, *contract_inputs(atoms, meta), len(atoms))
    assert module32(*contract_inputs(atoms, meta, torch.float32)).dtype == torch.float32
    assert abs(e32 - e64) / len(atoms) < 1e-5
    assert np.abs(f32 - f64).max() < 1e-4


def test_direct_force_checkpoint_is_refused(model_dir):
    path = write_tiny_esen_checkpoint(model_dir / "tiny_esen_direct.pt", direct_forces=True)
    with pytest.raises(ExportError, match="only energy-conserving eSEN models"):
        build_esen_node_energy_model(path)


def test_non_extensive_energy_offset_is_refused(model_dir):
    path = write_tiny_esen_checkpoint(model_dir / "tiny_esen_mean.pt", energy_mean=0.5)
    with pytest.raises(ExportError, match="per structure"):
        build_esen_node_energy_model(path)


def test_other_models_and_files_are_refused(tmp_path, esen_checkpoint):
    ckpt = torch.load(esen_checkpoint, weights_only=False)
    ckpt.model_config["backbone"]["model"] = "fairchem.core.models.escaip.EScAIP.EScAIPBackbone"
    torch.save(ckpt, tmp_path / "escaip.pt")
    with pytest.raises(ExportError, match="not eSEN"):
        build_esen_node_energy_model(tmp_path / "escaip.pt")

    ckpt.model_config["backbone"].update(
        model="fairchem.core.models.uma.escn_moe.eSCNMDMoeBackbone", num_experts=32)
    torch.save(ckpt, tmp_path / "uma.pt")
    with pytest.raises(ExportError, match="mixture-of-experts"):
        build_esen_node_energy_model(tmp_path / "uma.pt")

    torch.save({"config": {}, "state_dict": {}}, tmp_path / "v1.pt")
    with pytest.raises(ExportError, match="fairchem 1.x"):
        build_esen_node_energy_model(tmp_path / "v1.pt")

    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ExportError, match="not a readable"):
        build_esen_node_energy_model(tmp_path / "junk.pt")
    with pytest.raises(ExportError, match="does not exist"):
        build_esen_node_energy_model(tmp_path / "missing.pt")
    with pytest.raises(ExportError, match="dtype"):
        build_esen_node_energy_model(esen_checkpoint, "float16")
    with pytest.raises(ExportError, match="unknown task"):
        build_esen_node_energy_model(esen_checkpoint, task="omol")


def test_cli_reports_export_errors(tmp_path, capsys):
    from ionmd.cli import main

    assert main(["export", "esen", str(tmp_path / "missing.pt"), "-o", str(tmp_path / "x.pt2")]) == 1
    assert "does not exist" in capsys.readouterr().err


@pytest.fixture(scope="module")
def esen_two_layers_f64(model_dir):
    ckpt = write_tiny_esen_checkpoint(model_dir / "tiny_esen_l2.pt", layers=2, cutoff=4.0)
    return build_esen_node_energy_model(ckpt, "float64")


def test_stages_chain_to_the_whole_forward(esen_two_layers_f64):
    """eSEN's per-layer stages (edge-degree embedding, one stage per block, the last with
    norm and energy head) chained on a periodic Li3PS4-like graph give fairchem's node energies
    and edge gradients; with half the nodes local, each stage gives the local rows."""
    from ionmd.export.esen import checked_esen_stages
    from ionmd.export.staged import _local_part_error, run_stages

    module, meta = esen_two_layers_f64
    staged = checked_esen_stages(module, meta)
    width = 9 * int(meta.extra["sphere_channels"])    # (lmax + 1)^2 x channels
    assert meta.extra["halo_stages"] == "3" == str(meta.num_layers)
    assert meta.extra["halo_widths"] == f"{meta.extra['sphere_channels']} {width} {width}"
    atoms = STRUCTURES["li3ps4_like_32"]()
    edge_vec, edge_index, species = contract_inputs(atoms, meta)
    vec_a = edge_vec.clone().requires_grad_(True)
    vec_b = edge_vec.clone().requires_grad_(True)
    want = module(vec_a, edge_index, species)
    got, _ = run_stages(staged, vec_b, edge_index, species, staged.num_stages)
    (g_want,) = torch.autograd.grad(want.sum(), vec_a)
    (g_got,) = torch.autograd.grad(got.sum(), vec_b)
    assert float(want.abs().max()) > 0.1
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=0, atol=1e-12)
    assert float((g_got - g_want).abs().max()) <= 1e-12 * float(g_want.abs().max())
    with torch.no_grad():
        assert _local_part_error(staged, edge_vec, edge_index, species, staged.num_stages) <= 1e-12


def test_a_wrong_stage_split_is_refused(esen_two_layers_f64, monkeypatch):
    """If fairchem's forward changed order (here: a stage skips its block), the export
    refuses the stages instead of writing a file that is wrong on many ranks."""
    from ionmd.export import esen_stages
    from ionmd.export.esen import checked_esen_stages

    module, meta = esen_two_layers_f64
    original = esen_stages.ESENStages.stage

    def skip_middle_block(self, k, h, *args):
        out, energy = original(self, k, h, *args)
        return (h, energy) if k == 2 else (out, energy)

    monkeypatch.setattr(esen_stages.ESENStages, "stage", skip_middle_block)
    with pytest.raises(ExportError, match="per-layer stages of the export disagree"):
        checked_esen_stages(module, meta)


def test_fast_execution_backend_matches_fairchem(esen_checkpoint, fairchem_calc):
    """fairchem's umas_fast_pytorch backend (block-diagonal SO(2) products, one batched
    radial MLP) builds the same function as the default: against fairchem's calculator,
    every structure of the suite; an unknown backend is refused."""
    module, meta = build_esen_node_energy_model(esen_checkpoint, "float64",
                                                execution_mode="umas_fast_pytorch")
    assert meta.extra["execution_mode"] == "umas_fast_pytorch"
    assert type(module.backbone.backend).__name__ == "UMASFastPytorchBackend"
    for name, make in STRUCTURES.items():
        atoms = make()
        energy, forces, _ = energy_forces_virial(module, *contract_inputs(atoms, meta),
                                                 len(atoms))
        ref = atoms.copy()
        ref.calc = fairchem_calc
        assert abs(energy - ref.get_potential_energy()) / len(atoms) <= 1e-8, name
        assert np.abs(forces - ref.get_forces()).max() <= 1e-6, name
    with pytest.raises(ExportError, match="unknown eSEN execution mode"):
        build_esen_node_energy_model(esen_checkpoint, "float64", execution_mode="triton")
