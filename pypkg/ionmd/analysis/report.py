"""Analysis of run directories end to end, and its outputs: JSON, CSV and PNG plots.

:func:`analyze_run` does one run (failures, MSD, D, sigma, optional structure functions);
:func:`analyze_runs` adds what needs several runs (Arrhenius over temperatures, survival
curves over replicas). Plots use matplotlib's Agg backend (no display needed).
"""

from __future__ import annotations

import csv
import json
import math
import os
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np

from ionmd.analysis.aggregate import fit_series, series_points
from ionmd.analysis.arrhenius import ArrheniusFit
from ionmd.analysis.conductivity import collective_conductivity, conductivity_from_diffusion
from ionmd.analysis.convergence import (STOPPED_LEVEL, interval_at_stop, interval_quantile_at,
                                        rule_that_stopped)
from ionmd.analysis.diffusion import DiffusionResult, diffusion
from ionmd.analysis.failure import (FailureEvent, FailureReport, detect_failures,
                                    framework_species, survival_curves)
from ionmd.lammps.log import parse_thermo_pieces, require_step
from ionmd.analysis.msd import compute_msd
from ionmd.analysis.run_records import by_temperature, run_labels, run_record, sigma_record
from ionmd.analysis.run_spec import RunSpec
from ionmd.analysis.trajectory import (Trajectory, continuous_unwrapped, dcd_origin_note,
                                      read_frames)
from ionmd.errors import AnalysisError


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


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
    texts = [p.read_text(errors="replace") for p in spec.logs if p.is_file()]
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


def dcd_origin_of(spec: RunSpec) -> dict:
    """``dcd_origin``: a note where the run's DCD frames are placed about a box centre its
    logs say may have moved (:func:`ionmd.analysis.trajectory.dcd_origin_note`)."""
    if spec.trajectory_format or not spec.data_file:
        return {}
    note = dcd_origin_note(spec.trajectory, spec.data_file, spec.logs)
    return {"dcd_origin": note} if note else {}


def identity_of(spec: RunSpec) -> dict:
    """Which run the results are of: its folder, structure, model, replica, temperature,
    the charges its sigma takes (``charges``: :func:`series_record` says where a series'
    runs take others), and ``settings_notes``, where how its settings were found should be said:
    :attr:`RunSpec.settings_notes`)."""
    return {"run": str(spec.path), "structure": spec.structure, **model_of(spec),
            "replica": spec.replica, "temperature_K": spec.temperature_K,
            **({"charges": dict(spec.charges)} if spec.charges else {}),
            **({"settings_notes": list(spec.settings_notes)} if spec.settings_notes else {})}


def cell_formula(composition: dict[str, int] | None) -> str | None:
    """The formula of a cell's atom counts (``{"Li": 81, "Cl": 108}`` -> ``Li81Cl108``,
    pymatgen's order); None without counts."""
    if not composition:
        return None
    from pymatgen.core import Composition

    return Composition(composition).formula.replace(" ", "")


def cell_of(elements: np.ndarray, boxes: np.ndarray) -> dict:
    """The run's cell for its results, part of what makes runs replicas
    (:func:`series_key`): ``composition`` (atoms of each element), ``formula``
    (:func:`cell_formula`), ``n_atoms`` and ``volume_per_atom_A3`` (over the frames read)."""
    symbols, counts = np.unique(np.asarray(elements).astype(str), return_counts=True)
    composition = {str(s): int(c) for s, c in zip(symbols, counts)}
    n_atoms = int(counts.sum())
    volume = float(np.abs(np.linalg.det(np.asarray(boxes, float))).mean())
    return {"composition": composition, "formula": cell_formula(composition),
            "n_atoms": n_atoms, "volume_per_atom_A3": volume / n_atoms}


def charges_replaced_of(spec: RunSpec) -> dict:
    """``charges_replaced`` (:attr:`RunSpec.charges_replaced`: the given charges and the
    run.json's they replaced, a sigma not the one of the run's own record) where given
    charges replaced others; else nothing."""
    return {"charges_replaced": spec.charges_replaced} if spec.charges_replaced else {}


def model_of(spec: RunSpec) -> dict:
    """The run's model for its results: ``model`` (its name) and ``model_hash`` (None
    where not recorded), and for a run without either the ``potential`` its logs echo."""
    return {"model": spec.model, "model_hash": spec.model_hash,
            **({"potential": spec.potential} if spec.potential else {})}


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


def run_frames(spec: RunSpec):
    """:func:`read_frames` of a run as its ``run.json`` describes it (type map, atom style,
    and whether its files hold unwrapped coordinates); through ASE for the files it reads
    (:mod:`ionmd.analysis.ase_frames`)."""
    if spec.trajectory_format:
        from ionmd.analysis.ase_frames import read_ase_frames

        return read_ase_frames(spec.trajectory, spec.trajectory_format, spec.dump_every)
    return read_frames(spec.data_file, spec.trajectory, type_map=spec.type_map,
                       atom_style=spec.atom_style, unwrapped=spec.dump_unwrapped)


def check_mobile_present(spec: RunSpec, elements: np.ndarray) -> None:
    """Refuse mobile species the run does not hold (``--mobile`` names them)."""
    for s in spec.mobile_species:
        if s not in elements:
            raise AnalysisError(f"mobile species {s} not in {spec.data_file or spec.trajectory[0]} "
                                f"(present: {sorted(set(elements.tolist()))}); give the mobile "
                                f"ions with --mobile or 'mobile_species' in run.json")


def _framework_charges(spec: RunSpec, elements: np.ndarray) -> dict[str, float]:
    """The run's charges; where they leave a species out (an XDATCAR analysed without
    --charges), pymatgen's oxidation-state guess for the composition, so that the framework
    check still knows which species are cations (only that check uses the guess: sigma
    needs the charges given)."""
    present = sorted(set(elements.tolist()))
    if all(e in spec.charges for e in present):
        return spec.charges
    from ionmd.structures.charges import guess_oxidation_states

    counts = {e: int((elements == e).sum()) for e in present}
    return {**guess_oxidation_states(counts), **spec.charges}


