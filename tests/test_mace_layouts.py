"""Every MACE layout that mace-torch 0.3.x builds, exported with per-layer stages (the
default) and compared with MACE's own calculator (the independent reference).

The matrix covers each interaction block of ``mace.modules.interaction_classes`` as
first and as later layer (residual or not: a non-residual block returns no skip
connection), correlation orders 1-3 (also per layer), max_L 0-2, three interactions, a
multi-head model, ``use_last_readout_only``, the plain ``MACE`` class and ZBL pair
repulsion, and the readouts MACE builds energy models with: ``LinearReadoutBlock`` on
every layer but the last, ``NonLinearReadoutBlock`` or ``NonLinearBiasReadoutBlock``
on the last (``readout_classes`` also lists linear, dipole and general-bias readouts,
whose constructors ``MACE`` cannot call as its last readout). For each case, the exported file's ``forward``
(the unsplit model) and its stages chained by autograd (what ``ghost halo`` computes)
must both give MACECalculator's energy, forces and stress; and the model rebuilt from
its constructor arguments and state dict (how files pickled under e3nn 0.4 are read)
must give the same results. The models are tiny
(8 channels, Li and Cl, r_max 4 A, spherical harmonics to l = 1 but where max_L is 2)
and evaluated in Python on an 8-atom cell.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase.neighborlist import neighbor_list

from mace_reference import mace_calculator
from structures import licl_supercell
from tiny_mace import write_tiny_mace

from ionmd.export import export_mace, read_metadata
from ionmd.export.staged import run_stages

N = "RealAgnosticInteractionBlock"
R = "RealAgnosticResidualInteractionBlock"
D = "RealAgnosticDensityInteractionBlock"
DR = "RealAgnosticDensityResidualInteractionBlock"
ATT = "RealAgnosticAttResidualInteractionBlock"
NL = "RealAgnosticResidualNonLinearInteractionBlock"

CASES = {
    # the default of older mace-torch releases: no residual in the first layer
    "first_plain-later_residual-c3-L1": dict(interaction_first=N, interaction=R, correlation=3,
                                             max_L=1),
    "residual_first-plain_later-3_layers-c1,2,2-L2": dict(
        interaction_first=R, interaction=N, num_interactions=3, correlation=[1, 2, 2], max_L=2,
        max_ell=2),
    "plain_everywhere-c1-L0-MACE_class-zbl": dict(
        model="MACE", interaction_first=N, interaction=N, correlation=1, max_L=0,
        pair_repulsion=True, seed=13),   # seed 11 gives forces below 0.05 eV/A
    "density-density_residual-c2-L1-multi_head": dict(
        interaction_first=D, interaction=DR, correlation=2, max_L=1, heads=["pbe", "scan"],
        head="scan"),
    "density_residual-density-c3-L0-bias_readout-last_readout_only": dict(
        interaction_first=DR, interaction=D, correlation=3, max_L=0,
        readout="NonLinearBiasReadoutBlock", use_last_readout_only=True),
    "attention_residual-nonlinear_residual-c2-L0": dict(interaction_first=ATT, interaction=NL,
                                                        correlation=2, max_L=0),
}
TINY = dict(channels=8, elements=["Li", "Cl"], r_max=4.0, max_ell=1, radial_MLP=[16, 16],
            seed=11)
ELEMENTS = ["Li", "Cl"]   # the models' order (by atomic number)


def structure():
    """8-atom rock-salt LiCl, rattled and sheared: forces and all stress components."""
    atoms = licl_supercell(1, rattle=0.3, seed=7)
    deform = np.array([[1.0, 0.04, -0.03], [0.02, 0.97, 0.05], [-0.01, 0.03, 1.02]])
    atoms.set_cell(atoms.cell.array @ deform, scale_atoms=True)
    return atoms


def contract_graph(atoms, cutoff):
    """Periodic edges in the contract's convention (i centre, j neighbour,
    edge_vec = x_j - x_i with the image shift); species by the models' element order."""
    i, j, vec = neighbor_list("ijD", atoms, cutoff)
    species = [ELEMENTS.index(s) for s in atoms.get_chemical_symbols()]
    return (torch.tensor(vec, dtype=torch.float64), torch.tensor(np.stack([i, j])),
            torch.tensor(species))


def energy_forces_stress(atom_energies, atoms):
    """atom_energies(edge_vec) -> [N]; the contract caller's forces and stress."""
    edge_vec, edge_index, _ = contract_graph(atoms, CUTOFF)
    vec = edge_vec.clone().requires_grad_(True)
    node_e = atom_energies(vec)
    (g,) = torch.autograd.grad(node_e.sum(), vec)
    g, (i, j) = g.numpy(), edge_index.numpy()
    forces = np.zeros((len(atoms), 3))
    np.add.at(forces, i, g)
    np.add.at(forces, j, -g)
    virial = -(edge_vec.numpy()[:, :, None] * g[:, None, :]).sum(axis=0)
    stress = -virial / atoms.get_volume()
    voigt = stress[[0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]]
    node_e = node_e.detach()
    return float(node_e.sum()), forces, voigt, node_e.numpy()


