"""Batched frozen-framework energies equal SevenNet's own ASE calculator (float64).

Independent reference: ``SevenNetFloat64Calculator`` (tests/sevennet_reference.py),
SevenNet's own graph construction and network on the full structure with the mobile
ion moved, one point at a time."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ionmd.errors import IonmdError
from ionmd.screen.batched_energy import FrameworkScan, ModelRunner
from ionmd.screen.grid import allowed_masks, cartesian_points, grid_shape


def licl_8(seed=2):
    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True)
    atoms.rattle(0.05, seed=seed)
    return atoms


def licl_2():
    """Distorted 2-atom primitive cell, edges 3.6 A < cutoff: the mobile ion sees its own
    periodic images (edges that do not depend on where it sits)."""
    from structures import licl_primitive_small

    return licl_primitive_small()


@pytest.mark.parametrize("build,max_nodes", [(licl_8, 64), (licl_8, 9), (licl_2, 64)])
def test_batched_energies_equal_sevennet_calculator(sevennet0_f64, build, max_nodes):
    from sevennet_reference import reference_calculator

    atoms = build()
    mobile = next(i for i, s in enumerate(atoms.get_chemical_symbols()) if s == "Li")
    assert atoms[mobile].symbol == "Li"
    shape = grid_shape(atoms.cell.array, 0.6)
    allowed = allowed_masks(atoms, [mobile], shape, 1.2)[0].ravel()
    points = cartesian_points(atoms.cell.array, shape)[allowed]
    rng = np.random.default_rng(0)
    pick = np.concatenate([points[rng.choice(len(points), 5, replace=False)],
                           atoms.positions[[mobile]]])
    scan = FrameworkScan(ModelRunner(sevennet0_f64), atoms, mobile)
    assert (len(scan.self_vec) > 0) == (build is licl_2)
    got = scan.energies(pick, max_nodes=max_nodes)

    calc = reference_calculator("7net-0", "float64")
    ref = []
    for p in pick:
        moved = atoms.copy()
        moved.positions[mobile] = p
        moved.calc = calc
        ref.append(moved.get_potential_energy())
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6)
    assert np.ptp(ref) > 0.1        # the points really differ


def test_model_lacking_an_element_is_reported(sevennet0_f64):
    runner = ModelRunner(sevennet0_f64)
    with pytest.raises(IonmdError, match="does not know Og"):
        runner.species_of(["Li", "Og"])


def morse_total_energy(atoms):
    """Direct pair sum of the shifted Morse potential of tests/contract_models.py."""
    from ase.neighborlist import neighbor_list
    from contract_models import ALPHA, D0, R0, RC

    def phi(r):
        x = np.exp(-ALPHA * (r - R0))
        return D0 * (x * x - 2.0 * x)

    d = neighbor_list("d", atoms, RC)
    return 0.5 * np.sum(phi(d) - phi(RC))


def test_aoti_package_screens_like_the_direct_sum(morse_pt2):
    """A .pt2 model file (the only format of eSEN exports) in the batched scan."""
    atoms = licl_8()
    mobile = 0
    runner = ModelRunner(morse_pt2)
    assert runner.package is not None
    shape = grid_shape(atoms.cell.array, 0.6)
    allowed = allowed_masks(atoms, [mobile], shape, 1.2)[0].ravel()
    points = cartesian_points(atoms.cell.array, shape)[allowed][::37]
    got = FrameworkScan(runner, atoms, mobile).energies(points, max_nodes=40)
    ref = []
    for p in points:
        moved = atoms.copy()
        moved.positions[mobile] = p
        ref.append(morse_total_energy(moved))
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-10)
    assert np.ptp(ref) > 0.05
    with pytest.raises(IonmdError, match="compiled for 'cpu'.*--device cpu"):
        ModelRunner(morse_pt2, device="cuda")
