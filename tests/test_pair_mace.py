"""Exported MACE models in pair_style ionmd (lmp -in) against MACE's own calculator
(independent reference), on several ranks, and the exporter's choices and errors.

The models are random-weight MACE networks with MACE-MP-0a's architecture (seed 002:
2 interactions, correlation order 3, r_max 5 A) at a small width (tests/tiny_mace.py)."""

import numpy as np
import pytest

from lammps_runner import single_point
from mace_reference import mace_calculator
from structures import li3ps4_like, licl_primitive_small, triclinic_distorted

from ionmd.errors import ExportError
from ionmd.export import export_mace, read_metadata

STRUCTURES = {"li3ps4_like": li3ps4_like, "triclinic_licl": triclinic_distorted,
              "licl_primitive_2": licl_primitive_small}


def elements_of(atoms):
    return sorted(set(atoms.get_chemical_symbols()))


def reference(atoms, model_file, dtype="float64", head=None):
    ref = atoms.copy()
    ref.calc = mace_calculator(model_file, dtype, head)
    return ref.get_potential_energy(), ref.get_forces(), ref.get_stress()


@pytest.mark.parametrize("name", list(STRUCTURES))
def test_float64_matches_mace_calculator(name, tiny_mace_f64, tiny_mace_file, tmp_path):
    atoms = STRUCTURES[name]()
    lmp = single_point(atoms, tiny_mace_f64, tmp_path, elements_of(atoms))
    e_ref, f_ref, s_ref = reference(atoms, tiny_mace_file)
    n = len(atoms)
    print(f"\n{name}: |dE|/atom {abs(lmp.energy - e_ref) / n:.1e} eV, max|dF| "
          f"{np.abs(lmp.forces - f_ref).max():.1e} eV/A (max|F| {np.abs(f_ref).max():.2f}), "
          f"max|dS| {np.abs(lmp.stress_ase() - s_ref).max():.1e} eV/A^3")
    assert np.abs(f_ref).max() > 0.05, "degenerate test: forces too small to compare"
    assert abs(lmp.energy - e_ref) / n <= 1e-8
    assert np.abs(lmp.forces - f_ref).max() <= 1e-6
    assert np.abs(lmp.stress_ase() - s_ref).max() <= 1e-6
    assert lmp.atom_energy.sum() == pytest.approx(lmp.energy, abs=1e-9)


def test_float32_export_with_a_radial_mlp_width_that_is_no_square(tmp_path):
    """The fused convolution takes the radial MLP's last layer with its 1/sqrt(width)
    normalisation; in float32 that division rounds unless the width is a perfect square
    (MACE's default 64), and widths such as 8, 32 or 128 were refused ("does not split at
    its last layer"). Float32 against MACE's own float64 calculator."""
    from tiny_mace import write_tiny_mace

    model_file = write_tiny_mace(tmp_path / "w8.model", channels=8, radial_MLP=[8, 8],
                                 elements=["Li", "Cl"], max_ell=2)
    out = export_mace(model_file, tmp_path / "w8.pt", dtype="float32")
    atoms = triclinic_distorted()
    lmp = single_point(atoms, out, tmp_path / "run", ["Cl", "Li"])
    e_ref, f_ref, s_ref = reference(atoms, model_file)
    assert np.abs(f_ref).max() > 0.05, "degenerate test: forces too small to compare"
    assert abs(lmp.energy - e_ref) <= 1e-5 * abs(e_ref)
    assert np.abs(lmp.forces - f_ref).max() <= 1e-4
    assert np.abs(lmp.stress_ase() - s_ref).max() <= 1e-5


@pytest.mark.mpi
@pytest.mark.parametrize("ghost", ["redundant", "halo"])
def test_ranks_agree(ghost, tiny_mace_f64, tmp_path):
    """Redundant ghost shell and per-layer halo exchange (the export's MACE stages)."""
    atoms = triclinic_distorted()
    runs = {n: single_point(atoms, tiny_mace_f64, tmp_path / f"np{n}", ["Cl", "Li"], nprocs=n,
                            pair_extra="" if n == 1 else f"ghost {ghost}")
            for n in (1, 2, 4)}
    for n in (2, 4):
        assert ("halo exchange between 2 stages" in runs[n].log) == (ghost == "halo")
        assert abs(runs[n].energy - runs[1].energy) <= 1e-10 * abs(runs[1].energy)
        assert np.abs(runs[n].forces - runs[1].forces).max() <= 1e-10 * np.abs(runs[1].forces).max()
        np.testing.assert_allclose(runs[n].pressure, runs[1].pressure, rtol=1e-9, atol=1e-6)


def test_metadata(tiny_mace_f64):
    meta = read_metadata(tiny_mace_f64)
    assert meta["family"] == "mace" and meta["num_layers"] == "2"
    assert float(meta["cutoff"]) == 5.0
    assert meta["elements"].split() == ["Li", "P", "S", "Cl"]   # MACE's z order
    assert meta["halo_stages"] == "2" and meta["halo_widths"] == "16 64"


def test_multi_head_model(tmp_path):
    from tiny_mace import write_tiny_mace

    path = write_tiny_mace(tmp_path / "two_heads.model", heads=["scan", "pbe"], seed=3)
    with pytest.raises(ExportError, match="multi-head.*--head.*scan, pbe"):
        export_mace(path, tmp_path / "x.pt")
    with pytest.raises(ExportError, match="unknown head 'r2scan'"):
        export_mace(path, tmp_path / "x.pt", head="r2scan")
    out = export_mace(path, tmp_path / "pbe.pt", head="pbe")
    assert read_metadata(out)["head"] == "pbe"
    atoms = licl_primitive_small()
    lmp = single_point(atoms, out, tmp_path / "run", ["Cl", "Li"])
    e_pbe, f_pbe, _ = reference(atoms, path, head="pbe")
    e_scan, _, _ = reference(atoms, path, head="scan")
    assert abs(e_pbe - e_scan) > 1e-3, "degenerate test: heads give the same energy"
    assert lmp.energy == pytest.approx(e_pbe, abs=1e-8)
    assert np.abs(lmp.forces - f_pbe).max() <= 1e-6


def test_not_a_mace_file(tmp_path):
    import torch

    torch.save({"weights": torch.zeros(3)}, tmp_path / "state.pt")
    with pytest.raises(ExportError, match="does not hold a MACE model"):
        export_mace(tmp_path / "state.pt", tmp_path / "x.pt")
    with pytest.raises(ExportError, match="does not exist"):
        export_mace(tmp_path / "missing.model", tmp_path / "x.pt")
