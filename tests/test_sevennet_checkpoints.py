"""SevenNet checkpoints written by older sevenn releases and with the training options
users' checkpoints carry, against the energies and forces of the release that wrote
them (tests/fixtures/make_sevennet_variants.py: 0.9.3.post1, 0.10.4, 0.11.2.post1;
XPLOR/poly_cut, linear/nequip self-connection, parity or not, trained per-species
shift/scale and denominators, trainable Bessel, biases, lmax_edge/lmax_node,
unnormalised spherical harmonics, FCN readout, irreps_manual, multi-fidelity), and the
files that are not checkpoints (SevenNet's deployed TorchScript) refused clearly."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.neighborlist import neighbor_list

from ionmd.errors import ExportError
from ionmd.export import export_sevennet, read_metadata
from lammps_runner import single_point

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RELEASES = ("0.9.3.post1", "0.10.4", "0.11.2.post1")


def _reference(release):
    ref = json.loads((FIXTURES / f"sevennet_{release}_reference.json").read_text())
    atoms = Atoms(ref["symbols"], positions=ref["positions"], cell=ref["cell"], pbc=True)
    return ref, atoms


CASES = [(release, name, modal)
         for release in RELEASES
         for name, entry in _reference(release)[0]["variants"].items()
         for modal in entry["results"]]


def _evaluate(model_file, atoms):
    """Energy and forces of an exported file on the periodic graph (all edges within the
    cutoff, one node per atom), forces from the edge-vector gradients."""
    meta = read_metadata(model_file)
    model = torch.jit.load(str(model_file))
    i, j, d = neighbor_list("ijD", atoms, float(meta["cutoff"]))
    vec = torch.tensor(d, dtype=torch.float64, requires_grad=True)
    index = torch.tensor(np.stack([i, j]), dtype=torch.int64)
    elements = meta["elements"].split()
    species = torch.tensor([elements.index(s) for s in atoms.get_chemical_symbols()])
    energy = model(vec, index, species, len(atoms)).sum()
    (grad,) = torch.autograd.grad(energy, vec)
    forces = np.zeros((len(atoms), 3))
    np.add.at(forces, i, grad.numpy())
    np.add.at(forces, j, -grad.numpy())
    return float(energy.detach()), forces


@pytest.mark.parametrize("release,name,modal", CASES,
                         ids=[f"{r}-{n}{'-' + m if m else ''}" for r, n, m in CASES])
def test_old_release_checkpoint_matches_its_release(release, name, modal, tmp_path):
    ref, atoms = _reference(release)
    result = ref["variants"][name]["results"][modal]
    out = export_sevennet(FIXTURES / f"sevennet_{release}_{name}.pth", tmp_path / "m.pt",
                          dtype="float64", modal=modal or None, stages=False)
    energy, forces = _evaluate(out, atoms)
    assert abs(energy - result["energy"]) / len(atoms) <= 1e-10
    assert np.abs(forces - np.array(result["forces"])).max() <= 1e-9


def test_old_release_checkpoint_in_lammps(tmp_path):
    """The default (staged) export of a 0.9.3 checkpoint through pair_style ionmd."""
    ref, atoms = _reference("0.9.3.post1")
    result = ref["variants"]["xplor_linear"]["results"][""]
    out = export_sevennet(FIXTURES / "sevennet_0.9.3.post1_xplor_linear.pth",
                          tmp_path / "m.pt", dtype="float64")
    lmp = single_point(atoms, out, tmp_path / "run", ["Li", "P", "S", "Cl"])
    assert abs(lmp.energy - result["energy"]) / len(atoms) <= 1e-10
    assert np.abs(lmp.forces - np.array(result["forces"])).max() <= 1e-9


def test_float32_export_of_old_checkpoint(tmp_path):
    """float32 export against the release's own (float32) SevenNetCalculator energy."""
    ref, atoms = _reference("0.10.4")
    result = ref["variants"]["trained"]["results"][""]
    out = export_sevennet(FIXTURES / "sevennet_0.10.4_trained.pth", tmp_path / "m.pt",
                          stages=False)
    model = torch.jit.load(str(out))
    i, j, d = neighbor_list("ijD", atoms, 4.0)
    species = torch.tensor([["Li", "P", "S", "Cl"].index(s) for s in atoms.get_chemical_symbols()])
    energy = float(model(torch.tensor(d, dtype=torch.float32),
                         torch.tensor(np.stack([i, j])), species, len(atoms)).sum())
    assert abs(energy - result["energy_float32"]) / len(atoms) <= 1e-5


@pytest.fixture(scope="module")
def deployed(sevennet_deployed):
    """Deployed as SevenNet's users do (deploy and deploy_parallel), in a fresh
    interpreter: this one may hold the float64 reference's patched
    OnehotEmbedding.forward (tests/sevennet_reference.py), which TorchScript cannot
    compile. The session's (tests/session_exports.py), shared with the other
    deployed-file tests."""
    return sevennet_deployed


def test_deployed_serial_is_refused_with_what_to_give(deployed, tmp_path):
    with pytest.raises(ExportError, match=r"deployed for SevenNet's own LAMMPS pair style, "
                       r"serial.*checkpoint_best\.pth"):
        export_sevennet(deployed / "deployed_serial.pt", tmp_path / "x.pt")


def test_deployed_parallel_is_refused_with_what_to_give(deployed, tmp_path):
    files = sorted(deployed.rglob("deployed_parallel_*.pt"))
    assert files
    with pytest.raises(ExportError, match=r"parallel \(pair_style e3gnn/parallel\).*"
                       r"checkpoint it was deployed from"):
        export_sevennet(files[0], tmp_path / "x.pt")
    # its folder: named a parallel deploy with the checkpoint to export (dcd7036), not
    # only "is a directory"
    with pytest.raises(ExportError, match=r"is a folder of SevenNet's parallel deploy.*"
                       r"Export the checkpoint it was deployed from"):
        export_sevennet(files[0].parent, tmp_path / "x.pt")


def test_ionmd_file_and_foreign_files_are_refused(tmp_path):
    out = export_sevennet(FIXTURES / "sevennet_0.10.4_manual.pth", tmp_path / "m.pt",
                          stages=False)
    with pytest.raises(ExportError, match="already an ionmd model file"):
        export_sevennet(out, tmp_path / "x.pt")
    torch.save({"model": 1}, tmp_path / "other.pth")
    with pytest.raises(ExportError, match="not a SevenNet checkpoint: it has no config"):
        export_sevennet(tmp_path / "other.pth", tmp_path / "x.pt")
    (tmp_path / "text.pth").write_text("{}")
    with pytest.raises(ExportError, match="cannot read .* as a SevenNet checkpoint"):
        export_sevennet(tmp_path / "text.pth", tmp_path / "x.pt")


def test_checkpoint_of_newer_sevenn_is_refused(tmp_path):
    raw = torch.load(FIXTURES / "sevennet_0.10.4_manual.pth", weights_only=False)
    raw["config"]["version"] = "99.0.0"
    torch.save(raw, tmp_path / "newer.pth")
    with pytest.raises(ExportError, match="written by sevenn 99.0.0, newer than the installed"):
        export_sevennet(tmp_path / "newer.pth", tmp_path / "x.pt")
