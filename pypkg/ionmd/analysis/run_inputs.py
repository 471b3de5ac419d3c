"""What one run directory's files say, read for its analysis: its frames
(:func:`run_frames`), its logs' thermo rows (:func:`read_logs`), and the fields of its
results that describe the run itself (identity, model, cell, completion, the pieces and
checks left out).
"""

from __future__ import annotations

import os
import warnings
from typing import Sequence

import numpy as np

from ionmd.analysis.box_origin import dcd_origin_note
from ionmd.analysis.run_spec import RunSpec
from ionmd.analysis.stitching import SupersededNote
from ionmd.analysis.trajectory import read_frames
from ionmd.errors import AnalysisError, IonmdNote
from ionmd.lammps.thermo_log import parse_thermo_pieces, require_step


def read_logs(spec: RunSpec, *, require_steps: bool = True) -> tuple[dict[str, np.ndarray],
                                                                        list[str]]:
    """Thermo columns and texts (one per piece, in run order) of the run's LAMMPS logs (a
    resumed piece's rows where a killed one had run on: :func:`parse_thermo_pieces`); for
    a trajectory read through ASE without logs, the kinetic temperature of frames that
    hold momenta (:func:`thermo_from_frames`). ``require_steps=False``: a log whose
    thermo headers have no Step column gives a table without rows (:func:`skipped_checks_of`
    names the checks that leaves out), not an error.

    Raises
    ------
    AnalysisError
        If the logs' thermo output has no Step column (:func:`require_step`) and
        ``require_steps``."""
    texts = [spec.log_text[p] if p in spec.log_text else p.read_text(errors="replace")
             for p in spec.logs if p in spec.log_text or p.is_file()]
    if thermo_from_frames(spec):
        from ionmd.analysis.ase_frames import kinetic_thermo

        return kinetic_thermo(spec.trajectory, spec.trajectory_format, spec.dump_every), texts
    thermo = parse_thermo_pieces(texts)
    return (require_step(thermo) if require_steps else thermo), texts


def thermo_from_frames(spec: RunSpec) -> bool:
    """Whether the run's thermo rows are its frames' kinetic temperatures (a trajectory
    read through ASE without logs), not a LAMMPS log's."""
    return bool(spec.trajectory_format and not spec.logs)


def skipped_checks_of(spec: RunSpec, thermo) -> dict:
    """``skipped_checks``: the failure checks that read the thermo rows (temperature
    runaway, NaN thermo, a falling atom count, the dating of lost atoms), where the logs
    print thermo output and none with a Step column (:func:`require_step`): their rows
    cannot be placed in the run. D and sigma come from the frames and are analysed all the
    same (a finished run lost them over a column only these checks read); ``--failures-only``
    (these checks are most of it) is refused. ``thermo``: the run's, as
    ``read_logs(spec, require_steps=False)`` gave it to the failure checks (the logs are
    parsed once per analysis: a second parse of a 200k-row log cost ~1.4 s)."""
    if thermo_from_frames(spec):
        return {}
    try:
        require_step(thermo)
    except AnalysisError as exc:
        return {"skipped_checks": (
            f"temperature runaway, NaN thermo, falling atom count and lost-atom dating not "
            f"checked: {exc}")}
    return {}


def skipped_pieces_of(spec: RunSpec) -> dict:
    """``skipped_trajectory``: the empty trajectory pieces left out (a piece LAMMPS stopped
    at its setup, before its first frame), each with why; empty where there are none."""
    if not spec.skipped_trajectory:
        return {}
    return {"skipped_trajectory": [
        {"file": os.path.relpath(p, spec.path),
         "why": "empty: LAMMPS stopped before its first frame (at its setup); the frames of "
                "the other pieces are analysed"} for p in spec.skipped_trajectory]}


def dcd_origin_of(spec: RunSpec, log_texts: Sequence[str]) -> dict:
    """``dcd_origin``: a note where the run's DCD frames are placed about a box centre its
    logs say may have moved (:func:`ionmd.analysis.box_origin.dcd_origin_note`).
    ``log_texts``: the run's logs as :func:`read_logs` read them (read once: a second read
    of a 4 MB log cost ~20 ms and a second copy of it in memory)."""
    if spec.trajectory_format or not spec.data_file:
        return {}
    note = dcd_origin_note(spec.trajectory, spec.data_file, log_texts=log_texts)
    return {"dcd_origin": note} if note else {}


