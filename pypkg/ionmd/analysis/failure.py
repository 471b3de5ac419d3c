"""Post-mortem failure detection for any run (the stability protocol). Survival curves over
replicas: :mod:`ionmd.analysis.survival`; the framework and its sites, which the melting
check measures: :mod:`ionmd.analysis.framework`.

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
    The RMS displacement of the framework atoms
    (:func:`~ionmd.analysis.framework.framework_species`) from their starting sites carried
    along by the cell's deformation (:func:`~ionmd.analysis.framework.non_affine_rms`),
    framework drift removed, exceeds ``melt_fraction`` of their initial nearest-neighbour
    distance: a solid's atoms vibrate about sites (Lindemann ratio ~0.1-0.15 at melting), a
    liquid's wander off without bound, so the check fires after the structure is lost, by
    the time the liquid takes to move that far. Framework atoms bonded into one molecule
    (P2S7 and P2S6: two P sharing an S or bonded to each other; a closo-borate's B12H12)
    count as one site, their centre (:func:`~ionmd.analysis.framework.framework_units`): a
    molecule tumbling as a whole in a hot crystal moves its atoms, not its centre.
``collapsed_distance``
    Two atoms closer than ``collapse_fraction`` times the sum of their covalent radii.

The first failure is reported with its step, time, the thermo temperature at (or just
before) that step and the thermostat's target there: that of the logs' ``run`` that held
one there (``held_targets``), else the run's own (a ramp's value at that step).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from ionmd.analysis.framework import framework_sites, non_affine_rms
from ionmd.lammps.lost_atoms import find_lost_atoms
from ionmd.lammps.thermo_log import printed_column, printed_rows

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
    #: the thermostat's target at ``step`` (the one its ``run`` held, a ramp's value
    #: there; what the runaway check compared the rows with): the temperature a
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


def temperature_at(step: int, thermo: dict[str, np.ndarray]) -> float | None:
    """The temperature the thermo rows printed at ``step``, or last before it (the first
    row's where none is before it); None where no row printed one."""
    if "Step" not in thermo or "Temp" not in thermo:
        return None
    tsteps, temp = printed_column(thermo, "Temp")
    if not tsteps.size:
        return None
    before = np.flatnonzero(tsteps <= step)
    return float(temp[before[-1] if before.size else 0])


def target_at(step: int, start_K: float | None, end_K: float | None,
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
                    collapse_fraction: float = 0.5,
                    dump_lost: tuple[int, int, int] | None = None,
                    held_targets: Sequence[tuple[int, int, float]] = ()) -> FailureReport:
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
        Framework species for the melting check
        (:func:`~ionmd.analysis.framework.framework_species`).
    thermo : dict, optional
        :func:`ionmd.lammps.thermo_log.parse_thermo` output: each check reads only the rows
        where LAMMPS printed its column. A plain dict of columns counts as printed throughout.
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
    dump_lost : (step, atoms, atoms before), optional
        The first dump frame that held fewer atoms (``Piece.atoms_lost``; the frames end
        before it): the loss is dated there where the logs date it later or not at all.
    held_targets : sequence of (first step, last step, target K)
        The steps over which the logs' ``run`` commands held their one thermostat at a
        constant target (:func:`held_targets`): the runaway check compares the rows
        there with it (an equilibration at 1500 K before a 600 K production is no runaway).
    """
    thermo = thermo or {}
    tsteps = thermo.get("Step", np.zeros(0))
    step0 = int(steps[0]) if len(steps) else int(thermo.get("Step", np.array([0]))[0])
    texts = [log_text] if isinstance(log_text, str) else list(log_text)
    found, ended = _lost_atoms(thermo, texts, steps, log_dir, dump_lost)
    found = (found + _nan_model("\n".join(texts)) + _nan_thermo(thermo)
             + _temperature_runaway(thermo, target_temperature_K, runaway_factor, window,
                                    temperature_end_K, ramp_steps, held_targets)
             + _volume_change(steps, boxes, thermo, volume_limit))
    if positions is not None and boxes is not None:
        bad, n_ok = _nan_coordinates(steps, positions, boxes)
        found += bad
        pos, bx = positions[:n_ok], boxes[:n_ok]
        if elements is not None and n_ok:
            elements = np.asarray(elements)
            found += _collapsed_distance(steps, pos, bx, elements, collapse_fraction)
            found += _framework_melting(steps, pos, bx, elements, masses, framework, melt_fraction)
    # each event's target is the one its `run` held there, the one the runaway check
    # compared it with (a runaway in a 1500 K equilibration is of 1500 K, not the run's 600 K)
    held_K, in_held = _held_at(np.array([int(s) for _, s, _ in found], dtype=np.int64),
                               held_targets)
    events = [FailureEvent(mode, int(step), (int(step) - step0) * timestep_fs * 1e-3,
                           temperature_at(int(step), thermo), detail,
                           float(held_K[k]) if in_held[k] else
                           target_at(int(step), target_temperature_K, temperature_end_K,
                                     ramp_steps))
              for k, (mode, step, detail) in enumerate(found)]
    end_step = int(max([steps[-1] if len(steps) else step0, tsteps[-1] if tsteps.size else step0]
                       + [e.step for e in events]))
    if ended is not None:     # LAMMPS stopped the run there: what follows was abandoned
        events, end_step = [e for e in events if e.step <= ended], min(end_step, ended)
    return FailureReport(events=sorted(events, key=lambda e: e.step), run_end_step=end_step,
                         run_end_ps=(end_step - step0) * timestep_fs * 1e-3)


# One function per failure mode: each returns [(mode, step, detail)] (empty: not seen).

def _lost_atoms(thermo, texts: list[str], steps, log_dir=None,
                dump_lost=None) -> tuple[list[tuple[str, int, str]], int | None]:
    """LAMMPS's own "Lost atoms" error (dated by :func:`ionmd.lammps.lost_atoms.find_lost_atoms`,
    as status.json dates it), else a falling atom count in the thermo output, else a dump
    frame without them (``dump_lost``: a dump written between thermo outputs shows the
    loss first, so it dates it where it is earlier); and the step the run ended at where
    the loss was at the setup of its last piece, resumed from a restart (the rows and
    frames of earlier pieces after it were abandoned)."""
    found, ended = _lost_atoms_in_logs(thermo, texts, steps, log_dir)
    if dump_lost is None:
        return found, ended
    step, n_dump, n_before = dump_lost
    seen = f"{n_dump} atoms of {n_before} in the dump's frame at step {step}"
    if not found:       # thermo_modify lost ignore, and no Atoms column to show it
        return [("lost_atoms", step, f"{seen} (thermo_modify lost ignore?)")], ended
    (mode, logged, detail), = found
    if step < logged:   # LAMMPS counted them at its next thermo output only
        return [(mode, step, f"{detail}; found earlier: {seen}")], ended
    return found, ended


def _lost_atoms_in_logs(thermo, texts: list[str], steps,
                        log_dir=None) -> tuple[list[tuple[str, int, str]], int | None]:
    """:func:`_lost_atoms` as the logs show it."""
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


def held_targets(blocks) -> list[tuple[int, int, float]]:
    """``(first step, last step, target)`` of each MD ``run`` (:class:`~ionmd.lammps.
    echoed_input.RunBlock`, in run order) whose one thermostat holds a constant target,
    where the logs say its steps."""
    return [(b.start, b.start + b.steps, b.thermostats[0][0]) for b in blocks
            if b.start is not None and b.steps is not None and len(b.thermostats) == 1
            and b.thermostats[0][0] == b.thermostats[0][1]]


def _held_at(steps: np.ndarray, held: Sequence[tuple[int, int, float]]
             ) -> tuple[np.ndarray, np.ndarray]:
    """The target each of ``steps`` had in the ``run`` of ``held`` (:func:`held_targets`)
    that covers it, and whether one does. A run's steps are those after its first (that
    one is the run before's last state), the later run's where two cover one step
    (``reset_timestep 0``: the rows kept are the production's); a run's first step only
    where no run ended there."""
    steps = np.asarray(steps)
    target = np.full(steps.shape, np.nan)
    placed = np.zeros(steps.shape, dtype=bool)
    for after_first in (True, False):
        for first, last, held_K in reversed(held):
            rows = ~placed & (steps <= last) & ((steps > first) if after_first
                                                else (steps == first))
            target[rows], placed = held_K, placed | rows
    return target, placed


def _temperature_runaway(thermo, target_K: float | None, factor: float, window: int,
                         end_K: float | None = None, ramp_steps: int | None = None,
                         held: Sequence[tuple[int, int, float]] = ()
                         ) -> list[tuple[str, int, str]]:
    """The running mean of T over ``window`` thermo rows above ``factor`` x the running
    mean of the target there, and not falling: the target is constant, or a ramp to
    ``end_K`` (linear over ``ramp_steps`` from step 0, as LAMMPS's ``run N start 0 stop
    N``; its higher end when the length is unknown: a heating ramp is not a runaway), or,
    at the steps of ``held`` (:func:`held_targets`), what that ``run`` held (a row at the
    step where one run ends and the next begins is the earlier's; where runs cover one
    step, after ``reset_timestep``, the later's, whose rows the thermo keeps). A running mean that
    falls is a cooling, not a runaway: a quench from 1500 K to a 600 K target stays above
    twice it for a few rows."""
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
    held_K, placed = _held_at(tsteps, held)
    target = np.where(placed, held_K, target.astype(float))
    n = min(window, temp.size)
    run_mean = np.convolve(temp, np.ones(n) / n, mode="valid")
    run_target = np.convolve(target, np.ones(n) / n, mode="valid")
    # falling into a window, or (the first) out of it: a quench that starts hot, a 600 K run
    # read from a 1500 K melt's restart in a log of its own, falls from its first row
    falls = run_mean[1:] < run_mean[:-1]
    cooling = np.r_[falls[:1], falls] if falls.size else np.zeros(1, bool)
    i = _first((run_mean > factor * run_target) & ~cooling)
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