def failures_of(spec: RunSpec, frames=None, logs=None, **kwargs) -> FailureReport:
    """Failure report of one run directory (reads its raw frames, unless given as
    :func:`read_frames` output, and its logs, unless given as :func:`read_logs` output:
    read here, they must have a Step column)."""
    frames, elements, masses = frames or run_frames(spec)
    check_mobile_present(spec, elements)   # else the mobile ions would count as framework
    thermo, texts = logs or read_logs(spec)
    framework = framework_species(elements, spec.mobile_species, _framework_charges(spec, elements))
    report = detect_failures(steps=frames.steps, timestep_fs=spec.timestep_fs,
                             positions=frames.positions, boxes=frames.boxes, elements=elements,
                             masses=masses, framework=framework, thermo=thermo, log_text=texts,
                             log_dir=spec.path,
                             target_temperature_K=spec.temperature_K,
                             temperature_end_K=spec.temperature_end_K,
                             ramp_steps=(spec.run_status or {}).get("planned_steps"), **kwargs)
    return with_recorded_failure(report, spec)


def with_recorded_failure(report: FailureReport, spec: RunSpec) -> FailureReport:
    """``report`` plus the failure LAMMPS stopped an ionmd run for, as its ``status.json``
    records it (``fix halt`` on the volume with the protocol's own limit, lost atoms, a
    non-finite model output), where the post-mortem did not find that mode: a run halted
    at a 4 % volume limit has no 50 % change for the post-mortem to see, and was analysed
    as if it had not failed (its transport in the fits)."""
    st = spec.run_status or {}
    if st.get("state") != "failed" or st.get("resumable") or "failed_step" not in st:
        return report
    mode = st.get("failure_mode") or (
        "volume_change" if "volume" in st.get("reason", "") else "lost_atoms")
    step = int(st["failed_step"])
    found = [e for e in report.events if e.mode == mode]
    if found and mode == "lost_atoms" and found[0].step > step:
        # lost at the setup of a resumed piece: the run restarted from step `step` (the
        # restart file's, which status.json read), while the logs' last rows before the
        # error are those a killed earlier piece printed after it
        return _dated_at(report, found[0], step, spec.timestep_fs, st)
    if found:
        return report
    target = st.get("failed_temperature_K")
    event = FailureEvent(mode=mode, step=step, time_ps=step * spec.timestep_fs * 1e-3,
                         temperature_K=target, target_temperature_K=target,
                         detail=st.get("reason", "stopped by LAMMPS"))
    return replace(report, events=sorted(report.events + [event], key=lambda e: e.step))


def _dated_at(report: FailureReport, event: FailureEvent, step: int, timestep_fs: float,
              status: dict) -> FailureReport:
    """``report`` with ``event`` moved to ``step`` (with the temperatures status.json
    records there), and the run ending there: what the logs show after it was abandoned."""
    back_ps = (event.step - step) * timestep_fs * 1e-3
    def recorded(key, otherwise):
        return otherwise if status.get(key) is None else status[key]

    dated = replace(event, step=step, time_ps=event.time_ps - back_ps,
                    temperature_K=recorded("temperature_now_K", event.temperature_K),
                    target_temperature_K=recorded("failed_temperature_K",
                                                  event.target_temperature_K))
    events = [dated] + [e for e in report.events if e is not event and e.step <= step]
    cut_ps = max(0, report.run_end_step - step) * timestep_fs * 1e-3
    return replace(report, events=sorted(events, key=lambda e: e.step),
                   run_end_step=min(report.run_end_step, step), run_end_ps=report.run_end_ps - cut_ps)


def analyze_failures(spec: RunSpec, out_dir: str | Path, **failure_options) -> dict:
    """Only the failure post-mortem of one run directory (``ionmd analyze --failures-only``):
    writes ``failure.json`` under ``out_dir``, and ``results.json`` there too unless an
    earlier analysis's says the same of the run's failures (:func:`same_verdict`: kept,
    with its transport); one that says otherwise is replaced and its transport files
    removed (:func:`clear_outputs`), so that the folder never holds two verdicts. Returns
    the run's results dict (its identity, cell, completion, ``failure`` and
    ``run_record``).

    Raises
    ------
    AnalysisError
        If the logs' thermo output has no Step column: the failure checks are all this
        analysis is, and they could not read the thermo rows (:func:`require_step`)."""
    frames = run_frames(spec)
    report = failures_of(spec, frames, **failure_options)
    results = {**identity_of(spec), **cell_of(frames[1], frames[0].boxes),
               **charges_replaced_of(spec), **completion_of(spec), **skipped_pieces_of(spec),
               "failure": report.to_dict(),
               "note": "failure post-mortem only (--failures-only): no transport analysed"}
    results["run_record"] = run_record(results, spec.run_status)
    if same_verdict(out_dir, results):      # an earlier full analysis stands: kept
        (Path(out_dir) / "failure.json").write_text(json.dumps(results["failure"], indent=2))
        return results
    clear_outputs(out_dir)  # a full analysis's transport would contradict it
    write_outputs(out_dir, results)
    return results


def same_verdict(out_dir: str | Path, results: dict) -> bool:
    """Whether ``out_dir``'s results.json (an earlier analysis of the same run) says what
    ``results``' failure post-mortem says, to the event: then nothing there contradicts it."""
    try:
        earlier = json.loads((Path(out_dir) / "results.json").read_text())
    except (OSError, ValueError):
        return False
    return (isinstance(earlier, dict) and earlier.get("run") == results["run"]
            and earlier.get("failure") == json.loads(json.dumps(results["failure"])))


OUTPUT_FILES = ("results.json", "failure.json", "diffusion.csv", "msd.png",
                "diffusion_before_failure.csv")
"""What an analysis written before results.json listed its ``outputs`` always wrote in its
folder by these names (its structure functions: its ``files``)."""


def clear_outputs(out_dir: str | Path) -> None:
    """Remove the files an earlier analysis of the run wrote in ``out_dir``, so that every
    file there is of the analysis now written (a full analysis's ``diffusion.csv`` beside a
    ``--failures-only`` verdict that the run failed would contradict it): those its
    results.json lists as ``outputs`` (:func:`write_outputs`; older ones: :data:`OUTPUT_FILES`
    and its ``files``). Nothing else is touched: a user's own ``rdf.csv`` or
    ``density_Li.cube`` there, ``sweep_collect.json``, ``run_dir.json``; nothing at all where
    there is no results.json of ionmd's (one that names its ``run``). The folder is the
    run's (``RUN/analysis``, or one :func:`ionmd.analysis.output_layout.claim_output` gave
    it), so an earlier run path (``run``: the folder moved or copied since) is the same
    run's."""
    out = Path(out_dir)
    try:
        earlier = json.loads((out / "results.json").read_text())
    except (OSError, ValueError):
        return
    if not isinstance(earlier, dict) or not earlier.get("run"):
        return
    names = earlier.get("outputs")
    if not isinstance(names, list):
        names = [*OUTPUT_FILES, *(Path(f).name for f in earlier.get("files") or [])]
    for name in names:
        if isinstance(name, str) and name == Path(name).name and (out / name).is_file():
            (out / name).unlink()       # a bare name: never a path out of the folder


