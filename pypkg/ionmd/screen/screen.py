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
    from pymatgen.core import Structure

CELL_CHOICES = ("primitive", "conventional", "as-given")
# The level map's graph (13 edges per point, sorted by the spanning-tree search) needs
# ~0.5 kB per supercell point: 2e7 points is ~10 GB.
MAX_LEVEL_MAP_NODES = 20_000_000
# The model cutoff (A) the narrow-cell note falls back to when none is given: SevenNet-0's,
# the model the note's LiCl numbers were measured with (see small_cell_note).
SEVENNET0_CUTOFF = 5.0
# Fewest grid points along a lattice vector: with 4 a path between two sites crosses at
# least one point between them; coarser grids score barriers of 0 (MPE 0, Xi 1).
MIN_GRID_POINTS = 4
# Coarsest grid step (A) whose MPE stayed near the fine grid's: measured with SevenNet-0 on
# LiCl, Li2S and Li3N (docs/screen.md, "Grid spacing"), steps above it skip saddles.
COARSE_GRID_SPACING = 0.5
# Net charge (e) under a file's own oxidation states below which the cell is neutral
# (states are whole or simple fractions; this only absorbs float rounding)
NEUTRAL_TOL_E = 1e-3


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


def as_atoms(structure) -> Atoms:
    """``structure`` as the ASE ``Atoms`` the screen works on: an ``Atoms`` as it is, an
    ordered pymatgen ``Structure`` through pymatgen's ``AseAtomsAdaptor`` (its oxidation
    states kept, as a file's are: :func:`charge_note`); anything else refused, saying what
    to give (a Structure failed with ``AttributeError: .info``)."""
    from ase import Atoms as AseAtoms

    if isinstance(structure, AseAtoms):
        return structure
    if hasattr(structure, "lattice") and hasattr(structure, "is_ordered"):
        if not structure.is_ordered:
            raise IonmdError(
                f"{structure.composition.reduced_formula} has partially occupied sites: the "
                "screen needs an ordered cell with one atom per site. Order it first "
                "(ionmd.structures.order_structure, or `ionmd screen --order ewald`)")
        from pymatgen.io.ase import AseAtomsAdaptor

        return AseAtomsAdaptor.get_atoms(structure)
    raise IonmdError(f"the screen takes an ASE Atoms or a pymatgen Structure, got "
                     f"{type(structure).__name__}; read a file with ase.io.read or "
                     "ionmd.structures.read_structure")


def check_ordered(atoms: Atoms) -> None:
    """Refuse a structure with partial occupancies, saying how to order it."""
    partial = partial_sites(atoms)
    if partial:
        raise IonmdError(
            f"{atoms.get_chemical_formula()} has partially occupied sites ({', '.join(partial[:4])}"
            f"{', ...' if len(partial) > 4 else ''}): the screen needs an ordered cell with one atom "
            "per site. Order it first: `ionmd screen --order ewald` (lowest Ewald energy), "
            "`--order random`, or ionmd.structures.order_structure in Python")


def anchor_ion(atoms: Atoms, mobile: list[int], radius: float = 5.0) -> int:
    """The mobile ion the grid starts at, chosen by its surroundings (sorted distances and
    elements of its neighbours within ``radius``, to 1e-3 A), not by its place in the
    atom list: with inequivalent sites, the first ion made the answer depend on atom order
    (Li3N's geometry with a pair model: MPE 0.191 or 0.209 eV). Equivalent ions have the
    same surroundings; the first of them is taken."""
    from ase.neighborlist import neighbor_list

    i, j, d = neighbor_list("ijd", atoms, radius)
    numbers = atoms.numbers

    def surroundings(m):
        mine = i == m
        return sorted(zip(np.round(d[mine], 3).tolist(), numbers[j[mine]].tolist()))

    return min(mobile, key=surroundings)


def anchored_on_mobile_ion(atoms: Atoms, index: int) -> Atoms:
    """``atoms`` translated so that atom ``index`` (a mobile ion) sits at the cell origin,
    where the grid starts: the ion's own site (eq. 1's r0) is then a grid point, and the
    grid no longer depends on which origin the file or the standard cell chose. (LiCl's
    standard primitive cell puts Li at 0 or at 1/2 depending on the input; on the default
    15-point grid, 1/2 is off the grid, and one crystal scored FV_LM(0.5) 0.018 or 0.141,
    Xi 0.89 or 0.95.) A rigid translation changes no energy."""
    out = atoms.copy()
    out.translate(-atoms.positions[index])
    out.wrap()
    return out


