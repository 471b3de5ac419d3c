"""One structure through the screen: cell choice, grid, model scan per mobile ion,
level maps and aggregated descriptors."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ionmd.errors import IonmdError
from ionmd.screen.descriptors import (
    DEFAULT_THRESHOLDS,
    Descriptors,
    IonLandscape,
    aggregate,
    ion_landscape,
)

if TYPE_CHECKING:
    from ase import Atoms

CELL_CHOICES = ("primitive", "conventional", "as-given")
# The level map's graph (13 edges per point, sorted by the spanning-tree search) needs
# ~0.5 kB per supercell point: 2e7 points is ~10 GB.
MAX_LEVEL_MAP_NODES = 20_000_000


@dataclass
class ScreenSettings:
    """Parameters of the seed's method (defaults: sec. II A of Maevskiy et al.)."""

    species: str = "Li"
    spacing: float = 0.25
    rmin: float = 1.2
    thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS
    cell: str = "primitive"
    connectivity: str = "sqrt3"
    max_points: int = 200_000
    max_nodes: int = 64            # atoms per model call (CPU: larger calls are no faster)
    symprec: float = 0.01          # standardising the cell
    symmetry: bool = True          # evaluate symmetry-distinct (ion, point) pairs only
    symmetry_tol: float = 1e-5     # operations used for the reduction must hold this well
    min_image_distance: float = 0.0  # > 0: repeat the cell until the ion's images are this far


@dataclass
class ScreenResult:
    """Descriptors of one structure and what they were computed on."""

    atoms: Atoms
    descriptors: Descriptors
    landscapes: list[IonLandscape]
    mobile_indices: list[int]
    grid: tuple[int, int, int]
    n_evaluated: int
    wall_s: float
    settings: ScreenSettings
    extra: dict = field(default_factory=dict)


def choose_cell(atoms: Atoms, cell: str = "primitive", symprec: float = 0.01) -> Atoms:
    """The cell the mobile ion is replicated with (one mobile ion per cell).

    ``primitive``/``conventional``: pymatgen's standard cells (``SpacegroupAnalyzer``),
    so one crystal gets one answer whatever setting its file uses; ``as-given``: the
    file's cell.
    """
    if cell not in CELL_CHOICES:
        raise IonmdError(f"--cell must be one of {', '.join(CELL_CHOICES)}, got {cell!r}")
    if cell == "as-given":
        out = atoms.copy()
    else:
        from pymatgen.io.ase import AseAtomsAdaptor
        from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

        sga = SpacegroupAnalyzer(AseAtomsAdaptor.get_structure(atoms), symprec=symprec)
        std = (sga.get_primitive_standard_structure() if cell == "primitive"
               else sga.get_conventional_standard_structure())
        out = AseAtomsAdaptor.get_atoms(std)
    out.calc = None
    out.pbc = True
    out.wrap()
    return out


def partial_sites(atoms: Atoms, tol: float = 1e-3) -> list[str]:
    """Partially occupied or mixed sites recorded by ASE's CIF reader (``info["occupancy"]``),
    as ``"Li 0.50"`` strings. ASE places an atom on every such site, so a disordered CIF read
    as it is puts e.g. 48 Li on argyrodite's 24 Li: the screen must refuse it."""
    found = []
    for occ in (atoms.info.get("occupancy") or {}).values():
        if len(occ) > 1 or sum(occ.values()) < 1 - tol:
            desc = " ".join(f"{el} {x:.2f}" for el, x in sorted(occ.items()))
            if desc not in found:
                found.append(desc)
    return found


def check_ordered(atoms: Atoms) -> None:
    """Refuse a structure with partial occupancies, saying how to order it."""
    partial = partial_sites(atoms)
    if partial:
        raise IonmdError(
            f"{atoms.get_chemical_formula()} has partially occupied sites ({', '.join(partial[:4])}"
            f"{', ...' if len(partial) > 4 else ''}): the screen needs an ordered cell with one atom "
            "per site. Order it first: `ionmd screen --order ewald` (lowest Ewald energy), "
            "`--order random`, or ionmd.structures.order_structure in Python")


def dilute_repeat(atoms: Atoms, distance: float) -> tuple[int, int, int]:
    """Smallest repetition whose planes of periodic images are ``distance`` apart or more
    (width along axis i = V / |l_j x l_k|), so the mobile ion is that far from its images."""
    cell = atoms.cell.array
    volume = abs(np.linalg.det(cell))
    widths = [volume / np.linalg.norm(np.cross(cell[(i + 1) % 3], cell[(i + 2) % 3]))
              for i in range(3)]
    return tuple(max(1, int(np.ceil(distance / w - 1e-9))) for w in widths)


def mobile_ions(atoms: Atoms, species: str) -> list[int]:
    """Indices of the mobile species; none is an error that says what is there."""
    idx = [i for i, s in enumerate(atoms.get_chemical_symbols()) if s == species]
    if not idx:
        present = " ".join(sorted(set(atoms.get_chemical_symbols())))
        raise IonmdError(f"no {species} in {atoms.get_chemical_formula()} (elements: "
                         f"{present}): choose the mobile ion with --species")
    return idx