def write_outputs(out_dir: str | Path, results: dict, written: Sequence[str] = ()) -> None:
    """``results.json`` and ``failure.json`` (its ``failure``) under ``out_dir``, the two
    always of one analysis (a ``--failures-only`` run after a full analysis left the
    latter's results.json, framework_melting at step 300, beside a failure.json saying
    volume_change at step 2800); ``outputs`` in results.json lists them and the files of
    ``written`` (names in ``out_dir``) the analysis wrote, which the next one removes
    (:func:`clear_outputs`)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results["outputs"] = ["results.json", "failure.json",
                          *(n for n in written if (out / n).is_file())]
    (out / "failure.json").write_text(json.dumps(results["failure"], indent=2))
    (out / "results.json").write_text(json.dumps(results, indent=2))


def analysis_error_results(run_dir: str | Path, spec: RunSpec | None, error: Exception,
                           out_dir: str | Path | None = None) -> dict:
    """The results dict of a run that could not be analysed: its identity (as far as its
    ``spec`` was read; None when even that failed), no transport properties, no failure
    report, and ``analysis_error`` (why), so that the fits list it as left out. Written as
    ``results.json`` under ``out_dir`` when given (replacing older results there)."""
    results = {"run": str(spec.path if spec else run_dir), "analysis_error": str(error),
               "structure": spec.structure if spec else None,
               **(model_of(spec) if spec else {}),
               "replica": spec.replica if spec else None,
               "temperature_K": spec.temperature_K if spec else None,
               **({"settings_notes": list(spec.settings_notes)}
                  if spec and spec.settings_notes else {}),
               **(charges_replaced_of(spec) if spec else {}),
               **(completion_of(spec) if spec else {}), "diffusion": []}
    results["run_record"] = run_record(results, spec.run_status if spec else None)
    if out_dir is not None:
        results["outputs"] = ["results.json"]
        clear_outputs(out_dir)
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        (Path(out_dir) / "results.json").write_text(json.dumps(results, indent=2))
    return results


def transport_trajectory(spec: RunSpec, frames, elements, masses, *,
                         fractions: bool = False) -> Trajectory:
    """The trajectory transport is computed on: unwrapped (as the run dumped it),
    equilibration discarded, framework drift removed; ``fractions``: with the files' own
    wrapped fractional coordinates (:attr:`Trajectory.fractions`, what the density grid
    bins: drift-removed positions put 37 % of a hot NpT liquid's counts in other voxels),
    float32, kept only where structure functions are asked for.

    Raises
    ------
    AnalysisError
        If nothing is left after the discard.
    """
    positions = continuous_unwrapped(frames) if spec.dump_unwrapped else frames.unwrapped()
    traj = Trajectory(positions, frames.boxes, frames.steps, elements, masses, spec.timestep_fs,
                      fractions=frames.wrapped_fractions() if fractions else None)
    return traj.discard(spec.discard_ps).framework_drift_removed(spec.mobile_species)


def analyze_run(spec: RunSpec, out_dir: str | Path, *, directions: Sequence[str] = ("xyz",),
                fit_start_ps: float = 1.0, fit_end_ps: float | None = None,
                window_ps: float = 15.0, haven_ratio: float = 1.0, collective: bool = False,
                structure_functions: bool = False, seed: int = 0,
                hop_length: float = 1.5, min_hops: float = 1.0,
                van_hove_lags_ps: Sequence[float] | None = None,
                failure_options: dict | None = None) -> dict:
    """Analyse one run directory; writes ``results.json``, ``diffusion.csv`` and
    ``msd.png`` (plus ``density_<X>.cube``, ``rdf.csv``, ``van_hove.csv`` when
    ``structure_functions``) under ``out_dir`` and returns the results dict.
    ``failure_options`` go to :func:`ionmd.analysis.failure.detect_failures` (thresholds).
    A run that is not completed (``status.json``: running, interrupted, failed) is
    analysed as far as it got and marked: ``"complete": false`` and ``"incomplete"``.
    ``run_record`` is the run's record (:func:`ionmd.analysis.run_records.run_record`:
    final D interval, hops, flags, stop reason)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    clear_outputs(out)      # an earlier analysis's files would contradict this one's
    frames, elements, masses = run_frames(spec)
    if spec.dump_every and len(frames.steps) > 1 and frames.steps[1] - frames.steps[0] != spec.dump_every:
        raise AnalysisError(f"{spec.path}: frames are {frames.steps[1] - frames.steps[0]} steps "
                            f"apart but dump_every = {spec.dump_every} was given (run.json "
                            f"or --dump-every)")
    if structure_functions and van_hove_lags_ps:    # said now, not after the MSD work
        check_van_hove_lags(van_hove_lags_ps, frames.steps, spec.timestep_fs, spec.discard_ps)
    # read once: a log without a Step column leaves D and sigma, and skipped_checks says
    # which failure checks it cost
    logs = read_logs(spec, require_steps=False)
    failure = failures_of(spec, (frames, elements, masses), logs, **(failure_options or {}))
    results: dict = {**identity_of(spec), **cell_of(elements, frames.boxes),
                     **charges_replaced_of(spec), **skipped_checks_of(spec, logs[0]),
                     "timestep_fs": spec.timestep_fs,
                     "discard_ps": spec.discard_ps, **completion_of(spec),
                     # which files these numbers come from (a folder may hold several)
                     "trajectory": [os.path.relpath(p, spec.path) for p in spec.trajectory],
                     **skipped_pieces_of(spec), **dcd_origin_of(spec),
                     "failure": failure.to_dict()}
    options = dict(directions=directions, fit_start_ps=fit_start_ps, fit_end_ps=fit_end_ps,
                   window_ps=window_ps, haven_ratio=haven_ratio, collective=collective,
                   seed=seed, hop_length=hop_length, min_hops=min_hops)
    if failure.failed:
        # no transport of the whole run: it is not of the material after the failure.
        # That of the frames before is reported apart and kept out of every fit
        results["diffusion"] = []
        results["before_failure"] = before_failure(spec, frames, elements, masses,
                                                   failure.first, out, **options)
        results["note"] = (f"run failed ({failure.first.mode} at step {failure.first.step}): "
                           f"no transport properties of the run; those of the frames before "
                           f"the failure are under before_failure, left out of Arrhenius fits "
                           f"and aggregates")
        results["run_record"] = run_record(results, spec.run_status)
        write_outputs(out, results, ["diffusion_before_failure.csv"])
        return results
    traj = transport_trajectory(spec, frames, elements, masses,
                                fractions=structure_functions)
    part, diff, msds = transport(spec, traj, **options)
    results.update(part)
    results.update(fit_end_clipped_of(fit_end_ps, diff))
    write_diffusion_csv(diff, out / "diffusion.csv", spec.temperature_K,
                        [d.get("interval_level", 0.95) for d in part["diffusion"]])
    plot_msd(msds, diff, out / "msd.png")
    if structure_functions:
        results["files"] = write_structure_functions(traj, spec.mobile_species, out,
                                                     van_hove_lags_ps)
    results["run_record"] = run_record(results, spec.run_status)
    write_outputs(out, results, ["diffusion.csv", "msd.png",
                                 *(Path(f).name for f in results.get("files", []))])
    return results