def image_plane_widths(atoms: Atoms) -> list[float]:
    """Distance between the cell's periodic image planes along each axis, V / |l_j x l_k|:
    how far the mobile ion is from its own images across each face."""
    from ionmd.structures.geometry import perpendicular_widths

    return [float(w) for w in perpendicular_widths(atoms.cell.array)]


def nearest_image_distance(atoms: Atoms) -> float:
    """Distance from an atom to its nearest periodic image: the shortest nonzero lattice
    vector n1 l1 + n2 l2 + n3 l3. A vector no longer than the shortest l_i has |n_i| <=
    |l_i|min / w_i (w_i the image-plane width along axis i), so that box is searched whole."""
    cell = atoms.cell.array
    bound = min(np.linalg.norm(cell, axis=1))
    reach = [int(np.floor(bound / w + 1e-9)) for w in image_plane_widths(atoms)]
    n = np.stack(np.meshgrid(*[np.arange(-r, r + 1) for r in reach], indexing="ij"), -1)
    n = n.reshape(-1, 3)
    lengths = np.linalg.norm(n[np.any(n != 0, axis=1)] @ cell, axis=1)
    return float(lengths.min())


def dilute_repeat(atoms: Atoms, distance: float) -> tuple[int, int, int]:
    """Smallest repetition whose planes of periodic images are ``distance`` apart or more,
    so the mobile ion is that far from its images."""
    return tuple(max(1, int(np.ceil(distance / w - 1e-9))) for w in image_plane_widths(atoms))


def charge_note(atoms: Atoms, ordered: bool = False) -> str | None:
    """A warning for a cell that no sound oxidation states make neutral, even roughly
    (``ionmd.structures.charges.oxidation_guess``): OBELiX's Li2(OH)Br CIF holds no H, and
    was screened as Li2BrO (-1 e per formula unit under Li+ Br- O2-) without a word. The
    frozen framework is then not the material's; the descriptors describe another one.
    Also a cell of whole atoms the guessed states leave charged by a whole ion
    (:func:`~ionmd.structures.charges_guess.whole_cell_charge_note`: the guess reads 10 %
    off neutral as refined occupancies, and one vacancy in a large cell passed), unless it
    was ``ordered`` from a disordered file (its ordering note says its net charge)."""
    from ionmd.structures.charges import oxidation_guess
    from ionmd.structures.charges_guess import whole_cell_charge_note

    # the file's own states (pymatgen's reading) settle it only where they make the cell
    # neutral: a charged cell (a vacancy cut from LiCl, written by pymatgen with Li+ Cl-)
    # skipped the check here, while the same cell without states got the note
    states = atoms.arrays.get("oxi_states")
    if states is not None and abs(float(np.sum(states))) < NEUTRAL_TOL_E:
        return None
    guess = oxidation_guess(atoms.get_chemical_formula())
    if guess.states:
        whole = None if ordered else whole_cell_charge_note(atoms.get_chemical_formula())
        return (f"{whole}: the screened cell may lack atoms of the material, and its "
                "descriptors are then another material's; check the file" if whole else None)
    if guess.clusters:                      # cluster anions (closo-borates) are neutral too
        return None
    return (f"{guess.note}: the screened cell may lack atoms of the material (the H of a "
            "hydroxide or hydride, a site the file left out), and its descriptors are then "
            "another material's; check the file (borane anions the guess does not know, i.e. "
            "other than closo cages, BH4-, B3H8-, B10H13- and B11H14-, as LiB9H14's arachno "
            "B9H14-, have no formal states: such a file is fine)")


def small_cell_note(atoms: Atoms, species: str,
                    cutoff: float = SEVENNET0_CUTOFF) -> str | None:
    """A warning for a cell whose image planes are closer than the model's ``cutoff``:
    the scan then moves a row of the ion's periodic images with it within the model's
    reach (below the cutoff the nearest images are in the ion's own edge list), where a
    single ion would meet ions standing still. Measured on rock-salt LiCl,
    SevenNet-0 (5 A) gives MPE 0.51 eV in the primitive cell and 4.85 eV with the ion 5.5 A
    from its images (docs/screen.md), so such rows do not rank against larger cells. The
    width is the model's, not fixed: a fixed 5 A let a 6 A model (MACE MP, eSEN) scan a
    5.5 A-wide cell unmarked. ``--min-image-distance`` at the cutoff repeats the cell past
    it."""
    width = min(image_plane_widths(atoms))
    if width >= cutoff:
        return None
    # the planes decide (a row of images moves with the ion); the nearest image is farther
    return (f"the mobile {species}'s periodic images lie in planes {width:.2f} A apart (the "
            f"nearest {nearest_image_distance(atoms):.2f} A away), within the model's "
            f"{cutoff:g} A cutoff, so the scan moves a row of them together and the barriers "
            "are not a single ion's: rank such cells against larger ones with "
            # 5.5 A: docs/screen.md's ranking protocol, where SevenNet-0's 5 A is below it
            f"--min-image-distance {max(cutoff, 5.5):g}")