def translated_copies(landscapes: list[IonLandscape], repeat, base_shape) -> list[IonLandscape]:
    """The landscapes of the ions in every base-cell image of a repeated cell, from those of
    the first image: PES rolled by the image's translation, the same centred level map."""
    import itertools

    n = np.array(base_shape) * np.array(repeat)
    out = []
    for image in itertools.product(*(range(r) for r in repeat)):
        shift = np.array(image) * np.array(base_shape)
        for land in landscapes:
            out.append(IonLandscape(
                pes=np.roll(land.pes, tuple(shift), axis=(0, 1, 2)),
                imin=tuple(int(i) for i in (np.array(land.imin) + shift) % n),
                lm=land.lm, mpe=land.mpe))
    return out


def screen_structure(atoms: Atoms, runner, settings: ScreenSettings | None = None,
                     progress=None) -> ScreenResult:
    """Compute the PES descriptors of one structure.

    Parameters
    ----------
    atoms
        The structure (any cell; :func:`choose_cell` picks the one used).
    runner
        A :class:`ionmd.screen.batched_energy.ModelRunner`.
    settings
        Method parameters.
    progress
        Optional callable ``progress(n_points_done)``.
    """
    from ionmd.screen.batched_energy import FrameworkScan
    from ionmd.screen.grid import allowed_masks, cartesian_points, grid_shape

    settings = settings or ScreenSettings()
    t0 = time.perf_counter()
    check_ordered(atoms)
    base = choose_cell(atoms, settings.cell, settings.symprec)
    runner.species_of(base.get_chemical_symbols())            # fail before any work
    mobile_ions(base, settings.species)
    repeat = (1, 1, 1)
    if settings.min_image_distance > 0:
        repeat = dilute_repeat(base, settings.min_image_distance)
    cell_atoms = base * repeat
    # the grid of a repeated cell repeats the base cell's grid, so that base-cell
    # translations map it onto itself
    shape = tuple(r * n for r, n in zip(repeat, grid_shape(base.cell.array, settings.spacing)))
    supercell_nodes = 8 * int(np.prod(shape))
    if supercell_nodes > MAX_LEVEL_MAP_NODES:
        raise IonmdError(
            f"{cell_atoms.get_chemical_formula()}: grid {shape[0]}x{shape[1]}x{shape[2]} makes a "
            f"{supercell_nodes:.2e}-point 2x2x2 level map (limit {MAX_LEVEL_MAP_NODES:.0e}, "
            "~0.5 kB of memory per point): coarsen --spacing")
    mobile = mobile_ions(cell_atoms, settings.species)
    translated = settings.symmetry and repeat != (1, 1, 1)
    if translated:
        # ions in the other base-cell images are these ones translated: scan the first
        # image only (ASE's repeat puts it first) and translate its landscapes below
        mobile = [m for m in mobile if m < len(base)]
    masks = allowed_masks(cell_atoms, mobile, shape, settings.rmin)
    n_full = int(masks.sum())
    n_pts = int(np.prod(shape))
    if settings.symmetry:
        from ionmd.screen.symmetry import grid_operations, orbits

        labels, reps = orbits(grid_operations(cell_atoms, shape, settings.symmetry_tol),
                              mobile, masks)
    else:   # every scanned pair is its own orbit
        flat = masks.reshape(len(mobile), -1)
        scanned = np.nonzero(flat.ravel())[0]
        labels = np.full(flat.size, -1, dtype=np.int64)
        labels[scanned] = np.arange(len(scanned))
        labels = labels.reshape(flat.shape)
        reps = np.stack([scanned // n_pts, scanned % n_pts], axis=1)
    n_eval = len(reps)
    if n_eval > settings.max_points:
        rate = runner.seconds_per_node()
        eta = (f", about {n_eval * len(cell_atoms) * rate / 3600:.1f} h at the rate measured "
               "so far" if rate else "")
        raise IonmdError(
            f"{cell_atoms.get_chemical_formula()}: {n_eval} grid points to evaluate "
            f"({len(mobile)} {settings.species} x grid {shape[0]}x{shape[1]}x{shape[2]}, "
            f"{len(cell_atoms)} atoms each, ~{n_eval * len(cell_atoms):.2e} atom evaluations{eta}) "
            f"exceeds --max-points {settings.max_points}: raise --max-points, coarsen "
            f"--spacing, or use --cell primitive")
    points = cartesian_points(cell_atoms.cell.array, shape)
    rep_energy = np.empty(n_eval)
    for k, m in enumerate(mobile):
        mine = np.nonzero(reps[:, 0] == k)[0]
        if len(mine):
            scan = FrameworkScan(runner, cell_atoms, m)
            rep_energy[mine] = scan.energies(points[reps[mine, 1]],
                                             max_nodes=settings.max_nodes, progress=progress)
    landscapes = []
    for k in range(len(mobile)):
        energies = np.where(labels[k] >= 0, rep_energy[np.maximum(labels[k], 0)], np.inf)
        landscapes.append(ion_landscape(energies.reshape(shape), cell_atoms.cell.array,
                                        settings.connectivity))
    if translated:
        landscapes = translated_copies(landscapes, repeat, tuple(n // r for n, r in
                                                                 zip(shape, repeat)))
    desc = aggregate(landscapes, settings.thresholds)
    return ScreenResult(atoms=cell_atoms, descriptors=desc, landscapes=landscapes,
                        mobile_indices=mobile, grid=shape, n_evaluated=n_eval,
                        wall_s=time.perf_counter() - t0, settings=settings,
                        extra={"n_scanned": n_full, "repeat": "x".join(map(str, repeat)),
                               "mobile_ions_aggregated": len(landscapes)})