def fit_end_clipped_of(fit_end_ps: float | None, diff: Sequence[DiffusionResult]) -> dict:
    """``fit_end_clipped``: where the fit end asked for (``--fit-end-ps``) lies beyond the
    run analysed, a note of the end the fits used instead (the run's length after the
    discard: ``--fit-end-ps 50`` on a 10 ps run fits to 10 ps); else nothing."""
    if fit_end_ps is None or not diff:
        return {}
    used = max(d.fit_end_ps for d in diff)
    if used >= fit_end_ps * (1 - 1e-9):
        return {}
    return {"fit_end_clipped": (f"fit end {fit_end_ps:g} ps is beyond the run analysed: "
                                f"the MSD was fitted up to {used:g} ps, the run's length "
                                f"after the discarded equilibration, where the longest lags "
                                f"have few time origins (the default is half of it); give a "
                                f"--fit-end-ps within the run, or run longer")}


def transport(spec: RunSpec, traj: Trajectory, *, directions: Sequence[str], fit_start_ps: float,
              fit_end_ps: float | None, window_ps: float, haven_ratio: float, collective: bool,
              seed: int, hop_length: float, min_hops: float) -> tuple[dict, list, list]:
    """MSD, D per mobile species and direction and sigma of ``traj`` (see
    :func:`analyze_run`): the results' transport part, the diffusion results (with the
    intervals reported: :func:`widened_at_stop` where the run's rule stopped it) and MSDs."""
    part: dict = {"run_length_ps": float(traj.times_ps[-1]),
                  "volume_A3": float(traj.volumes.mean())}
    diff, msds = [], []
    for species in spec.mobile_species:
        for direction in directions:
            m = compute_msd(traj, species, direction)
            msds.append(m)
            diff.append(diffusion(traj, species, direction, fit_start_ps=fit_start_ps,
                                  fit_end_ps=fit_end_ps, window_ps=window_ps, msd=m, seed=seed,
                                  hop_length=hop_length, min_hops=min_hops))
    rule = rule_that_stopped(spec.run_status)
    reported = [widened_at_stop(d) for d in diff] if rule else diff
    part["diffusion"] = [d.to_dict() for d in reported]
    if rule:
        for d, plain in zip(part["diffusion"], diff):
            d.update(stop_widening(rule, plain.D_ci95))
    xyz = [d for d in reported if d.direction == "xyz"]
    if xyz and all(s in spec.charges for s in spec.mobile_species):
        sigma = conductivity_from_diffusion(xyz, spec.charges, traj.volumes.mean(),
                                            spec.temperature_K, haven_ratio)
        part["conductivity"] = sigma.to_dict()
        if rule:            # sigma's interval follows from D's (the widened draws)
            plain = conductivity_from_diffusion([d for d in diff if d.direction == "xyz"],
                                                spec.charges, traj.volumes.mean(),
                                                spec.temperature_K, haven_ratio)
            part["conductivity"].update(stop_widening(rule, plain.sigma_ci95, "sigma_ci95"))
        # sigma inherits the caveats of the D it is made from
        part["conductivity"]["flags"] = sorted({f for d in xyz for f in d.flags})
        note = charges_note(traj.elements, spec.charges, given=not spec.charges_guessed)
        if note:                # an alloy's or Zintl phase's formal Li+: said where sigma is
            part["conductivity"]["charges_note"] = note
        if collective:
            part["conductivity_collective"] = collective_conductivity(
                traj, spec.charges, spec.temperature_K, spec.mobile_species, fit_start_ps,
                fit_end_ps).to_dict()
    elif xyz:
        part["no_conductivity"] = no_conductivity_reason(traj.elements, spec)
    return part, reported, msds


def no_conductivity_reason(elements: np.ndarray, spec: RunSpec) -> str:
    """Why a run with D has no Nernst-Einstein sigma: a metal (one element: its current is
    electronic, ``ionmd.structures.charges.one_element_reason``), else the mobile species
    whose charges are missing."""
    from ionmd.structures.charges import one_element_reason

    metal = one_element_reason({str(e): 1 for e in np.unique(np.asarray(elements))})
    if metal:
        return metal
    missing = [s for s in spec.mobile_species if s not in spec.charges]
    # --charges replaces the run's own: the hint keeps those it has (Li=1,Na=Q, not Na=Q)
    pairs = ",".join(f"{s}={spec.charges[s]:g}" if s in spec.charges else f"{s}=Q"
                     for s in spec.mobile_species)
    return (f"the charges of the mobile species {', '.join(missing)} are unknown: give them "
            f"(`ionmd analyze --charges {pairs}`, a campaign's [analysis] charges)")


def widened_at_stop(d: DiffusionResult) -> DiffusionResult:
    """``d`` with the interval a run stopped by its D-interval rule reports: its own
    standard error at :data:`~ionmd.analysis.convergence.STOPPED_LEVEL` (the stop selected a
    95 % interval narrow by chance; docs/convergence.md), and its draws (Student t about D)
    spread by the same ratio of quantiles, so a Nernst-Einstein sigma's interval follows.
    The analysis's own estimate and standard error: another fit range widens its own."""
    q95, q_stop = (interval_quantile_at(d.n_ions, level) for level in (0.95, STOPPED_LEVEL))
    samples = None if d.samples is None else d.D + (d.samples - d.D) * (q_stop / q95)
    return replace(d, D_ci95=tuple(interval_at_stop(d.D, d.D_std, d.n_ions)), samples=samples)


