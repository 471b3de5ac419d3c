"""Diagonal supercells: explicit repetitions ("2x2x2", (2, 2, 2)) or the smallest
repetition whose perpendicular widths all reach a target (8 A: AQVolt26's length, as widths)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ionmd.structures.errors import StructureError
from ionmd.structures.geometry import perpendicular_widths

if TYPE_CHECKING:   # pymatgen.core takes ~0.3 s to import: only the builders need it
    from pymatgen.core import Lattice, Structure

DEFAULT_MIN_WIDTH = 8.0
"""Angstrom: every perpendicular width of the MD cell >= 8 A. AQVolt26's 8 A bounds the
shortest lattice vector; the perpendicular width is the minimum-image criterion (a skewed
cell's widths are shorter than its vectors), so skewed cells may be repeated more than the
paper's rule would (docs/presets.md)."""

MAX_RUN_ATOMS = 5_000_000
"""Most atoms of a run cell: the ~5 million a 400 A cube holds at 0.074 atoms/A^3
(``ionmd.protocols.setting_ranges.MAX_SUPERCELL_WIDTH_A``); a denser crystal's 400 A cell
holds more and is refused by this count (LiF, 0.122 atoms/A^3: 100x100x100 cubic cells, 8 million
atoms). ``ionmd run --dry-run`` of 1.6 million atoms (LiCl, 300A) took 105 s to 3 min and
writes 130 MB of data file per run folder (75 s since 2026-12-06: docs/scaling.md); 19
million (46x46x46 copies of a 200-atom cell) ran out of time unrefused. Counted before a supercell is built (:func:`check_run_atoms`)."""


def check_run_atoms(n_atoms: int, made: str, usual: str = "8A is usual") -> None:
    """Refuse a run cell of more than :data:`MAX_RUN_ATOMS` atoms (``made``: how it would
    be built), counted before the supercell allocates them."""
    if n_atoms > MAX_RUN_ATOMS:
        raise StructureError(f"the run cell ({made}) would hold {n_atoms:,} atoms, more than "
                             f"the {MAX_RUN_ATOMS:,} an MD run here can hold; give a smaller "
                             f"supercell, e.g. a minimum width ({usual})")


def parse_supercell(spec: str | Sequence[int] | int) -> tuple[int, int, int]:
    """Repetitions along a, b, c from ``"2x2x2"``, ``"2,2,1"``, ``(2, 2, 2)`` or ``3``."""
    if isinstance(spec, (int, np.integer)):
        reps = (int(spec),) * 3
    elif isinstance(spec, str):
        parts = [p for p in re.split(r"[x×*,\s]+", spec.strip().lower()) if p]
        if len(parts) == 1:
            parts = parts * 3
        try:
            reps = tuple(int(p) for p in parts)
        except ValueError:
            reps = ()
        if len(reps) != 3:
            raise StructureError(f"cannot read supercell {spec!r}; write it as '2x2x2' or '3' "
                                 "(a minimum width, '8A', is a protocol's supercell setting or "
                                 "make_supercell's min_width=8)")
    else:
        reps = tuple(int(n) for n in spec)
        if len(reps) != 3 or any(r != n for r, n in zip(reps, spec)):
            raise StructureError(f"supercell {spec!r} must be three integers, e.g. (2, 2, 2)")
    if min(reps) < 1:
        raise StructureError(f"supercell repetitions must be >= 1, got {reps}")
    return reps  # type: ignore[return-value]


def min_width_supercell(lattice: Lattice | np.ndarray,
                        min_width: float = DEFAULT_MIN_WIDTH) -> tuple[int, int, int]:
    """Smallest diagonal repetition whose perpendicular widths are all >= ``min_width``.

    Repeating axis i n_i times multiplies width i by n_i and leaves the others alone
    (the face a_j x a_k of axis i scales by n_j n_k, the volume by n_i n_j n_k), so
    each n_i = ceil(min_width / w_i) independently, and this is the smallest both per
    axis and in atom count.
    """
    if not min_width > 0:
        raise StructureError(f"minimum width must be > 0 A, got {min_width}")
    widths = perpendicular_widths(lattice)
    # 1e-9 A slack: a cell of exactly the target width needs no repetition
    return tuple(max(1, math.ceil(min_width / w - 1e-9)) for w in widths)  # type: ignore[return-value]


def is_no_supercell(spec) -> bool:
    """Whether a protocol's supercell setting asks for none (None, ``""``, ``"none"``)."""
    return spec is None or (isinstance(spec, str) and spec.strip().lower() in ("", "none"))


def min_width_of(spec) -> float | None:
    """The width of a minimum-width supercell setting (``"8A"`` -> 8.0); None for any other
    setting (explicit repetitions, none).

    Raises
    ------
    StructureError
        If the setting ends in ``A`` but is no number of Angstrom.
    """
    if not isinstance(spec, str) or not spec.strip().lower().endswith("a") or is_no_supercell(spec):
        return None
    try:
        return float(spec.strip()[:-1])
    except ValueError:
        raise StructureError(f"cannot read supercell {spec!r}; use e.g. 2x2x2 or 8A "
                             "(every perpendicular width >= 8 A)") from None


def supercell_repeats(cell, spec: str | Sequence[int] | int | None) -> tuple[int, int, int]:
    """Repetitions of ``cell`` (lattice rows, pymatgen ``Lattice`` or ASE ``Cell``) for a
    protocol's supercell setting: None -> (1, 1, 1); ``"8A"`` -> every perpendicular width
    >= 8 A; anything ``parse_supercell`` reads (``"2x2x2"``, ``"3"``, ``(2, 1, 3)``)."""
    if is_no_supercell(spec):
        return (1, 1, 1)
    width = min_width_of(spec)
    if width is not None:
        return min_width_supercell(cell, width)
    return parse_supercell(spec)


def make_supercell(structure: Structure, supercell: str | Sequence[int] | int | None = None,
                   *, min_width: float | None = None) -> Structure:
    """A repeated copy of ``structure``: ``supercell`` as a protocol's setting reads
    (``"2x2x2"``, ``(2, 1, 3)``, ``3``, or ``"8A"``: every perpendicular width >= 8 A, as
    :func:`supercell_repeats`) or by ``min_width`` (A).

    With neither given, ``min_width`` defaults to ``DEFAULT_MIN_WIDTH``.
    """
    if supercell is not None and min_width is not None:
        raise StructureError("give either an explicit supercell or a minimum width, not both")
    reps = (supercell_repeats(structure.lattice, supercell) if supercell is not None
            else min_width_supercell(structure.lattice, min_width or DEFAULT_MIN_WIDTH))
    return supercell_structure(structure, np.diag(reps))


def supercell_sites(cell, frac_coords, matrix,
                    pbc=(True, True, True)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The supercell ``matrix @ cell`` (rows: lattice vectors) of sites at ``frac_coords``:
    its lattice rows, each atom's fractional coordinates in it (in [0, 1) along the
    periodic axes ``pbc``) and the index of the site it copies.

    In pymatgen's ``Structure.make_supercell`` order (each site's copies together, the
    translations of ``lattice_points_in_supercell``) and arithmetic, bit for bit, so that
    a run cell and its structure hash are those pymatgen built: with numpy arrays instead
    of a Python object per atom (1.6 million atoms took minutes).
    """
    from pymatgen.core import Lattice
    from pymatgen.util.coord import lattice_points_in_supercell

    cell = np.asarray(cell, dtype=float)
    scale = np.array(matrix, dtype=int)
    if scale.shape != (3, 3):
        scale = scale * np.eye(3)
    big = Lattice(np.dot(scale, cell))
    translations = big.get_cartesian_coords(lattice_points_in_supercell(scale))
    coords = _row_dot(np.asarray(frac_coords, dtype=float).reshape(-1, 3), cell)
    cart = (coords[:, None, :] + translations[None, :, :]).reshape(-1, 3)
    # pymatgen folds into the cell twice (from_sites, then make_supercell): -1e-17 -> 1.0 -> 0.0
    frac = _row_dot(cart, big.inv_matrix)
    frac = np.where(pbc, np.mod(np.mod(frac, 1.0), 1.0), frac)
    return big.matrix, frac, np.repeat(np.arange(len(coords)), len(translations))


def _row_dot(rows: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``rows @ matrix`` summed as ``np.dot`` sums one row (pymatgen's per-site coordinate
    conversions): a BLAS matrix product rounds differently in the last bit."""
    return np.einsum("ij,jk->ik", rows, matrix)


