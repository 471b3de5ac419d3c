"""Which atoms mark a solid electrolyte's framework, and how far they have moved from
their sites: the measures of the melting check (:mod:`ionmd.analysis.failure`'s
``framework_melting``), apart from the failure modes as the geometry they share (the
framework species by charge, molecules bonded into one site, displacement from sites the
cell's strain carries along).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ionmd.structures.geometry import bonded_components


def _continuous_boxes(boxes: np.ndarray) -> np.ndarray:
    """The cells with LAMMPS's box flips undone (each frame's lattice basis the integer
    combination of its rows nearest the previous frame's), so that ``inv(H0) @ H`` is the
    deformation since the start, not a change of basis."""
    out = np.array(boxes, float)
    for t in range(1, len(out)):
        basis = np.round(out[t - 1] @ np.linalg.inv(out[t]))
        if round(abs(np.linalg.det(basis))) == 1:   # else no change of basis: a jump in size
            out[t] = basis @ out[t]
    return out


def non_affine_rms(pos: np.ndarray, boxes: np.ndarray, weights: np.ndarray,
                   units: list[np.ndarray] | None = None) -> np.ndarray:
    """Per frame, the RMS displacement of atoms from their starting sites carried along
    by the cell's deformation, their weighted mean (drift) removed.

    The cell's strain moves every site (NpT expansion, tilt): an atom on its site 1.5 nm
    from the origin of a cell 8 % larger has moved 1.2 A without leaving it. So atoms are
    followed in fractional coordinates of the cell (flips undone), each frame-to-frame
    step to its nearest image, and the displacement is the fractional one in the current
    cell. Cartesian unwrapping would not do: an atom crossing the boundary while the cell
    grows is off its site's image by the growth since. Steps longer than half the cell (a
    liquid dumped seldom) take a wrong image but stay as large, far above any melting
    threshold. ``units``: index arrays of atoms that move as one site, their weighted mean
    displacement (a polyanion's centre; :func:`framework_units`)."""
    from ionmd.analysis.unwrapping import fractional

    cells = _continuous_boxes(boxes)
    frac = fractional(pos, cells)
    step = np.diff(frac, axis=0)
    step -= np.round(step)
    moved = np.concatenate([np.zeros_like(frac[:1]), np.cumsum(step, axis=0)])
    disp = np.einsum("tnk,tkl->tnl", moved, cells)
    if units is not None:
        disp = np.stack([np.einsum("tnk,n->tk", disp[:, u], weights[u]) / weights[u].sum()
                         for u in units], axis=1)
        weights = np.array([weights[u].sum() for u in units])
    drift = np.einsum("tnk,n->tk", disp, weights) / weights.sum()
    disp -= drift[:, None, :]
    return np.sqrt((disp ** 2).sum(-1).mean(-1))


# non-mobile cations mark the framework only where they are a sub-lattice, not a dopant
MIN_CATION_SHARE = 0.1


def framework_species(elements: Sequence[str], mobile: Sequence[str],
                      charges: dict[str, float]) -> list[str]:
    """The species whose sites mark the framework in the melting check.

    The non-mobile cations (positive ``charges``: P in PS4, Y in YCl6, La and Zr in LLZO)
    where they are at least ``MIN_CATION_SHARE`` of the non-mobile atoms: the anions of a
    polyanion rotate about its centre in a crystal at high temperature (PS4 in argyrodites
    and Li3PS4, the paddle-wheel), moving each S by up to 2 x 2.05 A from its site, as far
    as a liquid's atoms; the centres stay. Else (LiCl, Li2O, Li3OCl, a dopant cation) the
    non-mobile anions (a species without a charge counts as anion), or all non-mobile
    species when none is negative."""
    from ionmd.analysis.trajectory import species_list

    elements = np.asarray(elements)
    mobile = species_list(mobile)       # a str: 'N' is in 'Na'
    still = [e for e in sorted(set(elements.tolist())) if e not in mobile]
    n_still = np.isin(elements, still).sum()
    cations = [e for e in still if charges.get(e, -1) > 0]
    if cations and np.isin(elements, cations).sum() >= MIN_CATION_SHARE * n_still:
        return cations
    return [e for e in still if charges.get(e, -1) < 0] or still


# Framework atoms bonded into one molecule (directly, P2S6's P-P or a B12H12 cluster's B-B
# and B-H, or through an anion bonded to both, P2S7's bridging S) are one site of the melting
# check. Bonds: up to BOND_FACTOR x the covalent radii sum (P-S 2.0-2.2 A vs 2.44 A; Li-P,
# never bonded, >= 2.9 A vs 2.70 A). Only covalent formers (Pauling electronegativity >=
# UNIT_MIN_X: B, C, H, Si, P, Ge, As, S, Se, Sn, Sb) join; the octahedra of Y, In, Zr, La,
# Al, Ga share edges and corners in a crystal (Li3YCl6's edge-sharing YCl6) without tumbling
# as one. A bonded component that reaches its own periodic image is a network (a chain, a
# glass former's network), no molecule: its atoms stay sites of their own.
BOND_FACTOR = 1.15
UNIT_MIN_X = 1.9


def framework_units(pos: np.ndarray, box: np.ndarray, elements: Sequence[str],
                    framework_idx: np.ndarray) -> list[np.ndarray]:
    """The framework atoms ``framework_idx`` grouped into units (positions into that array),
    from one frame ``pos`` (N, 3), ``box`` (3, 3): the framework atoms of one molecule (P2S7's
    two P, sharing a bridging S; P2S6's; a closo-borate's B and H) are one unit, every other
    atom its own. Bridges are atoms of species outside the framework more electronegative
    than every framework species."""
    return framework_sites(pos, box, elements, framework_idx)[0]


def framework_sites(pos: np.ndarray, box: np.ndarray, elements: Sequence[str],
                    framework_idx: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """:func:`framework_units` and each unit's centre (Cartesian, (U, 3)): its members at the
    images their bonds join (a cage wider than half the cell, rebuilt about one member's
    nearest images, would be torn apart); an atom of a chain or network through the cell,
    a site of its own, where it is."""
    from ase.data import atomic_numbers, covalent_radii
    from pymatgen.core import Element

    elements = np.asarray(elements)
    singles = [np.array([k]) for k in range(framework_idx.size)]
    species = sorted(set(elements.tolist()))
    x = {e: Element(e).X for e in species}          # per species: 50k lookups took 0.4 s
    framework = set(elements[framework_idx].tolist())
    formers = np.flatnonzero(np.isin(elements[framework_idx],
                                     [e for e in framework if x[e] >= UNIT_MIN_X]))
    if formers.size < 2:
        return singles, np.asarray(pos[framework_idx], dtype=float)
    most = max(x[e] for e in framework)
    bridges = np.flatnonzero(np.isin(elements, [e for e in species
                                                if e not in framework and x[e] > most]))
    idx = np.concatenate([framework_idx[formers], bridges])
    radius = covalent_radii[[atomic_numbers[e] for e in elements[idx]]]
    i, j, image_of_j = _bonds(np.asarray(pos[idx], float), np.asarray(box, float),
                              BOND_FACTOR * radius)
    component, periodic, image = bonded_components(len(idx), np.column_stack([i, j]),
                                                    image_of_j)
    # framework positions with each molecule's formers at the images its bonds join
    frac = np.linalg.solve(np.asarray(box, float).T, np.asarray(pos[framework_idx], float).T).T
    frac[formers] += image[:formers.size]
    joined = frac @ np.asarray(box, float)
    # each atom its own site, then the molecules: their formers one site, named after the
    # first of them
    unit_of = np.arange(framework_idx.size)
    of_formers = component[:formers.size]
    in_molecule = (np.bincount(of_formers)[of_formers] > 1) & ~periodic[of_formers]
    first = np.full(component.max() + 1, framework_idx.size)
    np.minimum.at(first, of_formers, formers)
    unit_of[formers[in_molecule]] = first[of_formers[in_molecule]]
    names, unit_index, counts = np.unique(unit_of, return_inverse=True, return_counts=True)
    units = np.split(np.argsort(unit_index, kind="stable"), np.cumsum(counts)[:-1])
    centres = np.stack([np.bincount(unit_index, joined[:, k]) for k in range(3)], 1)
    return units, centres / counts[:, None]


def _bonds(pos: np.ndarray, box: np.ndarray, cutoff: np.ndarray):
    """Bonded pairs (i, j) of atoms closer than ``cutoff[i] + cutoff[j]``, and atom j's
    bonded image (cells from its stored one, (P, 3) integers), at every image: in a cell
    under two bonds across, a chain's two atoms are bonded through two images of one pair
    (minimum-image pairs made such a chain a molecule), an atom to its own image. What
    ASE's ``neighbor_list("ijS")`` gives, from scipy's cKDTree over the atoms and their
    images near the cell (0.3 s at 50k atoms where ASE took 2-9 s)."""
    from scipy.spatial import cKDTree

    reach = 2 * cutoff.max()
    frac = np.linalg.solve(box.T, pos.T).T
    wrapped = np.floor(frac).astype(int)
    inside = frac - wrapped
    # the images within reach of the cell: as many cells out as the reach spans, along
    # each lattice vector (the cell's width across it: 1 / |row of inv(box).T|)
    margin = reach * np.linalg.norm(np.linalg.inv(box), axis=0)
    span = np.ceil(margin).astype(int)
    shifts = np.stack(np.meshgrid(*[np.arange(-m, m + 1) for m in span], indexing="ij"),
                      -1).reshape(-1, 3)
    ghost_atom, ghost_shift = [], []
    for shift in shifts:
        near = np.all((inside + shift > -margin) & (inside + shift < 1 + margin), axis=1)
        ghost_atom.append(np.flatnonzero(near))
        ghost_shift.append(np.repeat(shift[None], near.sum(), axis=0))
    ghost_atom, ghost_shift = np.concatenate(ghost_atom), np.concatenate(ghost_shift)
    cart = inside @ box
    pairs = cKDTree(cart).sparse_distance_matrix(
        cKDTree((inside[ghost_atom] + ghost_shift) @ box), reach, output_type="ndarray")
    i, g, d = pairs["i"], pairs["j"], pairs["v"]
    j = ghost_atom[g]
    image = ghost_shift[g] + wrapped[i] - wrapped[j]
    keep = (d < cutoff[i] + cutoff[j]) & ((i != j) | ghost_shift[g].any(1))
    return i[keep], j[keep], image[keep]
