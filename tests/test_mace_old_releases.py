"""MACE files written by *old* mace-torch releases (0.3.3, the code of MACE-MP-0; 0.3.6,
MACE-MP-0b; 0.3.10, MACE-MPA-0 / OMAT-0) under e3nn 0.4.4, in the layouts of the
foundation models of their era, exported in ionmd's environment (mace-torch 0.3.16,
e3nn 0.6) and compared with MACECalculator of the release that wrote them.

The fixtures (tests/fixtures/make_mace_old_releases.py says how they were made, with
each release's own code) cover what changed between releases: files without the
``weights_*_zeroed`` buffers that mace-torch 0.3.14 added (every file before it: the
export refused them all), scalar and per-head scale/shift and E0s, ``heads`` absent, the
ZBL pair repulsion of 0.3.5-0.3.9 (an unused ``r_max`` buffer and cutoff module) and of
0.3.10, its prefactor (rounded to float32 in float64 exports before ionmd's repair), the
Agnesi and the 0.3.5-0.3.9 Soft distance transforms, and a multi-head fine-tune.
"""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.neighborlist import neighbor_list

from lammps_runner import single_point

from ionmd.export import export_mace, read_metadata
from ionmd.export.contract import sha256_of
from ionmd.export.staged import run_stages

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCES = {json.loads(p.read_text())["versions"]["mace-torch"]: json.loads(p.read_text())
              for p in sorted(FIXTURES.glob("mace_old_*_reference.json"))}
MODELS = {name: dict(m, release=release) for release, ref in REFERENCES.items()
          for name, m in ref["models"].items()}
CASES = [(name, head) for name, m in MODELS.items() for head in m["heads"]]


def fixture_atoms(name):
    s = MODELS[name]["structure"]
    return Atoms(s["symbols"], positions=s["positions"], cell=s["cell"], pbc=True)


def head_option(name, head):
    return head if len(MODELS[name]["heads"]) > 1 else None


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Default (staged, float64) exports, made once each, on first use."""
    out, files = tmp_path_factory.mktemp("mace_old"), {}

    def get(name, head):
        if (name, head) not in files:
            files[name, head] = export_mace(FIXTURES / name, out / f"{name}.{head}.pt",
                                            head=head_option(name, head))
        return files[name, head]
    return get


def energy_forces_stress(atom_energies, atoms, elements, cutoff, dtype=torch.float64):
    """atom_energies(edge_vec, edge_index, species) -> [N]; the contract caller's energy,
    forces and (ASE Voigt) stress on ``atoms``."""
    i, j, vec = neighbor_list("ijD", atoms, cutoff)
    species = torch.tensor([elements.index(s) for s in atoms.get_chemical_symbols()])
    edge_index = torch.tensor(np.stack([i, j]))
    v = torch.tensor(vec, dtype=dtype).requires_grad_(True)
    node_e = atom_energies(v, edge_index, species)
    (g,) = torch.autograd.grad(node_e.sum(), v)
    g = g.double().numpy()
    forces = np.zeros((len(atoms), 3))
    np.add.at(forces, i, g)
    np.add.at(forces, j, -g)
    virial = -(vec[:, :, None] * g[:, None, :]).sum(axis=0)
    stress = (-virial / atoms.get_volume())[[0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]]
    return float(node_e.detach().double().sum()), forces, stress


def test_fixtures_are_the_old_release_files():
    assert set(REFERENCES) == {"0.3.3", "0.3.6", "0.3.10"}
    for ref in REFERENCES.values():
        assert ref["versions"]["e3nn"] == "0.4.4"
    for name, m in MODELS.items():
        assert sha256_of(FIXTURES / name) == m["sha256"], name
        assert (FIXTURES / name).stat().st_size < 400_000, name


@pytest.mark.parametrize("name,head", CASES, ids=[f"{n[9:-6]}-{h}" for n, h in CASES])
def test_export_matches_the_release_that_wrote_it(name, head, exported):
    ref, atoms = MODELS[name]["heads"][head], fixture_atoms(name)
    out = exported(name, head)
    meta = read_metadata(out)
    assert meta["halo_stages"] == "2"
    assert meta["source_sha256"] == MODELS[name]["sha256"]
    elements, cutoff, n = meta["elements"].split(), float(meta["cutoff"]), len(atoms)
    module = torch.jit.load(str(out))
    results = {
        "forward": energy_forces_stress(lambda v, ei, sp: module(v, ei, sp, n),
                                        atoms, elements, cutoff),
        "stages": energy_forces_stress(lambda v, ei, sp: run_stages(module, v, ei, sp, 2)[0],
                                       atoms, elements, cutoff)}
    f_ref, s_ref = np.array(ref["forces"]), np.array(ref["stress"])
    assert np.abs(f_ref).max() > 0.05, "degenerate test: forces too small to compare"
    for how, (energy, forces, stress) in results.items():
        de = abs(energy - ref["energy"])
        df, ds = np.abs(forces - f_ref).max(), np.abs(stress - s_ref).max()
        print(f"\n{name} [{head}] {how}: |dE| {de:.1e} eV, max|dF| {df:.1e} eV/A, "
              f"max|dS| {ds:.1e} eV/A^3")
        # float64 reproduces MACE to round-off (1e-14): far below what a float32 step
        # anywhere (e.g. ZBL's prefactor, 6e-8 relative) leaves
        assert de <= 1e-12 * abs(ref["energy"]), how
        assert df <= 1e-10, how
        assert ds <= 1e-12, how


def test_float32_export(tmp_path):
    name, head = "mace_old_0310_mpa_medium.model", "default"
    ref, atoms = MODELS[name]["heads"][head], fixture_atoms(name)
    out = export_mace(FIXTURES / name, tmp_path / "f32.pt", dtype="float32", stages=False)
    meta = read_metadata(out)
    module = torch.jit.load(str(out))
    n = len(atoms)
    energy, forces, _ = energy_forces_stress(lambda v, ei, sp: module(v, ei, sp, n), atoms,
                                             meta["elements"].split(), float(meta["cutoff"]),
                                             dtype=torch.float32)
    assert abs(energy - ref["energy"]) <= 2e-7 * abs(ref["energy"])
    assert np.abs(forces - np.array(ref["forces"])).max() <= 2e-5


def test_lammps_single_point_of_an_mpa_layout(exported, tmp_path):
    """pair_style ionmd on the 0.3.10 file with ZBL (a Li at 1.6 A of its neighbour),
    the Agnesi transform and the head "default"."""
    name, head = "mace_old_0310_mpa_medium.model", "default"
    ref, atoms = MODELS[name]["heads"][head], fixture_atoms(name)
    out = exported(name, head)
    lmp = single_point(atoms, out, tmp_path, read_metadata(out)["elements"].split())
    f_ref, s_ref = np.array(ref["forces"]), np.array(ref["stress"])
    de = abs(lmp.energy - ref["energy"])
    df, ds = np.abs(lmp.forces - f_ref).max(), np.abs(lmp.stress_ase() - s_ref).max()
    print(f"\nlmp {name}: |dE| {de:.1e} eV, max|dF| {df:.1e} eV/A, max|dS| {ds:.1e} eV/A^3")
    assert de <= 1e-12 * abs(ref["energy"])
    assert df <= 1e-10
    assert ds <= 1e-10