def stop_widening(rule: str, unwidened, key: str = "D_ci95") -> dict:
    """The fields that mark an interval widened at a rule's stop: ``interval_level``
    (that of ``key``, :data:`~ionmd.analysis.convergence.STOPPED_LEVEL`), ``<key>_unwidened``
    (the ordinary 95 % one) and ``interval_widened`` (why)."""
    return {"interval_level": STOPPED_LEVEL, f"{key}_unwidened": list(unwidened),
            "interval_widened": f"{STOPPED_LEVEL:.0%} Student t interval: the run stopped by its "
                                f"rule {rule}, whose stop selects a 95 % interval narrow by "
                                f"chance (it covers the true D in ~90 % of such runs; "
                                f"docs/convergence.md)"}


def charges_note(elements: np.ndarray, charges: dict[str, float], *, given: bool = True) -> str:
    """What the charges of a sigma assume where the run's composition is no ordinary ionic
    solid (an intermetallic, a Zintl phase: ``ionmd.structures.charges.transport_note``),
    else ``""``; ``given``: the user's own charges (the note neither calls them the guess
    nor tells how to give them), else ionmd's guess (``RunSpec.charges_guessed``)."""
    from ionmd.structures.charges import transport_note

    symbols, counts = np.unique(np.asarray(elements), return_counts=True)
    return transport_note(dict(zip(symbols.tolist(), counts.tolist())), charges, given=given)


def frames_before(frames, step: int):
    """The frames (:func:`read_frames`'s ``Piece``) dumped before ``step``."""
    n = int(np.sum(frames.steps < step))
    return replace(frames, positions=frames.positions[:n], boxes=frames.boxes[:n],
                   steps=frames.steps[:n], starts=tuple(s for s in frames.starts if s < n),
                   origins=None if frames.origins is None else frames.origins[:n],
                   seam_shifts=tuple((a, min(b, n), v) for a, b, v in frames.seam_shifts
                                     if a < n))


def before_failure(spec: RunSpec, frames, elements, masses, first, out: Path, **options) -> dict:
    """Transport of a failed run's frames before its first failure (``first``, a
    :class:`~ionmd.analysis.failure.FailureEvent`): what the run measured while it was
    still the material, for a careful look, never for a fit (the caller keeps it out of
    the results' ``diffusion``). Writes ``diffusion_before_failure.csv``. A failure found
    late (a melt shows once the framework has moved half a bond) leaves frames of the
    failing structure at the end of the window: ``caveat`` says so. Without enough frames
    for the analysis (after the discard), ``error`` says why."""
    window = {"failure_mode": first.mode, "failure_step": first.step,
              "failure_time_ps": first.time_ps}
    kept = frames_before(frames, first.step)
    try:
        if len(kept.steps) < 3:
            raise AnalysisError(f"{len(kept.steps)} frame(s) before the failure at step "
                                f"{first.step}")
        traj = transport_trajectory(spec, kept, elements, masses)
        part, diff, _ = transport(spec, traj, **options)
    except AnalysisError as exc:
        return {**window, "error": f"no transport before the failure: {exc}"}
    write_diffusion_csv(diff, out / "diffusion_before_failure.csv", spec.temperature_K)
    caveat = ("the failure is found after the structure is lost (a melt: once the framework "
              "moved half a bond), so the last frames may already be of the failing structure"
              if first.mode == "framework_melting" else None)
    return {**window, "first_step": int(traj.steps[0]), "last_step": int(traj.steps[-1]),
            **({"caveat": caveat} if caveat else {}), **part}


STRUCTURE_R_MAX = 6.0
"""Range (A) of ``rdf.csv`` and ``van_hove.csv``: the first coordination shells of an
electrolyte and a Li hop (~2-4 A). Pairs are counted over every periodic image, so it is
right in any cell, smaller or tilted (it was half the cell's diagonal element, 0 on ASE's
primitive fcc vectors)."""


RDF_MAX_FRAMES = 100
"""Frames ``rdf.csv`` averages at most (every k-th frame, evenly over the run): pairs
over every image cost about 1.7 s a frame for the 10 partials of a 4000-atom
four-element cell (2 busy cores), 28 min for 1000 frames; 100 frames of such a cell
count over 10^7 pairs a partial, and consecutive frames add little beyond them."""


def rdf_step(n_frames: int) -> int:
    """Every how many frames ``rdf.csv`` takes one: :data:`RDF_MAX_FRAMES` at most."""
    return max(1, math.ceil(n_frames / RDF_MAX_FRAMES))


def default_van_hove_lags(traj: Trajectory) -> list[float]:
    """5, 10, 25 and 50 % of the run, on whole frames (at least one frame)."""
    frames = np.unique(np.maximum(1, np.round(np.array([0.05, 0.1, 0.25, 0.5])
                                              * (traj.n_frames - 1)).astype(int)))
    return (frames * traj.frame_interval_ps).tolist()


def check_van_hove_lags(lags_ps: Sequence[float], steps: np.ndarray, timestep_fs: float,
                        discard_ps: float) -> None:
    """Refuse van Hove lags that are not a whole number of frames of the run analysed
    (``steps`` of its frames, ``discard_ps`` then left out) or longer than it, naming the
    lags there are; :mod:`ionmd.analysis.structure_functions` would refuse them only after
    the transport analysis.

    Raises
    ------
    AnalysisError
        Naming the lags refused and those available.
    """
    from ionmd.analysis.structure_functions import LAG_TOLERANCE_FRAMES

    times = (np.asarray(steps) - steps[0]) * timestep_fs * 1e-3
    if len(times) < 2 or not times[1] > 0:
        return                  # too few frames: the transport analysis says so
    n_frames = int(np.sum(times >= discard_ps - 1e-9))
    interval = float(times[1])
    frames = np.asarray(lags_ps, dtype=float) / interval
    whole = np.round(frames)
    bad = [t for t, f, n in zip(lags_ps, frames, whole)
           if not (t >= 0 and abs(f - n) <= LAG_TOLERANCE_FRAMES and n < n_frames)]
    if not bad:
        return
    longest = (n_frames - 1) * interval
    shown = ", ".join(f"{k * interval:g}" for k in range(1, min(n_frames, 5)))
    raise AnalysisError(
        f"--van-hove-lags-ps {', '.join(f'{t:g}' for t in bad)}: a lag must be a whole number "
        f"of frames of the run analysed (frames {interval:g} ps apart, {longest:g} ps after "
        f"the {discard_ps:g} ps discarded); the lags available are the multiples of "
        f"{interval:g} ps up to {longest:g} ps ({shown}{', ...' if n_frames > 5 else ''})")


