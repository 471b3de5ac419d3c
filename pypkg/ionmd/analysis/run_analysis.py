"""Analysis of one run directory end to end: :func:`analyze_run` (failures, MSD,
D, sigma, optional structure functions; a failed run's transport before its failure),
:func:`analyze_failures` (the post-mortem only) and :func:`analysis_error_results` (a
run that could not be analysed). :func:`ionmd.analysis.report.analyze_runs` adds what
needs several runs.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np

from ionmd.analysis.conductivity import collective_conductivity, conductivity_from_diffusion
from ionmd.analysis.convergence import (STOPPED_LEVEL, interval_at_stop, interval_quantile_at,
                                        rule_that_stopped)
from ionmd.analysis.diffusion import DiffusionResult, diffusion, fit_end_of
from ionmd.analysis.failure import target_at
from ionmd.analysis.msd import compute_msd
from ionmd.analysis.result_files import (earlier_outputs, has_results, plot_msd, same_verdict,
                                         staged_outputs, write_diffusion_csv, write_outputs)
from ionmd.analysis.run_failure import failures_of
from ionmd.analysis.run_inputs import (cell_of, charges_replaced_of, completion_of,
                                       dcd_origin_of, identity_of, model_of,
                                       noted_run_frames, read_logs, ramp_of, run_frames,
                                       skipped_checks_of,
                                       skipped_pieces_of)
from ionmd.analysis.run_records import run_record
from ionmd.analysis.run_spec import RunSpec
from ionmd.analysis.structure_files import check_van_hove_lags, write_structure_functions
from ionmd.analysis.stitching import continuous_unwrapped
from ionmd.analysis.trajectory import Trajectory
from ionmd import strict_json
from ionmd.errors import AnalysisError


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
    frames, elements, masses, superseded = noted_run_frames(spec)
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
                     **skipped_pieces_of(spec), **superseded, **dcd_origin_of(spec, logs[1]),
                     "failure": failure.to_dict()}
    options = dict(directions=directions, fit_start_ps=fit_start_ps, fit_end_ps=fit_end_ps,
                   window_ps=window_ps, haven_ratio=haven_ratio, collective=collective,
                   seed=seed, hop_length=hop_length, min_hops=min_hops)
    # written beside the earlier analysis's files, which they replace only once complete:
    # a failure (a fit start past the run's end) leaves the earlier results as they were
    with staged_outputs(out) as stage:
        if failure.failed:
            # no transport of the whole run: it is not of the material after the failure.
            # That of the frames before is reported apart and kept out of every fit
            results["diffusion"] = []
            results.update({k: v for k, v in ramp_of(spec).items() if k != "no_transport"})
            results["before_failure"] = before_failure(
                spec, frames, elements, masses, failure.first, stage,
                structure_functions=structure_functions, van_hove_lags_ps=van_hove_lags_ps,
                **options)
            structure_files = results["before_failure"].pop("files", [])
            if structure_files:     # named where they will be, not where they are written
                results["files"] = [str(out / name) for name in structure_files]
            results["note"] = (f"run failed ({failure.first.mode} at step "
                               f"{failure.first.step}): no transport properties of the run; "
                               f"those of the frames before the failure are under "
                               f"before_failure, left out of Arrhenius fits and aggregates")
            results["run_record"] = run_record(results, spec.run_status)
            write_outputs(stage, results, ["diffusion_before_failure.csv", *structure_files])
            return results
        results.update(ramp_of(spec))
        if "no_transport" in results:    # a ramp's D is of no temperature: none, and why
            results["diffusion"] = []
            # its length all the same, as the others' (runs.csv had none for a completed ramp)
            results.update(kept_length_of(spec, frames.steps))
            names = []
            if structure_functions:     # a mixture of the ramp's states, written and said so
                part = ramp_structure_functions(spec, frames, elements, masses, stage,
                                                van_hove_lags_ps)
                names = part.pop("files", [])
                results.update(part)
                if names:
                    results["files"] = [str(out / name) for name in names]
            results["run_record"] = run_record(results, spec.run_status)
            write_outputs(stage, results, names)
            return results
        traj = transport_trajectory(spec, frames, elements, masses,
                                    fractions=structure_functions)
        part, diff, msds = transport(spec, traj, **options)
        results.update(part)
        results.update(fit_end_clipped_of(fit_end_ps, diff))
        write_diffusion_csv(diff, stage / "diffusion.csv", spec.temperature_K,
                            [d.get("interval_level", 0.95) for d in part["diffusion"]])
        plot_msd(msds, diff, stage / "msd.png")
        if structure_functions:     # named where they will be, not where they are written
            results["files"] = [str(out / Path(f).name) for f in write_structure_functions(
                traj, spec.mobile_species, stage, van_hove_lags_ps)]
        results["run_record"] = run_record(results, spec.run_status)
        write_outputs(stage, results, ["diffusion.csv", "msd.png",
                                       *(Path(f).name for f in results.get("files", []))])
    return results


def check_fit_range(run_length_ps: float, fit_start_ps: float,
                    fit_end_ps: float | None) -> None:
    """Refuse a fit start not before the fit end (``--fit-end-ps`` clipped to the run, else
    half the run after the discard) before any MSD work, the numbers as typed (``:g``).

    Raises
    ------
    AnalysisError
        If ``fit_start_ps`` is not before the fit end.
    """
    end = fit_end_of(run_length_ps, fit_end_ps)
    if fit_start_ps >= end:
        raise AnalysisError(f"fit start {fit_start_ps:g} ps is not before the fit end "
                            f"{end:.6g} ps (run length {run_length_ps:.6g} ps after the "
                            f"discarded equilibration); lower --fit-start-ps (fit_start_ps) "
                            f"below {end:.6g} ps or run longer")


def analyze_failures(spec: RunSpec, out_dir: str | Path, **failure_options) -> dict:
    """Only the failure post-mortem of one run directory (``ionmd analyze --failures-only``):
    writes ``failure.json`` under ``out_dir``, and ``results.json`` there too unless an
    earlier analysis's says the same of the run's failures (:func:`same_verdict`: kept,
    with its transport); one that says otherwise is replaced and its transport files
    removed (:func:`~ionmd.analysis.result_files.clear_outputs`), so that the folder never
    holds two verdicts. Either way through the staging folder and its lock
    (:func:`staged_outputs`): a killed or concurrent analysis leaves no half-written
    failure.json, and the verdict is compared under the lock. Returns
    the run's results dict (its identity, cell, completion, ``failure`` and
    ``run_record``).

    Raises
    ------
    AnalysisError
        If the logs' thermo output has no Step column: the failure checks are all this
        analysis is, and they could not read the thermo rows
        (:func:`~ionmd.lammps.thermo_log.require_step`)."""
    frames = run_frames(spec)
    report = failures_of(spec, frames, **failure_options)
    results = {**identity_of(spec), **cell_of(frames[1], frames[0].boxes),
               **charges_replaced_of(spec), **completion_of(spec), **skipped_pieces_of(spec),
               "failure": report.to_dict(),
               "note": "failure post-mortem only (--failures-only): no transport analysed"}
    results["run_record"] = run_record(results, spec.run_status)
    standing = []

    def plan(out: Path, staged: list[str]):
        # decided under the commit's lock, from the folder as it is then: a full analysis
        # committed meanwhile is seen, and failure.json is never left beside another verdict
        if same_verdict(out, results):      # an earlier full analysis stands: kept
            standing.append(True)
            return ["failure.json"], []
        # a full analysis's transport would contradict it: removed, once this is written
        return staged, earlier_outputs(out)

    with staged_outputs(out_dir, plan=plan) as stage:
        write_outputs(stage, results)
    if standing:                    # the folder's outputs are the earlier analysis's
        del results["outputs"]
    return results


def analysis_error_results(run_dir: str | Path, spec: RunSpec | None, error: Exception,
                           out_dir: str | Path | None = None) -> dict:
    """The results dict of a run that could not be analysed: its identity (as far as its
    ``spec`` was read; None when even that failed), no transport properties, no failure
    report, and ``analysis_error`` (why), so that the fits list it as left out. Written as
    ``results.json`` under ``out_dir`` when given, unless an earlier analysis's results are
    there (:func:`~ionmd.analysis.result_files.has_results`): those are kept as they were,
    and ``analysis_error`` and ``previous_results_kept`` (the folder) say so."""
    results = {"run": str(spec.path if spec else run_dir), "analysis_error": str(error),
               "structure": spec.structure if spec else None,
               **(model_of(spec) if spec else {}),
               "replica": spec.replica if spec else None,
               "temperature_K": spec.temperature_K if spec else None,
               **({"settings_notes": list(spec.settings_notes)}
                  if spec and spec.settings_notes else {}),
               **(charges_replaced_of(spec) if spec else {}),
               **(completion_of(spec) if spec else {}), "diffusion": []}
    if out_dir is not None and has_results(out_dir):
        results["analysis_error"] += (f" (previous results kept in {out_dir}: of an earlier "
                                      f"analysis, not in this summary)")
        results["previous_results_kept"] = str(out_dir)
        out_dir = None
    results["run_record"] = run_record(results, spec.run_status if spec else None)
    if out_dir is not None:
        with staged_outputs(out_dir) as stage:      # an earlier error's files replaced
            results["outputs"] = ["results.json"]
            strict_json.write(stage / "results.json", results, indent=2)
    return results


def run_length_of(traj: Trajectory) -> float:
    """The length of ``traj`` in ps, from its steps in integers (steps x time step / 1000,
    to 12 digits: 700 steps of 0.5 fs are 0.35 ps, not 0.35000000000000003)."""
    return _steps_ps(traj.steps[0], traj.steps[-1], traj.timestep_fs)


def _steps_ps(first_step, last_step, timestep_fs: float) -> float:
    fs = (int(last_step) - int(first_step)) * float(timestep_fs)
    return float(f"{fs / 1000:.12g}")


def kept_length_of(spec: RunSpec, steps: np.ndarray) -> dict:
    """``run_length_ps`` of a run analysed without transport (a ramp) whose frames are at
    ``steps``: from the first frame kept after its discarded start (:meth:`Trajectory.discard`'s
    rule) to the last, as :func:`run_length_of` gives a transport run's; {} where the discard
    keeps no frame (the ramp's post-mortem needs none: no error)."""
    steps = np.asarray(steps)
    if steps.size == 0:
        return {}
    kept = steps[(steps - steps[0]) * spec.timestep_fs / 1000.0 >= spec.discard_ps - 1e-9]
    return {"run_length_ps": _steps_ps(kept[0], kept[-1], spec.timestep_fs)} if kept.size else {}


def ramp_structure_functions(spec: RunSpec, frames, elements, masses, out: Path,
                             van_hove_lags_ps: Sequence[float] | None = None) -> dict:
    """The structure functions of a ramp run's frames (after its discarded start), written
    under ``out`` (``files``: their names), with ``structure_functions_note``: they average
    over the ramp's temperatures or densities, a mixture of no one state (its D and sigma
    are not analysed at all: ``no_transport``); ``structure_functions_error`` where they
    could not be made (no frame after the discard, a van Hove lag too long). Before,
    ``--structure-functions`` on a ramp wrote nothing and said nothing."""
    try:
        traj = transport_trajectory(spec, frames, elements, masses, fractions=True)
        names = [Path(f).name for f in write_structure_functions(
            traj, spec.mobile_species, out, van_hove_lags_ps)]
    except AnalysisError as exc:
        return {"structure_functions_error": f"no structure functions: {exc}"}
    what = f"{', '.join(names)} average over them, a mixture"
    note = _ramp_caveat(spec, int(traj.steps[0]), int(traj.steps[-1]), what=what)
    if not note:        # a hand run's ramp, as its logs say it (RunSpec.frames_ramps)
        ramped = "; ".join(f"{r.logs}: {r.what()}" for r in spec.frames_ramps
                           if not r.discarded)
        note = f"{ramped} over these frames: {what} of no one temperature or density"
    return {"files": names, "structure_functions_note": note}


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
    check_fit_range(run_length_of(traj), fit_start_ps, fit_end_ps)   # before the MSD work
    part: dict = {"run_length_ps": run_length_of(traj),
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
    plain_xyz = [d for d in diff if d.direction == "xyz"]
    charges_known = all(s in spec.charges for s in spec.mobile_species)
    if diff and not plain_xyz and charges_known:
        # sigma (Nernst-Einstein, collective) is defined with the 3-D D: asked only for
        # xy or z, the xyz D is fitted for sigma alone (it is not among the results' D)
        plain_xyz = [diffusion(traj, species, "xyz", fit_start_ps=fit_start_ps,
                               fit_end_ps=fit_end_ps, window_ps=window_ps, seed=seed,
                               hop_length=hop_length, min_hops=min_hops)
                     for species in spec.mobile_species]
    xyz = [widened_at_stop(d) for d in plain_xyz] if rule else plain_xyz
    if xyz and charges_known:
        sigma = conductivity_from_diffusion(xyz, spec.charges, traj.volumes.mean(),
                                            spec.temperature_K, haven_ratio)
        part["conductivity"] = sigma.to_dict()
        part["conductivity"]["direction"] = "xyz"
        if "xyz" not in directions:
            part["conductivity"]["direction_note"] = (
                f"from the xyz D, fitted for sigma (the directions asked, "
                f"{','.join(directions)}, hold no xyz; sigma is defined with the 3-D D)")
        if rule:            # sigma's interval follows from D's (the widened draws)
            plain = conductivity_from_diffusion(plain_xyz, spec.charges, traj.volumes.mean(),
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
            part["conductivity_collective"].update(collective_flags(xyz))
    elif diff:
        part["no_conductivity"] = no_conductivity_reason(traj.elements, spec)
    return part, reported, msds


COLLECTIVE_FLAGS_NOTE = (
    "the tracer checks of the same ions over the same fit window (hops, the self MSD's "
    "growth, its fit start); the charge MSD, one path, is not checked itself")
"""Where a collective sigma's ``flags`` come from (``flags_note`` in results.json)."""


def collective_flags(xyz: Sequence[DiffusionResult]) -> dict:
    """A collective sigma's ``flags`` and ``flags_note``: the flags of the mobile species'
    xyz D (too few hops, an MSD not linear, a fit start not diffusive), as the
    Nernst-Einstein sigma's. The charge MSD is made of the same ions' displacements, fitted
    over the same window with weights from their self MSD, whose expected value it is for
    uncorrelated ions: where their motion is not yet diffusive, neither is it (caged
    Brownian Li, 16 ions, 20 ps, fit from 0.1 ps inside a 0.1 ps cage: collective sigma
    5.5x the truth over 200 walks, the tracer flagged fit_start_not_diffusive in 40/40;
    from 1 ps 1.02x, unflagged). The checks themselves do not apply to the charge MSD: the
    fit start's is a paired t over ions (one path has none), and its growth exponent, one
    path's, left 1 +- 0.2 in 17 of 40 plain Brownian walks (11/40 with 0.3 A vibration)."""
    return {"flags": sorted({f for d in xyz for f in d.flags}),
            "flags_note": COLLECTIVE_FLAGS_NOTE}


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
    """The frames (:func:`~ionmd.analysis.trajectory.read_frames`'s ``Piece``) dumped
    before ``step``."""
    n = int(np.sum(frames.steps < step))
    return replace(frames, positions=frames.positions[:n], boxes=frames.boxes[:n],
                   steps=frames.steps[:n], starts=tuple(s for s in frames.starts if s < n),
                   origins=None if frames.origins is None else frames.origins[:n],
                   seam_shifts=tuple((a, min(b, n), v) for a, b, v in frames.seam_shifts
                                     if a < n))


def before_failure(spec: RunSpec, frames, elements, masses, first, out: Path, *,
                   structure_functions: bool = False,
                   van_hove_lags_ps: Sequence[float] | None = None, **options) -> dict:
    """Transport of a failed run's frames before its first failure (``first``, a
    :class:`~ionmd.analysis.failure.FailureEvent`): what the run measured while it was
    still the material, for a careful look, never for a fit (the caller keeps it out of
    the results' ``diffusion``). Writes ``diffusion_before_failure.csv``, and with
    ``structure_functions`` the structure-function files of those frames (``files``: their
    names; ``structure_functions_error`` where they could not be: a van Hove lag longer
    than the frames). A failure found late (a melt shows once the framework has moved half a
    bond) leaves frames of the failing structure at the end of the window: ``caveat`` says
    so. Without enough frames for the analysis (after the discard), ``error`` says why.
    (``--structure-functions`` on a failed run wrote nothing, and said nothing of it.)"""
    window = {"failure_mode": first.mode, "failure_step": first.step,
              "failure_time_ps": first.time_ps}
    kept = frames_before(frames, first.step)
    try:
        if len(kept.steps) < 3:
            raise AnalysisError(f"{len(kept.steps)} frame(s) before the failure at step "
                                f"{first.step}")
        traj = transport_trajectory(spec, kept, elements, masses,
                                    fractions=structure_functions)
        part, diff, _ = transport(spec, traj, **options)
    except AnalysisError as exc:
        return {**window, "error": f"no transport before the failure: {exc}"}
    write_diffusion_csv(diff, out / "diffusion_before_failure.csv", spec.temperature_K)
    if structure_functions:
        try:
            window["files"] = [Path(f).name for f in write_structure_functions(
                traj, spec.mobile_species, out, van_hove_lags_ps)]
        except AnalysisError as exc:
            window["structure_functions_error"] = f"no structure functions: {exc}"
    caveats = [_ramp_caveat(spec, int(traj.steps[0]), int(traj.steps[-1]))]
    if first.mode == "framework_melting":
        caveats.append("the failure is found after the structure is lost (a melt: once the "
                       "framework moved half a bond), so the last frames may already be of "
                       "the failing structure")
    caveat = "; ".join(c for c in caveats if c)
    return {**window, "first_step": int(traj.steps[0]), "last_step": int(traj.steps[-1]),
            **({"caveat": caveat} if caveat else {}), **part}


def _ramp_caveat(spec: RunSpec, first_step: int, last_step: int,
                 what: str = "their D and sigma are") -> str | None:
    """Where the thermostat ramped over the window's frames (a stability run heated until
    it failed), that ``what`` (its D and sigma; the structure functions) are of no one
    temperature (as :func:`ramp_of` says of a whole ramp run); where the barostat ramped,
    of no one density; None at one temperature and pressure."""
    ramp = ramp_of(spec)
    caveats = []
    if "temperature_end_K" in ramp:
        steps = (spec.temperature_K, spec.temperature_end_K,
                 (spec.run_status or {}).get("planned_steps"))
        lo, hi = target_at(first_step, *steps), target_at(last_step, *steps)
        span = (f"{lo:g} -> {hi:g} K" if lo is not None and hi is not None
                else f"{spec.temperature_K:g} K towards {spec.temperature_end_K:g} K")
        caveats.append(f"the thermostat ramped over these frames ({span}): {what} "
                       f"of no one temperature, whatever temperature_K says")
    if "pressure_ramp" in ramp:
        p = ramp["pressure_ramp"]
        caveats.append(f"the barostat ramped over these frames (towards {p['end']:g} "
                       f"{p['unit']} from {p['start']:g}): {what} of no one density")
    return "; ".join(caveats) or None