def coarse_grid_note(spacing: float) -> str | None:
    """A warning for a grid step above :data:`COARSE_GRID_SPACING`, where a path between
    grid points steps past the saddle and MPE (and Xi, from a few points per site) move
    with the grid, not the material."""
    if spacing <= COARSE_GRID_SPACING:
        return None
    return (f"--spacing {spacing:g} A is coarser than {COARSE_GRID_SPACING:g} A: the grid "
            "steps past saddles, so MPE and Xi follow the grid (SevenNet-0, 1.0 A vs 0.25 A: "
            "MPE off by 0.08-1.19 eV on Li2S, Li3N and LiCl, Xi by up to 0.95; docs/screen.md, "
            f"'Grid spacing'): rank at --spacing {COARSE_GRID_SPACING:g} or finer, use a "
            "coarser grid to cost and refuse structures")


def mobile_ions(atoms: Atoms, species: str) -> list[int]:
    """Indices of the mobile species; none is an error that says what is there."""
    idx = [i for i, s in enumerate(atoms.get_chemical_symbols()) if s == species]
    held = (atoms.info.get("rounded_away") or {}).get(species, 0.0)
    if not idx and held > 0:
        # the file has the species only on sites whose occupancy rounded to 0
        raise IonmdError(
            f"no {species} left in {atoms.get_chemical_formula()} after ordering: the file's "
            f"cell holds {held:g} {species} on partially occupied sites, and rounding the "
            f"occupancies within --order-tol left it out. Use a smaller --order-tol (the "
            f"ordered cell grows to whole counts of {species}), or screen another mobile ion "
            f"with --species (ordering: {atoms.info['ordered']})")
    if not idx:
        present = " ".join(sorted(set(atoms.get_chemical_symbols())))
        # OBELiX's Li4SiS4 CIF holds Si2 S8 only: the file, not the option, is then wrong
        raise IonmdError(f"no {species} in {atoms.get_chemical_formula()} (elements: "
                         f"{present}): choose the mobile ion with --species, or, if the "
                         f"material is a {species} conductor, the file lacks its {species} "
                         "sites: fix or replace the file")
    return idx


def check_framework(atoms: Atoms, species: str) -> None:
    """Refuse a cell of the mobile ion alone (Li metal): the descriptors measure a frozen
    framework's landscape and are undefined without one (its PES is flat: a 'perfect
    conductor')."""
    if set(atoms.get_chemical_symbols()) == {species}:
        raise IonmdError(
            f"{atoms.get_chemical_formula()} has no framework atom (only {species}): the "
            "screen's descriptors are undefined without a framework; screen compounds only")


def check_grid_fine_enough(cell_atoms: Atoms, spacing: float) -> None:
    """Refuse a grid with fewer than MIN_GRID_POINTS points along a lattice vector: a
    1x1x1 grid scores MPE 0 and Xi 1, any path on a grid that coarse skips the barriers."""
    from ionmd.screen.grid import grid_shape

    shape = grid_shape(cell_atoms.cell.array, spacing)
    if min(shape) < MIN_GRID_POINTS:
        shortest = float(np.linalg.norm(cell_atoms.cell.array, axis=1).min())
        raise IonmdError(
            f"{cell_atoms.get_chemical_formula()}: --spacing {spacing:g} gives grid "
            f"{shape[0]}x{shape[1]}x{shape[2]}, under {MIN_GRID_POINTS} points along a "
            f"lattice vector: use --spacing {shortest / MIN_GRID_POINTS:.2f} or less")


def check_some_point_allowed(cell_atoms: Atoms, masks: np.ndarray, rmin: float) -> None:
    """Refuse a scan where an ion has no grid point at least ``rmin`` from the framework:
    its landscape is undefined (checked before any model call)."""
    if not masks.reshape(len(masks), -1).any(axis=1).all():
        raise IonmdError(
            f"{cell_atoms.get_chemical_formula()}: every grid point is excluded (closer than "
            f"--rmin {rmin:g} A to the framework): lower --rmin or check the structure")


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


