"""PES descriptors (Maevskiy et al., sec. II A) against references built here, not by the
package: analytic barriers of cosine landscapes in skewed cells, a percolation level from
scipy.ndimage.label on a 3x3x3 tiling of the periodic cell, minimum-image distances by
enumerating lattice images, and direct pair sums for the symmetry-reduced scan.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from ase import Atoms
from ionmd.screen.descriptors import fv_connected, fv_disconnected, ion_landscape
from ionmd.screen.grid import allowed_masks, cartesian_points, grid_shape
from scipy import ndimage

# 60 deg between a and b (the step g1 - g2 is as short as g1), c tilted: triclinic
SKEWED = np.array([[4.0, 0.0, 0.0], [2.0, 2.0 * np.sqrt(3), 0.0], [0.6, -0.4, 3.9]])


def cosine_terms(shape, terms):
    """sum_k A_k (1 - cos(2 pi m_k . f)) / 2 on the grid f = n / N: periodic in the cell
    for integer m_k; each term rises to A_k half way along its direction."""
    f = np.stack(np.meshgrid(*[np.arange(n) / n for n in shape], indexing="ij"), axis=-1)
    return sum(a * (1 - np.cos(2 * np.pi * f @ np.array(m, float))) / 2 for a, m in terms)


def steps_by_rule(cell, shape):
    """All 26 grid steps no longer than sqrt(|g1|^2 + |g2|^2 + |g3|^2) (docs/screen.md)."""
    g = np.asarray(cell) / np.asarray(shape)[:, None]
    limit = np.sqrt((g ** 2).sum()) * (1 + 1e-9)
    return [d for d in itertools.product((-1, 0, 1), repeat=3)
            if any(d) and np.linalg.norm(np.array(d) @ g) <= limit]


def percolation_level(e, seed, steps):
    """Lowest level t at which the cluster of ``seed`` in {E <= t} reaches one of its own
    periodic images: ndimage.label on a 3x3x3 tiling with ``seed`` in the middle tile,
    bisection over the grid's energies. (Exact for clusters that do not wander more than
    a cell before meeting an image, as in the landscapes here.)"""
    n = np.array(e.shape)
    tiled = np.tile(e, (3, 3, 3))
    structure = np.zeros((3, 3, 3), bool)
    structure[1, 1, 1] = True
    for d in steps:
        structure[tuple(np.array(d) + 1)] = structure[tuple(1 - np.array(d))] = True
    centre = tuple(np.array(seed) + n)
    images = [tuple(np.array(centre) + np.array(k) * n)
              for k in itertools.product((-1, 0, 1), repeat=3) if any(k)]

    def wraps(t):
        labels, _ = ndimage.label(tiled <= t, structure=structure)
        return any(labels[i] == labels[centre] for i in images)

    levels = np.unique(e[np.isfinite(e)])
    lo, hi = 0, len(levels) - 1
    if not wraps(levels[hi]):
        return np.inf
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if wraps(levels[mid]) else (mid + 1, hi)
    return float(levels[lo])


def face_minima(lm):
    """Lowest LM on the supercell faces across each axis: the barrier along that axis."""
    return [min(np.moveaxis(lm, ax, 0)[0].min(), np.moveaxis(lm, ax, 0)[-1].min())
            for ax in range(3)]


def test_saddle_reached_through_a_diagonal_grid_neighbour():
    """A, B, C = 0.9, 0.35, 0.8 eV on u = f1 + f2, f1 and f3. The lowest way out keeps u = 0
    along f1 - f2 and crosses f1 = 1/2 at exactly B; a path of axis steps only leaves u = 0
    and crosses higher (B + (A - B)(1 - cos(2 pi / N)) / 2). Every other way crosses A or C."""
    shape = (16, 16, 16)
    a, b, c = 0.9, 0.35, 0.8
    e = cosine_terms(shape, [(a, (1, 1, 0)), (b, (1, 0, 0)), (c, (0, 0, 1))])
    land = ion_landscape(e - 7.0, SKEWED)
    assert land.imin == (0, 0, 0)
    assert land.mpe == pytest.approx(b, abs=1e-12)
    assert land.mpe == pytest.approx(percolation_level(land.pes, land.imin,
                                                       steps_by_rule(SKEWED, shape)), abs=1e-12)
    # the axis-steps-only barrier, for scale: the diagonal step is what makes it B
    axis_only = ion_landscape(e, SKEWED, "faces").mpe
    assert axis_only == pytest.approx(b + (a - b) * (1 - np.cos(2 * np.pi / 16)) / 2, abs=1e-12)


@pytest.mark.parametrize("open_axes", [(2,), (0, 1)])
def test_percolation_along_open_axes_only(open_axes):
    """Barriers 0.3 and 0.45 eV along the open lattice directions, 6 eV along the others,
    in a triclinic cell: the per-axis face minima are the analytic barriers, MPE the
    lowest, equal to the percolation level of the periodic landscape. FV_LM(t) is the
    2x2x2 supercell's share of the wells the ion reaches: FV_E(t) * 2^d / 8, d = the open
    directions with barrier below t (the separable landscape is monotone along axis
    steps, so every point below t in a reached well is reached)."""
    shape = (12, 14, 16)
    barriers = [6.0, 6.0, 6.0]
    for k, ax in enumerate(open_axes):
        barriers[ax] = (0.3, 0.45)[k]
    e = cosine_terms(shape, [(bar, np.eye(3)[ax]) for ax, bar in enumerate(barriers)])
    land = ion_landscape(e, SKEWED)
    np.testing.assert_allclose(face_minima(land.lm), barriers, atol=1e-12)
    assert land.mpe == pytest.approx(min(barriers), abs=1e-12)
    assert land.mpe == pytest.approx(percolation_level(land.pes, land.imin,
                                                       steps_by_rule(SKEWED, shape)), abs=1e-12)
    for t in (0.2, 0.4, 1.0):
        d = sum(bar < t for bar in barriers)
        assert fv_connected([land], t) == pytest.approx(fv_disconnected([land], t) * 2 ** d / 8,
                                                        abs=1e-15)
        assert fv_disconnected([land], t) > 0


def test_centre_is_the_minimum_image_nearest_of_equivalent_minima():
    """Two equal wells in a cell with 24 deg between a and b: the one at f = (0.6, 0.6, 0)
    is 1.39 A from the ion's site at the origin (image (-0.4, 0.6, 0)), the one at
    (0.3, 0, 0) 1.50 A. Rounding fractional offsets took the first as 3.88 A away and
    started the level map at the farther well. Reference: distances over all images
    n in [-2, 2]^3."""
    cell = np.array([[5.0, 0, 0], [4.5, 2.0, 0], [0, 0, 5.0]])
    shape = grid_shape(cell, 0.25)
    assert shape == (20, 20, 20)
    wells = [(12, 12, 0), (6, 0, 0)]
    idx = np.indices(shape)
    e = np.full(shape, 1.0)
    for w in wells:
        r2 = sum(np.minimum(abs(idx[k] - w[k]), shape[k] - abs(idx[k] - w[k])) ** 2
                 for k in range(3))
        e = np.minimum(e, 0.02 * r2)
    images = np.array(list(itertools.product(range(-2, 3), repeat=3)))
    dist = [np.linalg.norm((np.array(w) / shape + images) @ cell, axis=1).min() for w in wells]
    assert dist[0] == pytest.approx(1.389, abs=1e-3) and dist[1] == pytest.approx(1.5)
    assert ion_landscape(e, cell, site=(0, 0, 0)).imin == wells[int(np.argmin(dist))]


# --- excluded points ----------------------------------------------------------------------

def test_excluded_points_in_strongly_skewed_cells_match_all_images():
    """Cells with 13-40 deg between lattice vectors (not reduced, as a file may give them),
    narrower than 2 rmin: each grid point is excluded iff some image n in [-6, 6]^3 of some
    framework atom lies closer than rmin; the ion's own images never exclude."""
    rng = np.random.default_rng(1)
    rmin = 1.6
    for _ in range(3):
        cell = np.array([[4.0, 0, 0], [rng.uniform(3, 9), rng.uniform(1.5, 3), 0],
                         [rng.uniform(-7, 7), rng.uniform(-5, 5), rng.uniform(2, 3.5)]])
        atoms = Atoms("Li2ClF", scaled_positions=rng.random((4, 3)), cell=cell, pbc=True)
        shape = grid_shape(cell, 0.4)
        g = cell / np.array(shape)[:, None]
        assert np.all(np.linalg.norm(g, axis=1) <= 0.4)                 # all three axes
        assert np.all(np.linalg.norm(cell, axis=1) / (np.array(shape) - 1) > 0.4)
        points = cartesian_points(cell, shape)
        np.testing.assert_allclose(points.reshape(*shape, 3)[1, 0, 0], g[0], atol=1e-12)
        masks = allowed_masks(atoms, [0, 1], shape, rmin)
        shifts = np.array(list(itertools.product(range(-6, 7), repeat=3))) @ cell
        for k, m in enumerate((0, 1)):
            others = atoms.positions[[i for i in range(4) if i != m]]
            near = np.zeros(len(points), bool)
            for pos in others:
                d = np.linalg.norm(points[:, None, :] - (pos + shifts)[None], axis=-1)
                near |= d.min(axis=1) < rmin
            np.testing.assert_array_equal(masks[k].ravel(), ~near)
        assert 0 < masks.sum() < masks.size


