"""Post-mortem failure detection for any run (the stability protocol), and survival curves.

Failure modes, each found at its first occurrence:

``lost_atoms``
    LAMMPS stopped with ``ERROR: Lost atoms`` (at the thermo output after the last one it
    printed: it checks before printing) or the thermo ``Atoms`` count dropped.
``volume_change``
    ``|V / V0 - 1| > 0.5`` (the AQVolt26 criterion), from the trajectory's boxes or thermo.
``nan_model``
    The model returned a non-finite energy or force (``pair_style ionmd`` stops LAMMPS at
    that step, before a NaN reaches the thermo output or the coordinates: atoms came too
    close, or the simulation exploded).
``nan_thermo`` / ``nan_coordinates``
    A NaN or Inf that LAMMPS printed in any thermo column (a column that one ``run`` block
    does not print is not a NaN there), or in the coordinates.
``temperature_runaway``
    The running mean of T over ``window`` thermo rows exceeds ``runaway_factor`` times the
    running mean of the target temperature there (a running mean because small cells
    fluctuate strongly; a ramp's target follows the ramp).
``framework_melting``
    The RMS displacement of the framework atoms (:func:`framework_species`) from their starting
    sites carried along by the cell's deformation (:func:`non_affine_rms`), framework
    drift removed, exceeds ``melt_fraction`` of their initial nearest-neighbour distance:
    a solid's atoms vibrate about sites (Lindemann ratio ~0.1-0.15 at melting), a liquid's
    wander off without bound, so the check fires after the structure is lost, by the time
    the liquid takes to move that far. Framework atoms bonded into one molecule (P2S7 and
    P2S6: two P sharing an S or bonded to each other; a closo-borate's B12H12) count as one
    site, their centre (:func:`framework_units`): a molecule tumbling as a whole in a hot
    crystal moves its atoms, not its centre.
``collapsed_distance``
    Two atoms closer than ``collapse_fraction`` times the sum of their covalent radii.

The first failure is reported with its step, time, the thermo temperature at (or just
before) that step and the thermostat's target there (a ramp's value at that step).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from ionmd.errors import AnalysisError
from ionmd.lammps.log import printed_column, printed_rows
from ionmd.lammps.lost_atoms import find_lost_atoms
from ionmd.structures.geometry import bonded_components

MODES = ("lost_atoms", "volume_change", "nan_model", "nan_thermo", "nan_coordinates",
         "temperature_runaway", "framework_melting", "collapsed_distance")
NAN_MODEL_RE = re.compile(r"ERROR.*the model returned a non-finite energy or force at step (\d+).*")
"""``pair_style ionmd``'s error when the model's energy or forces are not finite."""


@dataclass
class FailureEvent:
    mode: str
    step: int
    time_ps: float
    temperature_K: float | None
    detail: str
    #: the thermostat's target at ``step`` (a ramp's value there): the temperature a
    #: heating run failed at; ``temperature_K`` is what the thermo printed last before it,
    #: far off it in a run that is blowing up
    target_temperature_K: float | None = None


@dataclass
class FailureReport:
    events: list[FailureEvent] = field(default_factory=list)
    run_end_step: int = 0
    run_end_ps: float = 0.0

    @property
    def failed(self) -> bool:
        return bool(self.events)

    @property
    def first(self) -> FailureEvent | None:
        return min(self.events, key=lambda e: e.step) if self.events else None

    @property
    def modes(self) -> list[str]:
        """The modes found, in the order they first happened (by step)."""
        return list(dict.fromkeys(e.mode for e in sorted(self.events,
                                                         key=lambda e: (e.step, e.mode))))

    @classmethod
    def from_dict(cls, d: dict) -> "FailureReport":
        """Inverse of :meth:`to_dict`."""
        return cls([FailureEvent(**e) for e in d["events"]], d["run_end_step"], d["run_end_ps"])

    def to_dict(self) -> dict:
        first = self.first
        return {"failed": self.failed, "modes": self.modes,
                "first": asdict(first) if first else None,
                "events": [asdict(e) for e in self.events],
                "run_end_step": self.run_end_step, "run_end_ps": self.run_end_ps}


# ---------------------------------------------------------------- detection

def _first(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def _temperature_at(step: int, thermo: dict[str, np.ndarray]) -> float | None:
    if "Step" not in thermo or "Temp" not in thermo:
        return None
    tsteps, temp = printed_column(thermo, "Temp")
    if not tsteps.size:
        return None
    before = np.flatnonzero(tsteps <= step)
    return float(temp[before[-1] if before.size else 0])


def _target_at(step: int, start_K: float | None, end_K: float | None,
               ramp_steps: int | None) -> float | None:
    """The thermostat's target at ``step``: constant, or a ramp linear over ``ramp_steps``
    from step 0 (None where unknown: no target, or a ramp of unknown length)."""
    if start_K is None or end_K is None or end_K == start_K:
        return start_K
    if not ramp_steps:
        return None
    return float(start_K + (end_K - start_K) * min(max(step / ramp_steps, 0.0), 1.0))


def _nn_distance(pos: np.ndarray, box: np.ndarray) -> float:
    """Mean nearest-neighbour distance, from pairs within a cutoff widened until every atom
    has one (memory grows with the pairs, not N^2: 20 000 anions would need 3 GB)."""
    from MDAnalysis.lib.distances import self_capped_distance

    from ionmd.analysis.cell_frame import canonical_frame

    n = len(pos)
    cutoff = 1.5 * (abs(np.linalg.det(box)) / n) ** (1 / 3)   # > d_nn of close packing
    pos, dims = canonical_frame(pos, box)
    while True:
        pairs, d = self_capped_distance(pos.astype(np.float32), cutoff, box=dims)
        nearest = np.full(n, np.inf)
        np.minimum.at(nearest, pairs[:, 0], d)
        np.minimum.at(nearest, pairs[:, 1], d)
        if np.isfinite(nearest).all():
            return float(nearest.mean())
        cutoff *= 1.5


def _min_scaled_distances(positions: np.ndarray, boxes: np.ndarray, radii: np.ndarray,
                          cutoff: float) -> np.ndarray:
    """Per frame, min over pairs within ``cutoff`` of d_ij / (r_i + r_j) (inf if none)."""
    from MDAnalysis.lib.distances import self_capped_distance

    from ionmd.analysis.cell_frame import canonical_frame

    out = np.full(len(positions), np.inf)
    for t, (pos, box) in enumerate(zip(positions, boxes)):
        pos, dims = canonical_frame(pos, box)
        pairs, d = self_capped_distance(pos.astype(np.float32), cutoff, box=dims)
        if len(d):
            out[t] = np.min(d / (radii[pairs[:, 0]] + radii[pairs[:, 1]]))
    return out


def detect_failures(*, steps: np.ndarray, timestep_fs: float, positions: np.ndarray | None = None,
                    boxes: np.ndarray | None = None, elements: Sequence[str] | None = None,
                    masses: np.ndarray | None = None, framework: Sequence[str] = (),
                    thermo: dict[str, np.ndarray] | None = None,
                    log_text: str | Sequence[str] = "", log_dir: str | Path | None = None,
                    target_temperature_K: float | None = None,
                    temperature_end_K: float | None = None, ramp_steps: int | None = None,
                    volume_limit: float = 0.5,
                    runaway_factor: float = 2.0, window: int = 5, melt_fraction: float = 0.5,
                    collapse_fraction: float = 0.5) -> FailureReport:
    """Find every failure mode in a run (see the module docstring).

    Parameters
    ----------
    steps : array of int
        MD step of each trajectory frame.
    timestep_fs : float
        MD time step, fs.
    positions, boxes : arrays (T, N, 3), (T, 3, 3), optional
        Raw (any image) positions and cell vectors of the frames.
    elements, masses : optional
        Per atom; needed for the framework and distance checks.
    framework : sequence of str
        Framework species for the melting check (:func:`framework_species`).
    thermo : dict, optional
        :func:`ionmd.lammps.log.parse_thermo` output: each check reads only the rows where
        LAMMPS printed its column. A plain dict of columns counts as printed throughout.
    log_text : str or sequence of str
        The ``log.lammps`` texts of the run's pieces in run order, or one text (for
        LAMMPS's own error messages).
    log_dir : path, optional
        Where the logs' relative file names are (a resumed piece's ``read_restart`` file,
        whose step dates a loss at that piece's setup).
    target_temperature_K : float, optional
        Thermostat target (a ramp's start); without it no runaway check.
    temperature_end_K, ramp_steps : optional
        A ramp's end target and its length in steps (from step 0); without the length the
        runaway check compares with the higher end.
    """
    thermo = thermo or {}
    tsteps = thermo.get("Step", np.zeros(0))
    step0 = int(steps[0]) if len(steps) else int(thermo.get("Step", np.array([0]))[0])
    texts = [log_text] if isinstance(log_text, str) else list(log_text)
    found, ended = _lost_atoms(thermo, texts, steps, log_dir)
    found = (found + _nan_model("\n".join(texts)) + _nan_thermo(thermo)
             + _temperature_runaway(thermo, target_temperature_K, runaway_factor, window,
                                    temperature_end_K, ramp_steps)
             + _volume_change(steps, boxes, thermo, volume_limit))
    if positions is not None and boxes is not None:
        bad, n_ok = _nan_coordinates(steps, positions, boxes)
        found += bad
        pos, bx = positions[:n_ok], boxes[:n_ok]
        if elements is not None and n_ok:
            elements = np.asarray(elements)
            found += _collapsed_distance(steps, pos, bx, elements, collapse_fraction)
            found += _framework_melting(steps, pos, bx, elements, masses, framework, melt_fraction)
    events = [FailureEvent(mode, int(step), (int(step) - step0) * timestep_fs * 1e-3,
                           _temperature_at(int(step), thermo), detail,
                           _target_at(int(step), target_temperature_K, temperature_end_K,
                                      ramp_steps))
              for mode, step, detail in found]
    end_step = int(max([steps[-1] if len(steps) else step0, tsteps[-1] if tsteps.size else step0]
                       + [e.step for e in events]))
    if ended is not None:     # LAMMPS stopped the run there: what follows was abandoned
        events, end_step = [e for e in events if e.step <= ended], min(end_step, ended)
    return FailureReport(events=sorted(events, key=lambda e: e.step), run_end_step=end_step,
                         run_end_ps=(end_step - step0) * timestep_fs * 1e-3)


# One function per failure mode: each returns [(mode, step, detail)] (empty: not seen).

def _lost_atoms(thermo, texts: list[str], steps,
                log_dir=None) -> tuple[list[tuple[str, int, str]], int | None]:
    """LAMMPS's own "Lost atoms" error (dated by :func:`ionmd.lammps.lost_atoms.find_lost_atoms`,
    as status.json dates it), else a falling atom count in the thermo output; and the
    step the run ended at where the loss was at the setup of its last piece, resumed
    from a restart (the rows and frames of earlier pieces after it were abandoned)."""
    tsteps = thermo.get("Step", np.zeros(0))
    # the spacings where the logs echo no `thermo N` or `dump ... N`
    lost = find_lost_atoms(texts, thermo_every=_spacing(tsteps), dump_every=_spacing(steps),
                           last_frame=int(steps[-1]) if len(steps) else None)
    if lost:
        step, ended = lost.step, None
        if lost.in_minimization and lost.md_step is not None:
            step = lost.md_step     # a quench after the MD: the MD got to its last row
        elif lost.in_minimization:
            # its rows' steps are the minimiser's, not MD steps: the MD (from step 0, or
            # the restart's step) never started, as the run's status.json dates it
            step = None if lost.restart_file else 0
        if step is None and lost.restart_file and log_dir is not None:
            from ionmd.lammps.restart import restart_step    # a resumed piece's setup

            step = restart_step(Path(log_dir) / lost.restart_file)
            ended = step if lost.piece == len(texts) - 1 else None
        if step is None:
            step = int(tsteps[-1] if tsteps.size else steps[-1])
        return [("lost_atoms", step, _lost_detail(lost))], ended
    if "Atoms" in thermo and tsteps.size:
        asteps, atoms = printed_column(thermo, "Atoms")
        i = _first(atoms < atoms[0]) if atoms.size else None
        if i is not None:
            return [("lost_atoms", asteps[i], f"atom count fell from {atoms[0]:.0f} "
                                              f"to {atoms[i]:.0f}")], None
    return [], None


def _spacing(steps) -> int | None:
    """The usual step between thermo rows or frames (their median positive gap), None
    where fewer than two."""
    gaps = np.diff(np.asarray(steps))
    return int(np.median(gaps[gaps > 0])) if (gaps > 0).any() else None


def _lost_detail(lost) -> str:
    """LAMMPS's message and when, in the words of the run's status (``LostAtoms.when``, as
    ``ionmd.protocols.execute`` records it), with the output that found the loss."""
    if lost.in_minimization:        # before the MD (a relaxation), or after it (a quench)
        never = ", so the MD never started" if lost.md_step is None else ""
        return f"{lost.message} ({lost.when}{never})"
    if lost.after_row is None:
        return lost.message
    if lost.step == lost.after_row and lost.halt_step is None:   # the output is unknown
        return f"{lost.message} ({lost.when})"
    found = ("fix halt's output" if lost.halt_step is not None else
             "the next dump" if lost.by_dump else "the next thermo output")
    return f"{lost.message} ({lost.when}, found at {found})"


def _nan_model(log_text: str) -> list[tuple[str, int, str]]:
    """The step at which ``pair_style ionmd`` stopped LAMMPS for a non-finite model output."""
    found = NAN_MODEL_RE.search(log_text)
    return [("nan_model", int(found.group(1)), found.group(0).strip())] if found else []


def _nan_thermo(thermo) -> list[tuple[str, int, str]]:
    """A NaN or Inf that LAMMPS printed (not a column absent from that ``run`` block)."""
    tsteps = thermo.get("Step", np.zeros(0))
    if not tsteps.size:
        return []
    bad = {k: printed_rows(thermo, k) & ~np.isfinite(v) for k, v in thermo.items()}
    i = _first(np.any(np.stack(list(bad.values()), -1), axis=1))
    if i is None:
        return []
    names = [k for k, rows in bad.items() if rows[i]]
    return [("nan_thermo", tsteps[i], f"non-finite {names} at step {int(tsteps[i])}")]


def _temperature_runaway(thermo, target_K: float | None, factor: float, window: int,
                         end_K: float | None = None,
                         ramp_steps: int | None = None) -> list[tuple[str, int, str]]:
    """The running mean of T over ``window`` thermo rows above ``factor`` x the running
    mean of the target there: constant, or a ramp to ``end_K`` (linear over ``ramp_steps``
    from step 0, as LAMMPS's ``run N start 0 stop N``; its higher end when the length is
    unknown: a heating ramp is not a runaway)."""
    tsteps = thermo.get("Step", np.zeros(0))
    if not (tsteps.size and target_K and "Temp" in thermo):
        return []
    tsteps, temp = printed_column(thermo, "Temp")
    if not temp.size:
        return []
    temp = np.nan_to_num(temp, nan=np.inf)
    if end_K is None or end_K == target_K:
        target = np.full(temp.shape, float(target_K))
    elif ramp_steps:
        target = target_K + (end_K - target_K) * np.clip(tsteps / ramp_steps, 0.0, 1.0)
    else:
        target = np.full(temp.shape, float(max(target_K, end_K)))
    n = min(window, temp.size)
    run_mean = np.convolve(temp, np.ones(n) / n, mode="valid")
    run_target = np.convolve(target, np.ones(n) / n, mode="valid")
    i = _first(run_mean > factor * run_target)
    if i is None:
        return []
    j = i + n - 1
    return [("temperature_runaway", tsteps[j], f"mean T over {n} thermo rows "
             f"{run_mean[i]:.0f} K > {factor} x target {run_target[i]:.0f} K")]


def _volume_change(steps, boxes, thermo, limit: float) -> list[tuple[str, int, str]]:
    """|V/V0 - 1| > limit, from the trajectory's boxes or the thermo Volume column
    (either may see it first)."""
    tsteps = thermo.get("Step", np.zeros(0))
    sources = []
    if boxes is not None and len(boxes):
        sources.append((np.abs(np.linalg.det(boxes)), steps))
    if "Volume" in thermo and tsteps.size and printed_rows(thermo, "Volume").any():
        vsteps, volumes = printed_column(thermo, "Volume")
        sources.append((volumes, vsteps))
    hits = []
    for volumes, vsteps in sources:
        i = _first(np.abs(volumes / volumes[0] - 1) > limit)
        if i is not None:
            hits.append((int(vsteps[i]), volumes[i] / volumes[0]))
    if not hits:
        return []
    step, ratio = min(hits)
    return [("volume_change", step, f"V/V0 = {ratio:.2f} (limit {1 - limit:.2f}-{1 + limit:.2f})")]


def _nan_coordinates(steps, positions, boxes) -> tuple[list[tuple[str, int, str]], int]:
    """The first frame with non-finite coordinates, and how many frames precede it."""
    finite = np.all(np.isfinite(positions), axis=(1, 2)) & np.all(np.isfinite(boxes), axis=(1, 2))
    i = _first(~finite)
    if i is None:
        return [], len(steps)
    return [("nan_coordinates", steps[i], f"non-finite coordinates in frame {i}")], i


def _collapsed_distance(steps, pos, bx, elements, fraction: float) -> list[tuple[str, int, str]]:
    """Two atoms closer than ``fraction`` x their covalent radii sum."""
    from ase.data import atomic_numbers, covalent_radii

    radii = covalent_radii[[atomic_numbers[e] for e in elements]]
    ratio = _min_scaled_distances(pos, bx, radii, 2 * fraction * radii.max())
    i = _first(ratio < fraction)
    if i is None:
        return []
    return [("collapsed_distance", steps[i], f"two atoms at {ratio[i]:.2f} x the sum of their "
                                             f"covalent radii (limit {fraction})")]


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
    elements = np.asarray(elements)
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


def _framework_melting(steps, pos, bx, elements, masses, framework,
                       fraction: float) -> list[tuple[str, int, str]]:
    """The framework's RMS displacement from its (strained) sites, drift removed, above
    ``fraction`` x its nearest-neighbour distance; a molecular unit's cations are one site,
    their centre."""
    fidx = np.flatnonzero(np.isin(elements, list(framework)))
    if fidx.size < 2 or len(pos) < 2:
        return []
    w = masses[fidx] if masses is not None else np.ones(fidx.size)
    units, centres = framework_sites(pos[0], bx[0], elements, fidx)
    if len(units) < 2:
        return []
    rmsd = non_affine_rms(pos[:, fidx], bx, w, units)
    d_nn = _nn_distance(centres, bx[0])
    i = _first(rmsd > fraction * d_nn)
    if i is None:
        return []
    return [("framework_melting", steps[i], f"framework RMS displacement {rmsd[i]:.2f} A > "
             f"{fraction} x nearest-neighbour distance {d_nn:.2f} A")]


# ---------------------------------------------------------------- survival

def kaplan_meier(times: Sequence[float], failed: Sequence[bool]) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan–Meier survival curve of replicas that fail at ``times`` (``failed`` True) or
    survive to the end of their run at ``times`` (``failed`` False: censored).

    Returns
    -------
    t, S : ndarrays
        Step function: S[k] is the survival fraction from t[k] on (t[0] = 0, S[0] = 1).
    """
    times = np.asarray(times, float)
    failed = np.asarray(failed, bool)
    if times.size == 0:
        raise AnalysisError("no runs for a survival curve")
    t_out, s_out, s = [0.0], [1.0], 1.0
    for t in np.unique(times[failed]):
        at_risk = np.sum(times >= t)
        deaths = np.sum((times == t) & failed)
        s *= 1.0 - deaths / at_risk
        t_out.append(float(t))
        s_out.append(s)
    return np.array(t_out), np.array(s_out)


def survival_at(curve: dict[str, list[float]], t: float) -> float:
    """The Kaplan–Meier survival fraction of ``curve`` (:func:`survival_curves`) at time
    ``t`` (from its last step on; beyond ``end_ps`` nothing was followed: NaN)."""
    if t > curve["end_ps"]:
        return float("nan")
    times = np.asarray(curve["time_ps"])
    return float(curve["survival"][int(np.flatnonzero(times <= t)[-1])])


def survival_curves(runs: dict[str, Sequence[FailureReport]]) -> dict[str, dict[str, list[float]]]:
    """Kaplan–Meier curves per structure (key) over its replicas' failure reports: steps
    at the failures (``time_ps``, ``survival``), the times where replicas stopped without
    failing (``censored_ps``: complete, or ended early) and how far any was followed
    (``end_ps``: the curve holds its last value up to there)."""
    curves = {}
    for name, reports in runs.items():
        times = [r.first.time_ps if r.failed else r.run_end_ps for r in reports]
        t, s = kaplan_meier(times, [r.failed for r in reports])
        curves[name] = {"time_ps": t.tolist(), "survival": s.tolist(),
                        "censored_ps": sorted(r.run_end_ps for r in reports if not r.failed),
                        "end_ps": float(max(times))}
    return curves
