"""Symmetry-reduced scans give the same descriptors as the plain scan.

Reference: the plain computation (every grid point of every mobile ion evaluated), on
the same model, through the same batched pipeline. A cheap species-dependent pair
potential stands in for a model file in the fine-grid cases; SevenNet-0 is used on
coarse grids."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ionmd.screen.screen import ScreenSettings, screen_structure


class PairModelRunner:
    """Stand-in for ModelRunner: E_i = 1/2 sum_j A_ij exp(-r/0.35) - C_ij / r^4, smoothly
    cut at 5 A, evaluated on the contract's edge lists."""

    cutoff = 5.0
    elements = ("Li", "N", "S", "Cl")

    def species_of(self, symbols):
        return np.array([self.elements.index(s) for s in symbols])

    def seconds_per_node(self):
        return None

    def per_atom_energies(self, edge_vec, edge_index, species):
        r = np.linalg.norm(edge_vec, axis=1)
        si, sj = species[edge_index[0]], species[edge_index[1]]
        a = 300.0 * (1 + si + sj)
        c = 2.0 + 0.5 * si * sj
        cut = np.where(r < self.cutoff, np.cos(np.pi * r / (2 * self.cutoff)) ** 2, 0.0)
        phi = (a * np.exp(-r / 0.35) - c / r ** 4) * cut
        return 0.5 * np.bincount(edge_index[0], weights=phi, minlength=len(species))


def li2s():
    return bulk("SLi2", "fluorite", a=5.70, cubic=True)      # anti-fluorite, 2 Li per primitive


def li3n():
    """alpha-Li3N (P6/mmm): two Li sites, one of them twice."""
    return Atoms("NLiLiLi", scaled_positions=[[0, 0, 0], [0, 0, 0.5], [1 / 3, 2 / 3, 0],
                                              [2 / 3, 1 / 3, 0]],
                 cell=[[3.65, 0, 0], [-3.65 / 2, 3.65 * np.sqrt(3) / 2, 0], [0, 0, 3.87]],
                 pbc=True)


def compare(atoms, runner, **kw):
    plain = screen_structure(atoms, runner, ScreenSettings(symmetry=False, **kw))
    reduced = screen_structure(atoms, runner, ScreenSettings(symmetry=True, **kw))
    a, b = plain.descriptors, reduced.descriptors
    assert b.mpe == pytest.approx(a.mpe, abs=1e-9)
    assert b.per_ion_mpe == pytest.approx(a.per_ion_mpe, abs=1e-9)
    assert b.fv_connected == a.fv_connected
    assert b.fv_disconnected == a.fv_disconnected
    assert b.xi == pytest.approx(a.xi, abs=1e-12)
    for la, lb in zip(plain.landscapes, reduced.landscapes):
        np.testing.assert_allclose(lb.pes, la.pes, atol=1e-9)
    assert reduced.n_evaluated < plain.n_evaluated
    return plain, reduced


@pytest.mark.parametrize("build,cell", [(li2s, "primitive"), (li2s, "conventional"),
                                        (li3n, "as-given")])
def test_symmetry_reduction_is_exact_with_pair_model(build, cell):
    plain, _ = compare(build(), PairModelRunner(), cell=cell, spacing=0.35, max_nodes=4096)
    assert plain.descriptors.fv_connected[1.0] > 0
    assert len(plain.mobile_indices) > 1


@pytest.mark.parametrize("build", [lambda: bulk("LiCl", "rocksalt", a=5.14), li2s])
def test_symmetry_reduction_is_exact_with_sevennet(build, sevennet0_f64):
    from ionmd.screen.batched_energy import ModelRunner

    # SevenNet-0 is not mirror-invariant: this also checks that only proper operations are used
    plain, reduced = compare(build(), ModelRunner(sevennet0_f64), spacing=0.9)
    assert reduced.n_evaluated * 4 <= plain.n_evaluated


def test_dilute_supercell_translated_ions_equal_plain_scan():
    """--min-image-distance: ions of the other base-cell images are translated copies of
    the first image's; the plain scan evaluates all 8 Li of the 2x2x2 repeat."""
    atoms = bulk("LiCl", "rocksalt", a=5.14)
    kw = dict(spacing=0.5, min_image_distance=4.0, max_nodes=4096)
    plain, reduced = compare(atoms, PairModelRunner(), **kw)
    assert plain.extra["repeat"] == reduced.extra["repeat"] == "2x2x2"
    assert len(plain.mobile_indices) == 8 and len(reduced.mobile_indices) == 1
    assert reduced.extra["mobile_ions_aggregated"] == 8
    assert plain.grid == reduced.grid == (16, 16, 16)