CUTOFF = TINY["r_max"]


@pytest.mark.parametrize("case", list(CASES))
def test_staged_export_matches_mace_calculator(case, tmp_path, capfd):
    spec = dict(CASES[case])
    head = spec.pop("head", None)
    model_file = write_tiny_mace(tmp_path / f"{case}.model", **dict(TINY, **spec))
    out = export_mace(model_file, tmp_path / f"{case}.pt", head=head)
    assert "without per-layer stages" not in capfd.readouterr().err
    layers = spec.get("num_interactions", 2)
    meta = read_metadata(out)
    assert meta["halo_stages"] == str(layers)

    atoms = structure()
    ref = atoms.copy()
    ref.calc = mace_calculator(model_file, "float64", head)
    e_ref, f_ref, s_ref = ref.get_potential_energy(), ref.get_forces(), ref.get_stress()
    assert np.abs(f_ref).max() > 0.05, "degenerate test: forces too small to compare"

    module = torch.jit.load(str(out))
    _, edge_index, species = contract_graph(atoms, CUTOFF)
    n = len(atoms)
    plain = energy_forces_stress(lambda v: module(v, edge_index, species, n), atoms)
    staged = energy_forces_stress(
        lambda v: run_stages(module, v, edge_index, species, layers)[0], atoms)
    for name, (energy, forces, stress, _) in {"forward": plain, "stages": staged}.items():
        print(f"\n{case} {name}: |dE|/atom {abs(energy - e_ref) / n:.1e} eV, max|dF| "
              f"{np.abs(forces - f_ref).max():.1e} eV/A, max|dS| {np.abs(stress - s_ref).max():.1e}")
        assert abs(energy - e_ref) / n <= 1e-8, name
        assert np.abs(forces - f_ref).max() <= 1e-6, name
        assert np.abs(stress - s_ref).max() <= 1e-6, name
    assert np.abs(staged[3] - plain[3]).max() <= 1e-10   # per-atom energies

    # the rebuild that reads files pickled under e3nn 0.4 (ionmd.export.mace) gives the
    # same model, checked here on every layout (built under the installed e3nn)
    from mace.calculators import MACECalculator

    from ionmd.export.mace import rebuild_mace_model

    original = torch.load(str(model_file), weights_only=False)
    rebuilt = rebuild_mace_model(original)
    assert rebuilt is not original
    again = atoms.copy()
    again.calc = MACECalculator(models=rebuilt, device="cpu", default_dtype="float64",
                                **({"head": head} if head else {}))
    assert again.get_potential_energy() == pytest.approx(e_ref, abs=1e-10)
    assert np.abs(again.get_forces() - f_ref).max() <= 1e-10


@pytest.mark.parametrize("breakage", ["refused", "stages_disagree"])
def test_unstageable_layout_falls_back_to_unstaged(breakage, tmp_path, capfd, monkeypatch):
    """A layout whose stages cannot be built (or fail their check) is exported without
    stages, with a one-line note, and is still exact."""
    from ionmd.errors import ExportError
    from ionmd.export import mace_stages

    if breakage == "refused":
        def refuse(model):
            raise ExportError("no stages for this one\nsecond line")
        monkeypatch.setattr(mace_stages, "check_splittable", refuse)
    else:   # stage 2 reads no energy: the export's stage check must catch it
        monkeypatch.setattr(mace_stages, "layer_readouts",
                            lambda model: list(model.readouts)[:1] + [None])
    spec = dict(interaction_first=N, interaction=R, correlation=1, max_L=0)
    model_file = write_tiny_mace(tmp_path / "m.model", **dict(TINY, **spec))
    out = export_mace(model_file, tmp_path / "m.pt")
    err = [line for line in capfd.readouterr().err.splitlines() if line.startswith("ionmd:")]
    assert len(err) == 1 and "without per-layer stages" in err[0], err
    assert ("no stages for this one" if breakage == "refused" else "disagree") in err[0]
    meta = read_metadata(out)
    assert "halo_stages" not in meta and "halo_widths" not in meta

    atoms = structure()
    ref = atoms.copy()
    ref.calc = mace_calculator(model_file)
    module = torch.jit.load(str(out))
    _, edge_index, species = contract_graph(atoms, CUTOFF)
    energy, forces, stress, _ = energy_forces_stress(
        lambda v: module(v, edge_index, species, len(atoms)), atoms)
    assert abs(energy - ref.get_potential_energy()) / len(atoms) <= 1e-8
    assert np.abs(forces - ref.get_forces()).max() <= 1e-6
    assert np.abs(stress - ref.get_stress()).max() <= 1e-6