def ramp_of(spec: RunSpec) -> dict:
    """A run whose thermostat ramps (``temperature_end_K``, the stability protocol's heating;
    a hand run's ``fix nvt temp 300 600``) or whose barostat ramps its pressure
    (:attr:`RunSpec.pressure_ramp`: the pressure-ramp preset, a hand run's ``fix npt ...
    iso 1 50000 1.0``) over its analysed frames: ``temperature_end_K`` and/or
    ``pressure_ramp`` (``{"start", "end", "unit"}``), and ``no_transport``, why its D and
    sigma are not analysed: they average over the ramp's temperatures or densities, and
    were reported, and fitted, at its start (a 300 -> 2100 K ramp's D and sigma "at 300 K";
    a 1 -> 50000 bar ramp's at its temperature, as if of one density). A hand run's ramp
    is its logs' (:attr:`RunSpec.frames_ramps`: past the discarded start; one inside it
    leaves the rest analysed), named with the ``discard_ps`` that would leave it out.
    {} for a run at one temperature and one pressure."""
    out, why = {}, []
    end = spec.temperature_end_K
    if end is not None and end != spec.temperature_K:
        out["temperature_end_K"] = end
        why.append(f"thermostat ramped from {spec.temperature_K:g} to {end:g} K")
    logged = {r.kind for r in spec.frames_ramps}
    if spec.pressure_ramp is not None:
        start, stop, unit = spec.pressure_ramp
        out["pressure_ramp"] = {"start": start, "end": stop, "unit": unit}
        if "barostat" not in logged:
            why.append(f"barostat ramped the pressure from {start:g} to {stop:g} {unit} (the "
                       f"density changes over the run)")
    why += [r.where(spec.discard_ps) for r in spec.frames_ramps]
    if not why:
        return {}
    thermal = "temperature_end_K" in out or "thermostat" in logged
    over = "temperature" if thermal else "state"
    held = ("held at one temperature and one pressure" if thermal and "pressure_ramp" in out
            else "held at one temperature" if thermal else "held at one pressure")
    ends = [r.end_ps for r in spec.frames_ramps]
    remedy = f"analyse a run {held} for transport"
    if (ends and len(why) == len(ends) and None not in ends
            and not any(r.to_the_end for r in spec.frames_ramps)):
        remedy = (f"discard_ps {max(ends):g} (--discard-ps, or run.json) leaves the ramp in "
                  f"the discarded start and analyses the frames after it; or {remedy}")
    out["no_transport"] = (f"{' and '.join(why)}: D and sigma over the ramp are of no one "
                           f"{over}, so none are analysed (its failure post-mortem is; "
                           f"{remedy})")
    return out


def identity_of(spec: RunSpec) -> dict:
    """Which run the results are of: its folder, structure, model, replica, temperature,
    the charges its sigma takes (``charges``: :func:`~ionmd.analysis.series_identity.series_record`
    says where a series' runs take others), ``settings_notes``, where how its settings
    were found should be said (:attr:`RunSpec.settings_notes`), and ``structure_notes``,
    what ionmd did to the structure file it ran (rounding, ordering, supercell: run.json's,
    :attr:`RunSpec.structure_notes`), and ``structure_hash``, its starting cell where ionmd
    recorded it (:attr:`RunSpec.structure_hash`: a series whose runs record several is
    warned, :func:`~ionmd.analysis.series_identity.mixed_structures_of`)."""
    return {"run": str(spec.path), "structure": spec.structure,
            **({"structure_hash": spec.structure_hash} if spec.structure_hash else {}),
            **model_of(spec),
            "replica": spec.replica, "temperature_K": spec.temperature_K,
            **({"charges": dict(spec.charges)} if spec.charges else {}),
            **({"settings_notes": list(spec.settings_notes)} if spec.settings_notes else {}),
            **({"structure_notes": list(spec.structure_notes)}
               if spec.structure_notes else {})}


def model_of(spec: RunSpec) -> dict:
    """The run's model for its results: ``model`` (its name) and ``model_hash`` (None
    where not recorded), and for a run without either the ``potential`` its logs echo."""
    return {"model": spec.model, "model_hash": spec.model_hash,
            **({"potential": spec.potential} if spec.potential else {})}


def charges_replaced_of(spec: RunSpec) -> dict:
    """``charges_replaced`` (:attr:`RunSpec.charges_replaced`: the given charges and the
    run.json's they replaced, a sigma not the one of the run's own record) where given
    charges replaced others; else nothing."""
    return {"charges_replaced": spec.charges_replaced} if spec.charges_replaced else {}