# --- symmetry reduction against direct pair sums --------------------------------------------

def pair_energy(atoms, ion, points):
    """Energy of ``ion`` at each point relative to a constant: a Born-Mayer repulsion plus
    an element-pair attraction, summed over every image (n in [-3, 3]^3) of every other
    atom within 5 A. The framework's own energy is the constant."""
    z = atoms.numbers
    others = [i for i in range(len(atoms)) if i != ion]
    shifts = np.array(list(itertools.product(range(-3, 4), repeat=3))) @ atoms.cell.array
    out = np.zeros(len(points))
    for j in others:
        amp = 1.0 + 0.01 * z[ion] * z[j]
        r = np.linalg.norm(points[:, None, :] - (atoms.positions[j] + shifts)[None], axis=-1)
        phi = (300.0 * np.exp(-r / 0.35) - amp / r ** 4) * np.cos(np.pi * r / 10.0) ** 2
        out += np.where(r < 5.0, phi, 0.0).sum(axis=1)
    return out


def p21c_nonstandard():
    """P2_1/c LiCl-like cell (Li on 2a and 2d, Cl on 4e) written with the axes cycled
    (a, b, c) -> (b, c, a), so the screw axis is the first lattice vector (a non-standard
    setting), and the origin shifted by a whole number of grid steps off the atoms."""
    from pymatgen.core import Lattice, Structure

    s = Structure.from_spacegroup("P2_1/c", Lattice.monoclinic(5.2, 6.0, 6.6, 103),
                                  ["Li", "Li", "Cl"], [[0, 0, 0], [0.5, 0, 0.5],
                                                       [0.27, 0.62, 0.18]])
    cell = s.lattice.matrix[[1, 2, 0]]
    frac = s.frac_coords[:, [1, 2, 0]]
    shape = grid_shape(cell, 0.5)
    shift = np.array([3, 5, 4]) / np.array(shape)
    atoms = Atoms([sp.symbol for sp in s.species], scaled_positions=(frac + shift) % 1.0,
                  cell=cell, pbc=True)
    return atoms, shape