def supercell_structure(structure: Structure, matrix) -> Structure:
    """``structure.make_supercell(matrix, in_place=False)`` built from numpy arrays
    (:func:`supercell_sites`): the same sites in the same order (species, fractional
    coordinates to the bit, site properties, labels numbered as pymatgen numbers them),
    lattice and charge, in seconds for a million atoms instead of minutes; an ``IStructure``
    (which has no make_supercell) as the ``Structure`` of its sites."""
    from pymatgen.core import Lattice, Structure
    from pymatgen.core.sites import PeriodicSite

    lattice_rows, frac, source = supercell_sites(structure.lattice.matrix,
                                                 structure.frac_coords, matrix,
                                                 structure.lattice.pbc)
    # an IStructure's copy is immutable (its lattice has no setter): a Structure of its sites
    big = (structure.copy() if isinstance(structure, Structure) else
           Structure.from_sites(structure, charge=structure._charge,
                                properties=structure.properties))
    big.lattice = Lattice(lattice_rows, pbc=structure.lattice.pbc)
    lattice = big.lattice
    parents = list(structure)
    keys = list(dict.fromkeys(k for site in parents for k in site.properties))
    labels = _numbered_labels([site.label for site in parents], np.bincount(source))
    big.sites = [PeriodicSite(parents[i].species, f, lattice, label=label, skip_checks=True,
                              properties={k: parents[i].properties.get(k) for k in keys})
                 for i, f, label in zip(source.tolist(), frac, labels)]
    return big


def _numbered_labels(labels: list, copies: np.ndarray) -> list:
    """Each copy's label as pymatgen's ``relabel_sites(ignore_uniq=True)`` gives it: a
    label held by several atoms numbered ``_1``, ``_2``, ... in atom order."""
    out, seen = [], {}
    total: dict = {}
    for label, n in zip(labels, copies.tolist()):
        total[label] = total.get(label, 0) + n
    for label, n in zip(labels, copies.tolist()):
        if total[label] == 1:
            out.append(label)
            continue
        start = seen.get(label, 0)
        out.extend(f"{label}_{k}" for k in range(start + 1, start + n + 1))
        seen[label] = start + n
    return out