def completion_of(spec: RunSpec) -> dict:
    """How complete the analysed run is, for its results: ``complete`` (True, False, or
    None without a ``status.json``), ``run_state`` and, for a run that is not completed,
    ``incomplete`` (a sentence: its state and the steps done of those planned)."""
    st = spec.run_status
    if st is None:
        return {"complete": None, "run_state": None}
    out = {"complete": spec.complete, "run_state": st.get("state")}
    if not spec.complete:
        out["incomplete"] = (f"run {st.get('state', 'not completed')} at step {st.get('step', '?')} "
                             f"of {st.get('planned_steps', '?')}: results are from a partial "
                             f"trajectory" + (f" ({st['reason']})" if st.get("reason") else ""))
    return out


def cell_formula(composition: dict[str, int] | None) -> str | None:
    """The formula of a cell's atom counts (``{"Li": 81, "Cl": 108}`` -> ``Li81Cl108``,
    pymatgen's order); None without counts."""
    if not composition:
        return None
    from pymatgen.core import Composition

    return Composition(composition).formula.replace(" ", "")


def cell_of(elements: np.ndarray, boxes: np.ndarray) -> dict:
    """The run's cell for its results, part of what makes runs replicas
    (:func:`~ionmd.analysis.series_identity.series_key`): ``composition`` (atoms of each element),
    ``formula`` (:func:`cell_formula`), ``n_atoms`` and ``volume_per_atom_A3`` (over the
    frames read)."""
    symbols, counts = np.unique(np.asarray(elements).astype(str), return_counts=True)
    composition = {str(s): int(c) for s, c in zip(symbols, counts)}
    n_atoms = int(counts.sum())
    volume = float(np.abs(np.linalg.det(np.asarray(boxes, float))).mean())
    return {"composition": composition, "formula": cell_formula(composition),
            "n_atoms": n_atoms, "volume_per_atom_A3": volume / n_atoms}


def run_frames(spec: RunSpec):
    """:func:`read_frames` of a run as its ``run.json`` describes it (type map, atom style,
    and whether its files hold unwrapped coordinates); through ASE for the files it reads
    (:mod:`ionmd.analysis.ase_frames`)."""
    if spec.trajectory_format:
        from ionmd.analysis.ase_frames import read_ase_frames

        return read_ase_frames(spec.trajectory, spec.trajectory_format, spec.dump_every)
    # frames up to atoms lost: the failure post-mortem that follows every read reports them
    return read_frames(spec.data_file, spec.trajectory, type_map=spec.type_map,
                       atom_style=spec.atom_style, unwrapped=spec.dump_unwrapped,
                       until_atoms_lost=True)


def noted_run_frames(spec: RunSpec):
    """:func:`run_frames` and ``superseded_frames`` (:func:`superseded_of`): the frames a
    piece starting again at an earlier step from another state replaced, said in the
    results and noted (``ionmd: note:``) with the pieces' file names and times, where
    the stitching's own note knows neither."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SupersededNote)
        read = run_frames(spec)
    notes = [w.message for w in caught if isinstance(w.message, SupersededNote)]
    for w in caught:            # the other warnings as they were
        if not isinstance(w.message, SupersededNote):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    found = superseded_of(spec, notes)
    for entry in found.get("superseded_frames", []):
        warnings.warn(entry["note"], IonmdNote, stacklevel=2)
    return (*read, found)


def superseded_of(spec: RunSpec, notes: Sequence[SupersededNote]) -> dict:
    """``superseded_frames``: per :class:`SupersededNote`, the file that lost frames and the
    one that replaced them, the frames, their steps and time, the continuation step where
    the replacing piece starts from the other's last state, and the note in words; {} where
    none. Pieces are named by file where each file is one piece."""
    out = []
    for n in notes:
        def name(k: int) -> str:
            if n.n_pieces == len(spec.trajectory):
                return os.path.relpath(spec.trajectory[k], spec.path)
            return f"trajectory piece {k}"
        ps = float(f"{(n.last_step - n.first_step) * spec.timestep_fs / 1000:.12g}")
        out.append({"file": name(n.piece), "by": name(n.by), "frames": n.frames,
                    "first_step": n.first_step, "last_step": n.last_step, "time_ps": ps,
                    "restart_step": n.restart_step, "continues_at_step": n.continues_at,
                    "note": n.text(name(n.piece), name(n.by), ps)})
    return {"superseded_frames": out} if out else {}


def check_mobile_present(spec: RunSpec, elements: np.ndarray) -> None:
    """Refuse mobile species the run does not hold (``--mobile`` names them)."""
    for s in spec.mobile_species:
        if s not in elements:
            raise AnalysisError(f"mobile species {s} not in {spec.data_file or spec.trajectory[0]} "
                                f"(present: {sorted(set(elements.tolist()))}); give the mobile "
                                f"ions with --mobile or 'mobile_species' in run.json")
