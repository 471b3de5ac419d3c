"""MACE files in mace-torch's cuEquivariance layout (``mace_run_train --enable_cueq
--only_cueq``, ``mace_convert_e3nn_cueq``) exported and run against MACECalculator
(the check every export runs on its final module: tests/test_export_final_module_check.py).

Such files used to export "successfully" and then abort at the first force call
(TorchScript shape error in the cuEquivariance blocks), or, pickled under e3nn 0.4.4,
fail with "Can't redefine method: forward on class SphericalHarmonics". The references
are MACECalculator's energies and forces for the cuEquivariance file itself; the files
are made with mace-torch's own converter (here, or for e3nn 0.4.4 by
tests/fixtures/make_mace_e3nn044_cueq.py in such an environment).
"""

import json
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.neighborlist import neighbor_list

from mace_reference import mace_calculator
from structures import li3ps4_like
from tiny_mace import write_tiny_cueq_mace

from ionmd.export import export_mace, read_metadata

pytest.importorskip("cuequivariance_torch")   # ionmd[cuda]; installed by `make install`

FIXTURES = Path(__file__).parent / "fixtures"
E3NN044_CUEQ = FIXTURES / "mace_e3nn044_cueq.model"
E3NN044_CUEQ_REF = json.loads((FIXTURES / "mace_e3nn044_cueq_reference.json").read_text())


def contract_energy_forces(path, atoms):
    """Total energy and forces of an exported model file on ``atoms`` (ASE's neighbour
    list, forces from dE/d edge_vec as pair_style ionmd sums them)."""
    import torch

    meta = read_metadata(path)
    module = torch.jit.load(str(path))
    i, j, d = neighbor_list("ijD", atoms, float(meta["cutoff"]))
    elements = meta["elements"].split()
    species = torch.tensor([elements.index(s) for s in atoms.get_chemical_symbols()])
    vec = torch.tensor(d, dtype=torch.float64, requires_grad=True)
    energy = module(vec, torch.tensor(np.stack([i, j])), species, len(atoms)).sum()
    (g,) = torch.autograd.grad(energy, vec)
    forces = np.zeros((len(atoms), 3))
    np.add.at(forces, i, g.numpy())
    np.add.at(forces, j, -g.numpy())
    return float(energy), forces


@pytest.fixture(scope="module")
def cueq_file(tmp_path_factory):
    """A small ScaleShiftMACE converted to the cuEquivariance layout by mace-torch's
    mace_convert_e3nn_cueq, saved as it saves it."""
    return write_tiny_cueq_mace(tmp_path_factory.mktemp("cueq") / "tiny.cueq.model",
                                channels=8, max_ell=2, r_max=4.5, seed=7)


def test_cueq_layout_export_matches_mace_calculator(cueq_file, tmp_path):
    atoms = li3ps4_like()
    out = export_mace(cueq_file, tmp_path / "cueq.pt")
    energy, forces = contract_energy_forces(out, atoms)
    ref = atoms.copy()
    ref.calc = mace_calculator(cueq_file)
    f_ref = ref.get_forces()
    assert np.abs(f_ref).max() > 0.05, "degenerate test: forces too small to compare"
    assert abs(energy - ref.get_potential_energy()) / len(atoms) <= 1e-10
    assert np.abs(forces - f_ref).max() <= 1e-9
    assert read_metadata(out)["halo_stages"] == "2"


def test_cueq_file_pickled_under_e3nn044(tmp_path):
    """The fixture holds no e3nn generated code (the rebuild's usual trigger), only
    e3nn 0.4.4's plain SphericalHarmonics, which e3nn 0.6's TorchScript cannot take."""
    import torch

    from ionmd.export.contract import sha256_of
    from ionmd.export.mace import _tolerant_e3nn_unpickling

    assert sha256_of(E3NN044_CUEQ) == E3NN044_CUEQ_REF["sha256"]
    assert E3NN044_CUEQ_REF["versions"]["e3nn"] == "0.4.4"
    with _tolerant_e3nn_unpickling() as old_e3nn:
        model = torch.load(str(E3NN044_CUEQ), weights_only=False)
    assert not old_e3nn and not hasattr(model.spherical_harmonics, "sph_func")

    s = E3NN044_CUEQ_REF["structure"]
    atoms = Atoms(s["symbols"], positions=s["positions"], cell=s["cell"], pbc=True)
    out = export_mace(E3NN044_CUEQ, tmp_path / "c.pt", stages=False)   # staged: test above
    energy, forces = contract_energy_forces(out, atoms)
    f_ref = np.array(E3NN044_CUEQ_REF["forces"])
    assert np.abs(f_ref).max() > 0.05, "degenerate test: forces too small to compare"
    assert abs(energy - E3NN044_CUEQ_REF["energy"]) / len(atoms) <= 1e-10
    assert np.abs(forces - f_ref).max() <= 1e-9