def write_structure_functions(traj: Trajectory, mobile: Sequence[str], out: Path,
                              van_hove_lags_ps: Sequence[float] | None = None) -> list[str]:
    """Density CUBE files, ``rdf.csv`` (over every :func:`rdf_step`-th frame) and
    ``van_hove.csv`` (self and distinct parts of the first mobile species at each lag: by
    default :func:`default_van_hove_lags`)."""
    from ionmd.analysis.structure_functions import (rdf, van_hove_distinct, van_hove_self,
                                                    write_density_cube)

    files = []
    for s in mobile:
        files.append(str(write_density_cube(traj, s, out / f"density_{s}.cube")))
    species = sorted(set(traj.elements.tolist()))
    cols, names = [], []
    for i, a in enumerate(species):
        for b in species[i:]:
            r, g = rdf(traj, a, b, r_max=STRUCTURE_R_MAX, step=rdf_step(traj.n_frames))
            cols.append(g)
            names.append(f"g_{a}{b}")
    _write_columns(out / "rdf.csv", ["r_A"] + names, [r] + cols)
    lags = list(van_hove_lags_ps) if van_hove_lags_ps else default_van_hove_lags(traj)
    s = mobile[0]
    r, gs = van_hove_self(traj, s, lags, r_max=STRUCTURE_R_MAX, n_bins=60)
    _, gd = van_hove_distinct(traj, s, lags, r_max=STRUCTURE_R_MAX, n_bins=60)
    _write_columns(out / "van_hove.csv",
                   ["r_A"] + [f"4pi_r2_Gs_{s}_{t:.4g}ps" for t in lags]
                   + [f"Gd_{s}_{t:.4g}ps" for t in lags], [r, *gs, *gd])
    return files + [str(out / "rdf.csv"), str(out / "van_hove.csv")]


def _write_columns(path: Path, header: list[str], cols: list[np.ndarray]) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(np.stack(cols, -1).tolist())


def write_diffusion_csv(results, path: Path, temperature_K: float,
                        levels: Sequence[float] | None = None) -> None:
    """One row per D; ``ci_level``: the level of ``D_ci95_lo``/``_hi`` (``levels``, 0.95;
    0.99 where the run's D-interval rule stopped it)."""
    keys = ["species", "direction", "D", "D_ci95_lo", "D_ci95_hi", "D_std", "D_windowed",
            "D_windowed_stderr", "hops_per_ion", "ions_that_hopped", "n_ions", "msd_exponent",
            "flags"]
    levels = [0.95] * len(results) if levels is None else levels
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["temperature_K"] + keys + ["units", "ci_level"])
        for r, level in zip(results, levels):
            w.writerow([temperature_K, r.species, r.direction, r.D, r.D_ci95[0], r.D_ci95[1],
                        r.D_std, r.D_windowed, r.D_windowed_stderr, r.hops_per_ion,
                        r.ions_that_hopped, r.n_ions, r.msd_exponent, ";".join(r.flags), "cm^2/s",
                        level])


def plot_msd(msds, diff, path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 4))
    for m, d in zip(msds, diff):
        line, = ax.plot(m.lag_ps, m.msd, label=f"{m.species} {m.direction}")
        t = np.array([d.fit_start_ps, d.fit_end_ps])
        ax.plot(t, 2 * m.n_dim * d.D / 1e-4 * t, "--", color=line.get_color(), lw=1)
    ax.set_xlabel("lag time (ps)")
    ax.set_ylabel("MSD (Å$^2$)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_arrhenius(T, y, lo, hi, fit, path: Path, ylabel: str) -> None:
    plt = _pyplot()
    T = np.asarray(T, float)
    fig, ax = plt.subplots(figsize=(5, 4))
    x = 1000.0 / T
    ax.errorbar(x, y, yerr=[np.asarray(y) - lo, np.asarray(hi) - y], fmt="o")
    tt = np.linspace(min(T.min(), fit.T_extrapolated), T.max(), 100)
    value, lo_fit, hi_fit = fit.interval(tt)
    ax.plot(1000 / tt, value, "-")
    ax.fill_between(1000 / tt, lo_fit, hi_fit, alpha=0.3)
    ax.set_yscale("log")
    ax.set_xlabel("1000 / T (1/K)")
    ax.set_ylabel(ylabel)
    ax.set_title(f"Ea = {fit.Ea_eV:.3f} ± {fit.Ea_err_eV:.3f} eV")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_survival(curves: dict, path: Path) -> None:
    """Kaplan–Meier survival step curves, one per structure, drawn to the longest run;
    ``+`` where a replica stopped without failing (censored)."""
    from ionmd.analysis.failure import survival_at

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 4))
    for name, c in curves.items():
        end = c.get("end_ps", c["time_ps"][-1])
        line, = ax.step(c["time_ps"] + [end], c["survival"] + c["survival"][-1:], where="post",
                        label=name)
        cens = c.get("censored_ps", [])
        ax.plot(cens, [survival_at(c, t) for t in cens], "+", color=line.get_color(), ms=9)
    ax.set_xlabel("time (ps)")
    ax.set_ylabel("fraction of replicas stable")
    ax.set_ylim(-0.02, 1.02)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


MIXED_CHARGES = "mixed_charges"
"""Flag of a sigma fit whose runs' sigmas take different charges (their ``charges``)."""

MIXED_SETTINGS = "mixed_settings"
"""Flag of a fit whose runs record no model but ran with different potentials (as their
logs echo them): they are fitted as one series, which they may not be."""

UNKNOWN_MODEL = "model-unknown"
"""The series label of runs that record no model (run by hand), beside runs that do."""