@dataclass
class ScreenPlan:
    """What screening one structure will evaluate, worked out before any model call.

    Attributes
    ----------
    cell_atoms
        The screened cell (chosen cell times ``repeat``).
    repeat
        Repetition of the chosen cell (``--min-image-distance``).
    grid
        Grid shape on ``cell_atoms``.
    mobile
        Indices of the mobile ions scanned.
    masks
        ``(len(mobile), *grid)`` scanned (not excluded) points per ion.
    labels
        ``(len(mobile), n_points)`` orbit of each (ion, point) pair, ``-1`` = excluded.
    reps
        ``(n_eval, 2)`` one (ion, point) pair per orbit: what is evaluated.
    translated
        The ions of the other base-cell images are taken as translated copies.
    """

    cell_atoms: Atoms
    repeat: tuple[int, int, int]
    grid: tuple[int, int, int]
    mobile: list[int]
    masks: np.ndarray
    labels: np.ndarray
    reps: np.ndarray
    translated: bool

    @property
    def n_evaluations(self) -> int:
        """Model evaluations (grid points with the ion in place) the screen makes."""
        return len(self.reps)

    @property
    def atom_evaluations(self) -> int:
        """Evaluations times atoms per evaluation: the model's cost unit."""
        return self.n_evaluations * len(self.cell_atoms)

    def describe(self, species: str) -> str:
        g = self.grid
        return (f"{self.cell_atoms.get_chemical_formula()}: {self.n_evaluations} grid points to "
                f"evaluate ({len(self.mobile)} {species} x grid {g[0]}x{g[1]}x{g[2]}, "
                f"{len(self.cell_atoms)} atoms each, "
                f"~{self.atom_evaluations:.2e} atom evaluations)")


def plan_screen(atoms: Atoms | Structure, settings: ScreenSettings | None = None,
                runner=None) -> ScreenPlan:
    """Cell, grid, mobile ions and the (ion, point) orbits to evaluate for one structure.

    Raises :class:`IonmdError` for what the screen would refuse (disorder, no mobile ion,
    an element ``runner``'s model lacks, a level map too large); ``--max-points`` is
    checked by :func:`screen_structure`, so a plan can cost any structure.
    """
    from ionmd.screen.grid import allowed_masks, grid_shape

    settings = settings or ScreenSettings()
    atoms = as_atoms(atoms)
    check_ordered(atoms)
    if "rounded_away" in atoms.info:     # ordered here: say if ordering dropped the ion
        mobile_ions(atoms, settings.species)
    base = choose_cell(atoms, settings.cell, settings.symprec)
    if runner is not None:
        runner.species_of(base.get_chemical_symbols())        # fail before any work
    base = anchored_on_mobile_ion(base, anchor_ion(base, mobile_ions(base, settings.species)))
    check_framework(base, settings.species)
    check_grid_fine_enough(base, settings.spacing)
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
        # image only (ASE's repeat puts it first) and translate its landscapes later
        mobile = [m for m in mobile if m < len(base)]
    masks = allowed_masks(cell_atoms, mobile, shape, settings.rmin)
    check_some_point_allowed(cell_atoms, masks, settings.rmin)
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
    return ScreenPlan(cell_atoms=cell_atoms, repeat=repeat, grid=shape, mobile=mobile,
                      masks=masks, labels=labels, reps=reps, translated=translated)


def check_finite(rep_energy: np.ndarray, plan: ScreenPlan, points: np.ndarray,
                 rmin: float) -> None:
    """Refuse a scan where the model returned NaN or inf: the level map would take those
    points as walls (excluded), and the descriptors would rest on where the model fails.
    The error says how close to the framework the failures start, for --rmin."""
    bad = np.nonzero(~np.isfinite(rep_energy))[0]
    if not len(bad):
        return
    from ase.geometry import get_distances

    atoms = plan.cell_atoms
    closest = []
    for k, p in plan.reps[bad[:2000]]:
        others = [i for i in range(len(atoms)) if i != plan.mobile[k]]
        _, d = get_distances(points[[p]], atoms.positions[others], cell=atoms.cell, pbc=True)
        closest.append(d.min())
    raise IonmdError(
        f"{atoms.get_chemical_formula()}: the model returned a non-finite energy (NaN/inf) at "
        f"{len(bad)} of {len(rep_energy)} evaluated grid points, {min(closest):.2f}-"
        f"{max(closest):.2f} A from the framework (--rmin {rmin:g}): raise --rmin past "
        "where the model fails, or check the model")


