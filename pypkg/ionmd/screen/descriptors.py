"""PES descriptors of Maevskiy et al. (sec. II A-B): MPE, free volumes, and Xi (eq. 4).

Per mobile ion: the PES on the unit-cell grid (relative to its minimum, ``+inf`` at
excluded points), the level map on the centred 2x2x2 supercell, and MPE (eq. 2).
Over the mobile ions: MPE is the minimum; the free volumes (eq. 3)

    FV_X(t) = (1/V) * volume of {r in the 2x2x2 supercell : X(r) < t},  X = E or LM,

are computed after OR-ing the indicator grids of all ions in common (absolute)
coordinates. FV_E is "disconnected", FV_LM "connected". The grid is uniform in
fractional coordinates, so a volume fraction is a fraction of grid points. Points of
the ``(2N+1)^3`` supercell that are the same point of the periodic 2x2x2 supercell
(opposite faces, edges, corners) are merged with the smaller LM, as the authors do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ionmd.errors import IonmdError
from ionmd.screen.level_map import centred_supercell, faces_minimum, level_map, neighbour_offsets

DEFAULT_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
# Grid minima within this of the lowest are one minimum several times over (symmetry-
# equivalent points differ by rounding, ~1e-5 eV in float32): the centre is chosen among
# them by a rule, not by rounding noise (see ion_landscape).
DEGENERATE_EV = 1e-4
XI_THRESHOLD = 0.5  # eV, both FVs of eq. (4)


@dataclass
class IonLandscape:
    """One mobile ion's PES and level map.

    Attributes
    ----------
    pes
        Unit-cell grid ``(N1, N2, N3)``, eV relative to the minimum, ``+inf`` = excluded.
    imin
        Grid index of the minimum (the centre of the supercell).
    lm
        Level map on the centred supercell ``(2N1+1, 2N2+1, 2N3+1)``, eV.
    mpe
        Minimal percolation energy, eV (``inf`` if no path reaches a face).
    """

    pes: np.ndarray
    imin: tuple[int, int, int]
    lm: np.ndarray
    mpe: float

    def lm_on_torus(self) -> np.ndarray:
        """LM on the periodic 2x2x2 supercell ``(2N1, 2N2, 2N3)`` in absolute grid
        coordinates (index ``a`` = grid point ``a mod N`` of cell ``a // N``); points
        that the ``(2N+1)^3`` array holds twice keep the smaller value."""
        n = np.array(self.pes.shape)
        idx = [(o + np.arange(2 * ni + 1) - ni) % (2 * ni) for o, ni in zip(self.imin, n)]
        flat = np.ravel_multi_index(np.meshgrid(*idx, indexing="ij"), tuple(2 * n)).ravel()
        out = np.full(int(np.prod(2 * n)), np.inf)
        np.minimum.at(out, flat, self.lm.ravel())
        return out.reshape(tuple(2 * n))


def centre_point(e: np.ndarray, cell: np.ndarray, site=None) -> tuple[int, int, int]:
    """The grid minimum the level map starts from. Minima within DEGENERATE_EV of the
    lowest are equivalent; of those, the one nearest the ion's own site ``site``
    (fractional; eq. 1's r0, minimum-image distance), then the first in C order. Taking
    the argmin let rounding pick among equivalent minima, and the OR of several ions'
    level maps (FV_LM) then depended on it: Li2S with 4 equivalent minima per Li scored
    FV_LM(0.5) 0.00104 in the plain scan and 0.00076 with the symmetry shortcut.

    The distance is ASE's minimum image (``find_mic``): rounding the fractional offset
    to [-1/2, 1/2) is not the nearest image in a skewed cell (a 5 A cell with 24 deg
    between a and b put a minimum 1.39 A from the site at 3.88 A, and one 1.50 A away won)."""
    from ase.geometry import find_mic

    from ionmd.structures.geometry import perpendicular_widths

    candidates = np.argwhere(e <= e.min() + DEGENERATE_EV)
    if site is not None and len(candidates) > 1:
        cell = np.asarray(cell, dtype=float)
        frac = candidates / np.asarray(e.shape) - np.asarray(site, dtype=float)
        frac -= np.rint(frac)
        # find_mic holds 28 images of every vector (a flat 100^3 grid: 1.9 GB, 26 s): first
        # drop the candidates that no image brings nearer than one image of another does
        upper = np.linalg.norm(frac @ cell, axis=1)
        lower = np.max(np.abs(frac) * perpendicular_widths(cell), axis=1)
        near = lower <= upper.min() + 1e-5
        candidates, frac = candidates[near], frac[near]
        _, dist = find_mic(frac @ cell, cell, pbc=True)
        candidates = candidates[np.lexsort((np.arange(len(candidates)), np.round(dist, 6)))]
    return tuple(int(i) for i in candidates[0])


def ion_landscape(energies: np.ndarray, cell: np.ndarray,
                  connectivity: str = "sqrt3", site=None) -> IonLandscape:
    """PES (absolute energies, ``nan``/``inf`` = excluded) -> relative PES, LM and MPE.

    Parameters
    ----------
    energies
        Total energies (eV) on the unit-cell grid; excluded points ``nan`` or ``+inf``.
    cell
        Lattice vectors of the cell the grid spans (rows, Angstrom).
    connectivity
        Grid neighbours, see :func:`ionmd.screen.level_map.neighbour_offsets`.
    site
        Fractional position of the ion's own site, to choose among equivalent minima
        (:func:`centre_point`).
    """
    e = np.where(np.isfinite(energies), energies, np.inf).astype(float)
    if not np.isfinite(e).any():
        raise IonmdError("every grid point is excluded (closer than rmin to the framework): "
                         "lower --rmin or check the structure")
    imin = centre_point(e, cell, site)
    pes = e - e[imin]
    sc = centred_supercell(pes, imin)
    seed = tuple(int(n) for n in pes.shape)
    offsets = neighbour_offsets(cell, pes.shape, connectivity)  # same steps in the supercell
    lm = level_map(sc, seed, offsets)
    return IonLandscape(pes=pes, imin=imin, lm=lm, mpe=faces_minimum(lm))


def fv_disconnected(landscapes: list[IonLandscape], threshold: float) -> float:
    """FV_E(t): fraction of the supercell where any ion's PES is below ``t``.

    The PES is periodic, so the 2x2x2 supercell fraction equals the unit-cell one.
    """
    union = np.zeros(landscapes[0].pes.shape, dtype=bool)
    for land in landscapes:
        union |= land.pes < threshold
    return float(union.mean())


def fv_connected(landscapes: list[IonLandscape], threshold: float,
                 tori: list[np.ndarray] | None = None) -> float:
    """FV_LM(t): fraction of the 2x2x2 supercell where any ion's LM is below ``t``."""
    if tori is None:
        tori = [land.lm_on_torus() for land in landscapes]
    union = np.zeros(tori[0].shape, dtype=bool)
    for lm in tori:
        union |= lm < threshold
    return float(union.mean())


def xi(fv_connected_05: float, fv_disconnected_05: float) -> float:
    """Eq. (4): Xi = s10(2.00 + log10 FV_LM(0.5)) * s10(1.15 + log10 FV_E(0.5)),
    s10(x) = 1 / (1 + exp(-10 x)); a free volume of 0 gives 0."""
    def s10(x: float) -> float:
        return float(0.5 * (1.0 + np.tanh(5.0 * x)))  # = 1/(1+e^-10x), no overflow

    if fv_connected_05 <= 0 or fv_disconnected_05 <= 0:
        return 0.0
    return s10(2.00 + np.log10(fv_connected_05)) * s10(1.15 + np.log10(fv_disconnected_05))


@dataclass
class Descriptors:
    """Descriptors of one structure, aggregated over its mobile ions."""

    mpe: float
    thresholds: tuple[float, ...]
    fv_connected: dict[float, float]
    fv_disconnected: dict[float, float]
    xi: float
    per_ion_mpe: list[float] = field(default_factory=list)


def aggregate(landscapes: list[IonLandscape],
              thresholds=DEFAULT_THRESHOLDS) -> Descriptors:
    """MPE = min over ions; FV = fraction of the OR of the ions' indicator grids; Xi."""
    if not landscapes:
        raise IonmdError("no mobile ion to aggregate")
    shapes = {land.pes.shape for land in landscapes}
    if len(shapes) != 1:
        raise ValueError(f"mobile ions on different grids: {shapes}")
    thresholds = tuple(float(t) for t in thresholds)
    tori = [land.lm_on_torus() for land in landscapes]
    levels = sorted(set(thresholds) | {XI_THRESHOLD})
    fv_c = {t: fv_connected(landscapes, t, tori) for t in levels}
    fv_d = {t: fv_disconnected(landscapes, t) for t in levels}
    per_ion = [land.mpe for land in landscapes]
    return Descriptors(
        mpe=float(min(per_ion)),
        thresholds=thresholds,
        fv_connected={t: fv_c[t] for t in thresholds},
        fv_disconnected={t: fv_d[t] for t in thresholds},
        xi=xi(fv_c[XI_THRESHOLD], fv_d[XI_THRESHOLD]),
        per_ion_mpe=per_ion,
    )