def series_key(results: dict) -> tuple:
    """What makes runs replicas of one series: their structure, their model, its name and
    its file's hash (None: not recorded), and their cell's formula (its atoms of each
    element; None where the run could not be read). The model: two models a campaign names
    apart are two series (as ``ionmd sweep collect`` fits them) even where one file is a
    copy of the other, and two runs' ``model.pt`` of other contents are two models. The
    cell: runs of folders that share a name (``proj1/LiCl/T1300``, ``proj3/LiCl/T1300``)
    of 189 and 204 atoms are two materials, not replicas of one."""
    return (results.get("structure"), results.get("model"), results.get("model_hash"),
            results.get("formula") or cell_formula(results.get("composition")))


def series_keys(results: Sequence[dict]) -> list[tuple | None]:
    """:func:`series_key` of each of ``results`` (None: no structure, a run whose run.json
    could not be read), a run of unknown cell (not analysed) put with the runs of its
    structure and model where they are of one cell."""
    keys = [series_key(r) if r.get("structure") is not None else None for r in results]
    cells: dict[tuple, set] = {}
    for k in keys:
        if k is not None and k[3] is not None:
            cells.setdefault(k[:3], set()).add(k[3])
    return [k[:3] + (next(iter(cells[k[:3]])),)
            if k is not None and k[3] is None and len(cells.get(k[:3], ())) == 1 else k
            for k in keys]


def series_names(results: Sequence[dict]) -> dict[tuple, str]:
    """The name of each series (:func:`series_keys`) of ``results``: its structure where
    that structure's runs are of one model and one cell (as before either was told apart),
    its cell's formula added in brackets where they are of several (``LiCl[Li81Cl108]``),
    then ``/<model>`` where they are of several models (as ``ionmd sweep collect`` names
    them), the model's hash added where two models of a structure share a name."""
    keys = list(dict.fromkeys(k for k in series_keys(results) if k is not None))
    names: dict[tuple, str] = {}
    for structure in dict.fromkeys(k[0] for k in keys):
        mine = [k for k in keys if k[0] == structure]
        models = list(dict.fromkeys(k[1:3] for k in mine))
        cells = {k[3] for k in mine}
        for key in mine:
            _, model, digest, formula = key
            name = structure
            if len(cells) > 1:
                name += f"[{formula or 'cell unknown'}]"
            if len(models) > 1:
                shared = sum(m[0] == model for m in models) > 1     # one name, other files
                name += (f"/{model or UNKNOWN_MODEL}"
                         + (f"@{digest[:8] if digest else 'no-hash'}" if shared else ""))
            names[key] = name
    return names


def split_cells_notes(results: Sequence[dict], names: dict[tuple, str]) -> list[str]:
    """A note for each structure name whose runs are of several cells (other atoms of each
    element: other materials, whatever their folders are named): they are fitted as a series
    each, named by :func:`series_names`; the note names each cell's runs."""
    keys = series_keys(results)
    notes = []
    for structure in dict.fromkeys(k[0] for k in keys if k is not None):
        mine = [(k, r) for k, r in zip(keys, results) if k is not None and k[0] == structure]
        cells = list(dict.fromkeys(k[3] for k, _ in mine))
        if len(cells) < 2:
            continue
        labels = run_labels([r for _, r in mine])
        said = "; ".join(
            f"{cell or 'cell unknown'}: "
            + ", ".join(labels.get(str(r.get("run")), str(r.get("run")))
                        for k, r in mine if k[3] == cell)
            for cell in cells)
        series = ", ".join(dict.fromkeys(names[k] for k, _ in mine))
        what = ("cells of other sizes of one composition, whose finite-size effects differ "
                "(a size study wants them apart; an Arrhenius fit of one size each)"
                if None not in cells and len({_reduced(c) for c in cells}) == 1
                else "not replicas of one material")
        notes.append(f"{structure}: its runs are of {len(cells)} different cells ({said}): "
                     f"{what}, so fitted apart as {series}; give each "
                     f"cell its own structure name ('structure' in run.json) to name "
                     f"them yourself")
    return notes


def _reduced(formula: str) -> str:
    """A cell's formula reduced (``Li54Cl27`` -> ``Li2Cl``), pymatgen's."""
    from pymatgen.core import Composition

    return Composition(formula).reduced_formula


def series_record(name: str, runs: Sequence[dict]) -> dict:
    """A series' identity for ``summary.json``: ``structure``, ``model`` (None: not
    recorded), ``model_hash``, its cell (``formula``, ``composition``, ``n_atoms``; None
    where none of its runs could be read), ``runs`` (their folders) and, where runs that
    record no model echo different potentials in their logs, ``mixed_settings`` (a sentence
    saying so: they are fitted together as if replicas, which they may not be)."""
    structure, model, digest, formula = series_keys(runs)[0]
    cell = next((r for r in runs if r.get("composition")), {})
    rec = {"structure": structure, "model": model, "model_hash": digest, "formula": formula,
           "composition": cell.get("composition"), "n_atoms": cell.get("n_atoms"),
           "runs": [r.get("run") for r in runs]}
    potentials: dict[str, list[str]] = {}
    for r in runs:
        if r.get("potential"):
            potentials.setdefault(r["potential"], []).append(str(r.get("run")))
    if len(potentials) > 1:
        labels = run_labels(runs)
        said = "; ".join(f"{', '.join(labels.get(run, run) for run in group)}: {pot!r}"
                         for pot, group in potentials.items())
        rec["mixed_settings"] = (
            f"{name}: its runs record no model, and their logs echo different potentials "
            f"({said}); they are fitted as one series, as if replicas of one model: give each "
            f"run its model ('model' in its run.json) to fit each model's runs apart, or "
            f"analyse them apart")
    rec.update(mixed_charges_of(name, runs))
    return rec


def mixed_charges_of(name: str, runs: Sequence[dict]) -> dict:
    """``mixed_charges``: where a series' runs' sigmas take different charges (run.json's,
    or --charges: their results' ``charges``), a sentence naming each set's runs (its sigma
    T fit mixes them; D takes no charges); else nothing."""
    by_charges: dict[str, list[str]] = {}
    for r in runs:
        if r.get("charges"):
            text = ",".join(f"{e}={q:g}" for e, q in sorted(r["charges"].items()))
            by_charges.setdefault(text, []).append(str(r.get("run")))
    if len(by_charges) < 2:
        return {}
    labels = run_labels(runs)
    said = "; ".join(f"{text}: {', '.join(labels.get(run, run) for run in group)}"
                     for text, group in by_charges.items())
    return {"mixed_charges": (
        f"{name}: its runs' sigmas take different charges ({said}): its sigma T fit mixes "
        f"them (D is not affected); give every run the same (--charges, 'charges' in "
        f"run.json) or analyse them apart")}