def test_symmetry_orbits_hold_equal_energies_in_a_nonstandard_setting():
    """Every (ion, grid point) pair of an orbit has its representative's energy, by a
    direct pair sum per point; the orbits halve the scan: the screw is the one proper
    operation besides identity, and it maps this grid onto itself (the origin shift is a
    whole number of grid steps) and each Li onto another."""
    from ionmd.screen.symmetry import grid_operations, orbits

    atoms, shape = p21c_nonstandard()
    mobile = [i for i, s in enumerate(atoms.get_chemical_symbols()) if s == "Li"]
    masks = allowed_masks(atoms, mobile, shape, 1.2)
    ops = grid_operations(atoms, shape)
    assert len(ops) == 2                                   # identity and 2_1
    labels, reps = orbits(ops, mobile, masks)
    assert 2 * len(reps) == masks.sum()
    points = cartesian_points(atoms.cell.array, shape)
    direct = np.full(labels.shape, np.nan)
    for k, m in enumerate(mobile):
        scanned = labels[k] >= 0
        direct[k, scanned] = pair_energy(atoms, m, points[scanned])
    rep_energy = direct[reps[:, 0], reps[:, 1]]
    scanned = labels >= 0
    np.testing.assert_allclose(rep_energy[labels[scanned]], direct[scanned], rtol=0, atol=1e-9)
    assert np.ptp(direct[scanned]) > 1.0
