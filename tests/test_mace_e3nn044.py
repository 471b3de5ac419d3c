"""MACE model files pickled under e3nn 0.4.4 (the version mace-torch pins, so the files
of every standard MACE install and the foundation models) exported in ionmd's
environment (e3nn 0.6) and run in pair_style ionmd.

The fixtures (tests/fixtures/make_mace_e3nn044.py says how they were made) were written
in a throw-away environment with torch 2.13.0, e3nn 0.4.4 and mace-torch 0.3.16, and the
reference energies, forces and stresses come from MACECalculator in that environment:
an independent reference that ionmd's environment cannot recompute (it cannot even
unpickle the files without ionmd's rebuild).
"""

import json
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms

from lammps_runner import single_point

from ionmd.errors import ExportError
from ionmd.export import export_mace, read_metadata
from ionmd.export.contract import sha256_of

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = json.loads((FIXTURES / "mace_e3nn044_reference.json").read_text())
MODELS = REFERENCE["models"]


def fixture_atoms(name):
    s = MODELS[name]["structure"]
    return Atoms(s["symbols"], positions=s["positions"], cell=s["cell"], pbc=True)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Default (staged) exports of both fixtures, made once."""
    out = tmp_path_factory.mktemp("e3nn044")
    return {name: export_mace(FIXTURES / name, out / f"{name}.pt") for name in MODELS}


def test_fixtures_are_the_e3nn044_files():
    assert REFERENCE["versions"]["e3nn"] == "0.4.4"
    for name, ref in MODELS.items():
        assert sha256_of(FIXTURES / name) == ref["sha256"], name


def test_they_hold_e3nn044_generated_code():
    """The fixtures hold e3nn 0.4's generated-code state, which later e3nn cannot
    unpickle: the export must take the rebuild path for them."""
    import torch

    from ionmd.export.mace import _tolerant_e3nn_unpickling

    for name in MODELS:
        with _tolerant_e3nn_unpickling() as old_e3nn:
            torch.load(str(FIXTURES / name), weights_only=False)
        assert old_e3nn, name


@pytest.mark.parametrize("name", list(MODELS))
def test_export_matches_mace_calculator_under_e3nn044(name, exported, tmp_path):
    ref = MODELS[name]
    atoms = fixture_atoms(name)
    meta = read_metadata(exported[name])
    assert meta["halo_stages"] == "2"          # staged, first layer residual or not
    assert meta["source_sha256"] == ref["sha256"]
    elements = meta["elements"].split()
    lmp = single_point(atoms, exported[name], tmp_path, elements)
    f_ref, s_ref, n = np.array(ref["forces"]), np.array(ref["stress"]), len(atoms)
    print(f"\n{name}: |dE|/atom {abs(lmp.energy - ref['energy']) / n:.1e} eV, max|dF| "
          f"{np.abs(lmp.forces - f_ref).max():.1e} eV/A (max|F| {np.abs(f_ref).max():.2f}), "
          f"max|dS| {np.abs(lmp.stress_ase() - s_ref).max():.1e} eV/A^3")
    assert np.abs(f_ref).max() > 0.05, "degenerate test: forces too small to compare"
    assert abs(lmp.energy - ref["energy"]) / n <= 1e-8
    assert np.abs(lmp.forces - f_ref).max() <= 1e-6
    assert np.abs(lmp.stress_ase() - s_ref).max() <= 1e-6


@pytest.mark.mpi
def test_halo_exchange_of_the_non_residual_model(exported, tmp_path):
    """Two ranks, per-layer halo exchange: the stages of a model whose first
    interaction has no residual (RealAgnosticInteractionBlock)."""
    name = "mace_e3nn044_nonres.model"
    ref = MODELS[name]
    atoms = fixture_atoms(name)
    elements = read_metadata(exported[name])["elements"].split()
    lmp = single_point(atoms, exported[name], tmp_path, elements, nprocs=2,
                       pair_extra="ghost halo")
    assert "halo exchange between 2 stages" in lmp.log
    assert abs(lmp.energy - ref["energy"]) / len(atoms) <= 1e-8
    assert np.abs(lmp.forces - np.array(ref["forces"])).max() <= 1e-6
    assert np.abs(lmp.stress_ase() - np.array(ref["stress"])).max() <= 1e-6


def test_unstaged_export_reads_them_too(tmp_path):
    out = export_mace(FIXTURES / "mace_e3nn044_res.model", tmp_path / "plain.pt", stages=False)
    assert "halo_stages" not in read_metadata(out)


@pytest.mark.parametrize("damage", ["truncated", "not_a_pickle"])
def test_unreadable_file_is_a_clear_error(damage, tmp_path):
    data = (FIXTURES / "mace_e3nn044_res.model").read_bytes()
    bad = tmp_path / "bad.model"
    bad.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"not a model\n" * 10)
    with pytest.raises(ExportError, match=r"cannot read .*bad.model as a MACE model file .*"
                                          r"mace_run_train"):
        export_mace(bad, tmp_path / "x.pt")