def time_model(runner, plan: ScreenPlan, max_nodes: int, calls: int = 2) -> dict:
    """Cost of the model on ``plan``'s own grid points: one warm-up batch (TorchScript
    optimises on its first call), then ``calls`` timed batches of ``max_nodes`` atoms.

    Returns seconds per atom evaluation of the model call alone (``model``) and with the
    host's graph building (``wall``), grid points per second, and the batch used.
    """
    from ionmd.screen.batched_energy import FrameworkScan
    from ionmd.screen.grid import cartesian_points

    scan = FrameworkScan(runner, plan.cell_atoms, plan.mobile[0])
    per_call = max(1, max_nodes // len(plan.cell_atoms))
    points = cartesian_points(plan.cell_atoms.cell.array, plan.grid)[plan.reps[:, 1]]
    points = points[np.resize(np.arange(len(points)), per_call * (calls + 1))]
    scan.energies(points[:per_call], max_nodes=max_nodes)
    seconds, nodes = runner.model_seconds, runner.node_evaluations
    t0 = time.perf_counter()
    scan.energies(points[per_call:], max_nodes=max_nodes)
    wall = time.perf_counter() - t0
    nodes = runner.node_evaluations - nodes
    return {"model": (runner.model_seconds - seconds) / nodes, "wall": wall / nodes,
            "points_per_s": calls * per_call / wall, "batch_atoms": per_call * len(plan.cell_atoms),
            "replicas": per_call}


def screen_structure(atoms: Atoms | Structure, runner, settings: ScreenSettings | None = None,
                     progress=None) -> ScreenResult:
    """Compute the PES descriptors of one structure.

    Parameters
    ----------
    atoms
        The structure (any cell; :func:`choose_cell` picks the one used): an ASE Atoms or
        an ordered pymatgen Structure (:func:`as_atoms`).
    runner
        A :class:`ionmd.screen.batched_energy.ModelRunner`.
    settings
        Method parameters.
    progress
        Optional callable ``progress(n_points_done)``.
    """
    from ionmd.screen.batched_energy import FrameworkScan
    from ionmd.screen.grid import cartesian_points

    settings = settings or ScreenSettings()
    t0 = time.perf_counter()
    given = as_atoms(atoms)
    plan = plan_screen(given, settings, runner)
    cell_atoms, shape, mobile, reps = plan.cell_atoms, plan.grid, plan.mobile, plan.reps
    n_eval = plan.n_evaluations
    if n_eval > settings.max_points:
        rate = runner.seconds_per_node()
        eta = (f", about {plan.atom_evaluations * rate / 3600:.1f} h at the rate measured "
               "so far" if rate else "")
        # the primitive cell is the default: advising it there sent users in a circle
        smaller = ("" if settings.cell == "primitive" else ", or use --cell primitive")
        raise IonmdError(
            f"{plan.describe(settings.species)[:-1]}{eta}) exceeds --max-points "
            f"{settings.max_points}: raise --max-points or coarsen --spacing{smaller} "
            "(`ionmd screen --dry-run` lists every structure's cost)")
    points = cartesian_points(cell_atoms.cell.array, shape)
    rep_energy = np.empty(n_eval)
    for k, m in enumerate(mobile):
        mine = np.nonzero(reps[:, 0] == k)[0]
        if len(mine):
            scan = FrameworkScan(runner, cell_atoms, m)
            rep_energy[mine] = scan.energies(points[reps[mine, 1]],
                                             max_nodes=settings.max_nodes, progress=progress)
    check_finite(rep_energy, plan, points, settings.rmin)
    landscapes = []
    for k in range(len(mobile)):
        energies = np.where(plan.labels[k] >= 0, rep_energy[np.maximum(plan.labels[k], 0)],
                            np.inf)
        landscapes.append(ion_landscape(energies.reshape(shape), cell_atoms.cell.array,
                                        settings.connectivity,
                                        site=cell_atoms.get_scaled_positions()[mobile[k]]))
    if plan.translated:
        landscapes = translated_copies(landscapes, plan.repeat,
                                       tuple(n // r for n, r in zip(shape, plan.repeat)))
    desc = aggregate(landscapes, settings.thresholds)
    extra = {"n_scanned": int(plan.masks.sum()), "repeat": "x".join(map(str, plan.repeat)),
             "mobile_ions_aggregated": len(landscapes)}
    # two columns: `note` has meant a narrow cell (examples/screen_vs_measured.py ranks the
    # rows without one apart)
    for key, note in (("note", small_cell_note(cell_atoms, settings.species, runner.cutoff)),
                      ("charge_note", charge_note(cell_atoms,
                                                  ordered="ordered" in given.info))):
        if note:
            extra[key] = note
    return ScreenResult(atoms=cell_atoms, descriptors=desc, landscapes=landscapes,
                        mobile_indices=mobile, grid=shape, n_evaluated=n_eval,
                        wall_s=time.perf_counter() - t0, settings=settings,
                        extra=extra)