#: Arrhenius series: key in a run's results -> (series name, plot unit). sigma T is the
#: usual Arrhenius form for conductivity (sigma = A/T exp(-Ea / kT)).
def analyze_runs(results: Sequence[dict], reports: dict[str, list[FailureReport]],
                 out_dir: str | Path, *, kinisi_fit: bool = False, n_samples: int = 400,
                 seed: int = 0) -> dict:
    """Across runs: Arrhenius fits of D (xyz) per species and of sigma T (Nernst–Einstein
    and, when computed, collective) over temperature, per series (a structure under one
    model and of one cell: :func:`series_key`, named by :func:`series_names`; ``series[name]``
    says its structure, model and cell; ``notes`` where runs of one structure name are of
    several cells, fitted apart: :func:`split_cells_notes`; and where runs that record no
    model echo different potentials, ``mixed_settings``, also in ``warnings`` and as a flag
    of its fits), and survival curves
    (``reports``: failure reports by series key or name);
    writes ``summary.json``, ``arrhenius.csv`` and ``arrhenius_*.png``. Runs flagged not
    yet diffusive are included (their flags are in their results), so are runs that are
    not completed (``incomplete_T`` per fit, ``incomplete_runs``); runs that could not be
    analysed (:func:`analysis_error_results`) are in ``runs`` and left out of the fits with
    their ``analysis_error``. ``kinisi_fit`` adds
    kinisi's Bayesian Arrhenius fit (MCMC) next to the weighted least-squares one.

    What decided: ``runs`` (each run's record: final D interval, hops, flags, stop
    reason), per fit ``runs`` (those that fed it) and ``left_out`` (the others, with why),
    and per structure ``structures[name]``: sigma(300 K), its interval and the same lists
    (:func:`ionmd.analysis.run_records.sigma_record`)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary: dict = {"survival": {}, "arrhenius": {},
                     "incomplete_runs": [r.get("run", r.get("structure")) for r in results
                                         if r.get("complete") is False],
                     "runs": by_temperature([r.get("run_record") or run_record(r, None)
                                             for r in results]),
                     "structures": {}}
    names = series_names(results)
    # survival curves per series too (reports keyed by series_key, or by name)
    summary["survival"] = survival_curves({names.get(k, k): v for k, v in reports.items()})
    if any(r.failed for rs in reports.values() for r in rs):
        plot_survival(summary["survival"], out / "survival.png")
    by_series: dict[str, list[dict]] = {}
    for r, key in zip(results, series_keys(results)):
        if key is not None:                 # None: a run whose run.json could not be read
            by_series.setdefault(names[key], []).append(r)
    summary["series"] = {name: series_record(name, runs) for name, runs in by_series.items()}
    summary["warnings"] = [rec[k] for rec in summary["series"].values()
                           for k in ("mixed_settings", "mixed_charges") if rec.get(k)]
    summary["notes"] = split_cells_notes(results, names)
    for name, runs in by_series.items():
        entries = {key: fit_series(runs, key, kinisi=kinisi_fit, n_samples=n_samples, seed=seed)
                   for key in series_points(runs)}
        if summary["series"][name].get("mixed_settings"):
            for entry in entries.values():
                if entry is not None and "error" not in entry:
                    entry["flags"] = [*entry.get("flags", []), MIXED_SETTINGS]
        if summary["series"][name].get("mixed_charges"):
            for key, entry in entries.items():
                if key.startswith("sigma") and entry is not None and "error" not in entry:
                    entry["flags"] = [*entry.get("flags", []), MIXED_CHARGES]
        summary["structures"][name] = {**sigma_record(runs, entries.get("sigma_T")),
                                       "model": summary["series"][name]["model"]}
        notes = {r["conductivity"]["charges_note"] for r in runs
                 if "charges_note" in r.get("conductivity", {})}
        if notes:
            summary["structures"][name]["charges_note"] = "; ".join(sorted(notes))
        for key, entry in entries.items():
            if entry is None or "error" in entry:
                continue
            summary["arrhenius"].setdefault(name, {})[key] = entry
            unit = "cm$^2$/s" if key.startswith("D_") else "mS K/cm"
            pts = entry["points"]
            plot_arrhenius(np.array([q["temperature_K"] for q in pts]),
                           np.array([q["value"] for q in pts]),
                           np.array([q["ci95"][0] for q in pts]),
                           np.array([q["ci95"][1] for q in pts]),
                           ArrheniusFit.from_dict(entry),
                           out / f"arrhenius_{name.replace('/', '_')}_{key}.png", f"{key} ({unit})")
    write_arrhenius_csv(summary["arrhenius"], out / "arrhenius.csv",
                        {name: rec["model"] for name, rec in summary["series"].items()})
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def write_arrhenius_csv(fits: dict, path: Path, models: dict | None = None) -> None:
    """One row per structure and series: Ea, its 95 % interval, prefactor (with its unit:
    mS K/cm for sigma, whose fit is of sigma T) and the extrapolated value (D in cm^2/s;
    sigma in mS/cm); ``models``: the model of each structure's runs (by its key in
    ``fits``; empty where not known)."""
    models = models or {}
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["structure", "model", "series", "method", "Ea_eV", "Ea_err_eV", "Ea_ci95_lo",
                    "Ea_ci95_hi", "prefactor", "prefactor_unit", "T_extrapolated_K", "extrapolated",
                    "extrapolated_ci95_lo", "extrapolated_ci95_hi", "extrapolated_unit", "flags"])
        for name, series in fits.items():
            for key, f in series.items():
                sigma = key.startswith("sigma")
                kinisi = f.get("kinisi")
                for method, g in [("wls", f)] + ([("kinisi", kinisi)] if kinisi and
                                                 "error" not in kinisi else []):
                    scale = 1.0 / g["T_extrapolated"] if sigma else 1.0
                    w.writerow([name, models.get(name) or "", key, method, g["Ea_eV"], g["Ea_err_eV"], *g["Ea_ci95"],
                                # the fit is of sigma T: its prefactor carries the K
                                g["prefactor"], "mS K/cm" if sigma else "cm^2/s",
                                g["T_extrapolated"], g["y_extrapolated"] * scale,
                                *(v * scale for v in g["y_extrapolated_ci95"]),
                                "mS/cm" if sigma else "cm^2/s", ";".join(g.get("flags", []))])
