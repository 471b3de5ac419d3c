"""A campaign's ``[analysis]``: the charges for sigma, the fit and window times, the
Haven ratio and the failure thresholds that ``collect`` applies to every run."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ionmd.analysis.diffusion import fit_end_of, fit_lags
from ionmd.errors import AnalysisError
from ionmd.protocols.setting_values import field_name
from ionmd.protocols.presets import Protocol
from ionmd.structures.charge_values import charge_problems, net_charge_problem
from ionmd.sweep.campaign_problems import Problems, check_int, check_keys, check_range
from ionmd.sweep.campaign_structures import StructureEntry
from ionmd.sweep.source import Source

FAILURE_KEYS = ("volume_limit", "runaway_factor", "melt_fraction", "collapse_fraction")
ANALYSIS_KEYS = ("charges", "fit_start_ps", "fit_end_ps", "window_ps", "mcmc_samples",
                 "haven_ratio") + FAILURE_KEYS


@dataclass
class Analysis:
    charges: dict[str, float] | str = "auto"
    fit_start_ps: float = 1.0
    fit_end_ps: float | None = None
    window_ps: float = 15.0
    mcmc_samples: int = 400   # unused since D and sigma need no sampler; older files have it
    haven_ratio: float = 1.0
    failure: dict[str, float] = field(default_factory=dict)   # detect_failures thresholds


def run_analysis_settings(a: Analysis, protocol: Protocol) -> dict:
    """What ``collect`` analyses each run of ``protocol`` with: ``[analysis]``'s fit and
    window times, Haven ratio and failure thresholds, ``volume_limit`` out of the way
    (1e9) where the runs check their own volume (``halt_volume_change``: their verdict,
    in status.json, joins the post-mortem, whose check at the dump frames would date the
    same change otherwise). Each run folder carries them (:mod:`ionmd.analysis.
    run_campaign_settings`), so that ``ionmd analyze RUN`` gives collect's D."""
    failure = dict(a.failure)
    if protocol.halt_volume_change is not None:
        failure.setdefault("volume_limit", 1e9)
    return {"fit_start_ps": a.fit_start_ps, "fit_end_ps": a.fit_end_ps,
            "window_ps": a.window_ps, "haven_ratio": a.haven_ratio, "failure": failure}


def read_analysis(src: Source, errors: Problems) -> Analysis:
    """The ``[analysis]`` table (defaults for what it leaves out or gets wrong, said in
    ``errors``)."""
    table = src.data.get("analysis", {})
    a = Analysis()
    if not isinstance(table, dict):
        errors.add(("analysis",), "analysis must be a table")
        return a
    check_keys(errors, table, ("analysis",), ANALYSIS_KEYS)
    charges = table.get("charges", "auto")
    if charges != "auto" and not isinstance(charges, dict):     # its values: check_charges
        errors.add(("analysis", "charges"), "charges must be \"auto\" (pymatgen's oxidation-state "
                                            "guess) or a table such as {Li = 1, Cl = -1}")
    a.charges = charges
    for name in ("fit_start_ps", "fit_end_ps", "window_ps", "haven_ratio") + FAILURE_KEYS:
        if name in table:
            v = table[name]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
                errors.add(("analysis", name), f"{name} must be a positive number (got {v!r})")
            elif not check_range(errors, ("analysis", name), v):
                continue
            elif name in FAILURE_KEYS:
                a.failure[name] = float(v)
            else:
                setattr(a, name, float(v))
    if "mcmc_samples" in table:
        a.mcmc_samples = check_int(errors, ("analysis", "mcmc_samples"),
                                   table["mcmc_samples"], 10) or 400
    _check_fit_range(errors, table, a)
    return a


def _check_fit_range(errors: Problems, table: dict, a: Analysis) -> None:
    """The MSD is fitted from fit_start_ps to fit_end_ps: an end not after the start
    fails the analysis of every run (:func:`ionmd.analysis.diffusion.diffusion`),
    found by ``collect`` only after the runs."""
    if a.fit_end_ps is None or a.fit_end_ps > a.fit_start_ps:
        return
    start = (f"fit_start_ps = {a.fit_start_ps:g}" if "fit_start_ps" in table
             else f"the default fit_start_ps {a.fit_start_ps:g}")
    errors.add(("analysis", "fit_end_ps"),
               f"analysis.fit_end_ps = {a.fit_end_ps:g} ps is not after {start} ps: the MSD "
               f"is fitted from fit_start_ps to fit_end_ps, so the analysis of every run "
               f"would fail; give a fit_end_ps > fit_start_ps (or leave it out: half of "
               f"each run)")


def check_fit_window(src: Source, errors: Problems, a: Analysis,
                     protocol: Protocol | None) -> None:
    """The MSD is fitted from ``fit_start_ps`` to where :func:`fit_end_of` (the analysis'
    own rule) ends it for the longest run the protocol may write at each temperature
    (``duration_ps``, the maximum with ``until``, less ``discard_ps``): a start not before
    that end fails the analysis of every run at that temperature, found by ``collect``
    only after all their compute. Said on the fit start's line, with the temperatures,
    the run lengths (their lines) and both fixes."""
    if not _window_to_check(src, a, protocol):
        return
    bad: dict[tuple, list[str]] = {}
    for T in protocol.temperatures:
        duration, discard = protocol.schedule(T)
        if a.fit_start_ps >= fit_end_of(duration - discard, a.fit_end_ps):
            bad.setdefault((duration, discard, *_length_keys(protocol, T)), []).append(f"{T:g}")
    if not bad:
        return
    key, start = _fit_start_said(src, a, protocol)
    ends = [fit_end_of(duration - discard, a.fit_end_ps) for duration, discard, *_ in bad]
    runs = "; ".join(_runs_said(src, a, protocol, temps, *group)
                     for group, temps in bad.items())
    errors.add(key, f"{start} is not before the end of the MSD fit, so the analysis of every "
                    f"run at these temperatures would fail after all its compute: {runs}. "
                    f"Either lower fit_start_ps (below {min(ends):g} ps) or make the runs "
                    f"that long")


def check_goal_fit_window(src: Source, errors: Problems, a: Analysis,
                          protocol: Protocol | None, step_ps: float | None) -> None:
    """A run the goal starts is its temperature's discard plus one ``goal.step`` long: its
    analysis, which the goal's next decision reads, fits the MSD from ``fit_start_ps`` to
    where :func:`fit_end_of` ends it in ``step_ps``; a start not before that end fails the
    analysis of every run the goal adds (after their compute). Said on goal.step's line.
    ``step_ps`` None: no goal, or one that adds no run (no new-run temperature)."""
    if step_ps is None or not _window_to_check(src, a, protocol):
        return
    end = fit_end_of(step_ps, a.fit_end_ps)
    if a.fit_start_ps < end:
        return
    table = src.data.get("goal", {})
    key = ("goal", "step") if isinstance(table, dict) and "step" in table else ("goal",)
    step = (f"goal.step = {step_ps:g} ps" if key == ("goal", "step") else
            f"goal.step {step_ps:g} ps (its default: the protocol's check_every_ps)")
    _, start = _fit_start_said(src, a, protocol)
    how = ("fit_end_ps" if a.fit_end_ps is not None
           else "half of the step")
    errors.add(key, f"{step}: a run the goal starts is discard_ps plus one step long, and "
                    f"its MSD fit ends at {end:g} ps ({how}), not after {start}: the analysis "
                    f"of every run the goal adds would fail after its compute. Make the step "
                    f"longer than {a.fit_start_ps * (2 if a.fit_end_ps is None else 1):g} ps "
                    f"or lower fit_start_ps (below {end:g} ps)")


def check_fit_frames(src: Source, errors: Problems, a: Analysis, protocol: Protocol | None,
                     step_ps: float | None) -> None:
    """A fit window that lies within the runs may still hold fewer than 3 of their frames
    (``dump_every`` x ``timestep_fs`` apart): :func:`~ionmd.analysis.diffusion.fit_lags`,
    the analysis' own rule, then fails every run at that temperature (and every run the
    goal adds: ``step_ps`` after the discard) after its compute. Said on the fit start's
    line with the frame interval and the fixes; windows that end before they start are
    :func:`check_fit_window`'s."""
    if not _window_to_check(src, a, protocol):
        return
    frame_ps = protocol.dump_every * protocol.timestep_fs / 1000.0
    # (run length, discard): the analysis keeps the frames from the first at or after the
    # discard, so what it has is a whole number of frames, up to one short of the difference
    lengths = {f"{T:g} K": protocol.schedule(T) for T in protocol.temperatures}
    if step_ps is not None:
        lengths["the runs the goal adds"] = (step_ps, 0.0)
    bad = []
    for what, (duration, discard) in lengths.items():
        if a.fit_start_ps >= fit_end_of(duration - discard, a.fit_end_ps):
            continue                # check_fit_window's (the goal's: check_goal_fit_window)
        intervals = (math.floor(duration / frame_ps + 1e-9)
                     - math.ceil(discard / frame_ps - 1e-9))
        analysed = max(intervals, 0) * frame_ps
        end = fit_end_of(analysed, a.fit_end_ps)
        if a.fit_start_ps >= end or not _fits_lags(frame_ps, max(intervals, 0) + 1,
                                                   a.fit_start_ps, end):
            bad.append(f"{what} ({a.fit_start_ps:g}-{end:g} ps of {analysed:g} ps analysed)")
    if not bad:
        return
    key, start = _fit_start_said(src, a, protocol)
    errors.add(key, f"the MSD fit from {start} holds fewer than 3 frames at one frame every "
                    f"{frame_ps:g} ps (dump_every {protocol.dump_every} x timestep "
                    f"{protocol.timestep_fs:g} fs) for {'; '.join(bad)}: the analysis of those "
                    f"runs would fail after their compute. Dump more often (a smaller "
                    f"dump_every), lower fit_start_ps, or make the runs longer")


def _window_to_check(src: Source, a: Analysis, protocol: Protocol | None) -> bool:
    """Whether the fit window checks have a window to judge: a protocol, and fit_start_ps
    and fit_end_ps as the file gives them, in order (else each is said on its own line:
    read_analysis, _check_fit_range, read_protocol)."""
    return protocol is not None and not _every_run_ramps(protocol) and _fit_settings_read(
        src, a) and (a.fit_end_ps is None or a.fit_end_ps > a.fit_start_ps)


def _every_run_ramps(protocol: Protocol) -> bool:
    """Whether every run of ``protocol`` ramps its thermostat or barostat (``stability``,
    ``pressure-ramp``): their analysis fits no MSD (no D nor sigma over a ramp,
    :func:`ionmd.analysis.run_inputs.ramp_of`), so no fit window can fail it."""
    from ionmd.analysis.run_spec import protocol_pressure_ramp

    if protocol_pressure_ramp(protocol.ensemble, protocol.pressure_bar,
                              protocol.pressure_end_bar):
        return True
    end = protocol.temperature_end
    return end is not None and all(T != end for T in protocol.temperatures)


def _fits_lags(frame_ps: float, n_frames: int, start_ps: float, end_ps: float) -> bool:
    """Whether :func:`~ionmd.analysis.diffusion.fit_lags`, the analysis' rule, finds the
    3 MSD points it needs between ``start_ps`` and ``end_ps`` in ``n_frames`` frames."""
    try:
        fit_lags(frame_ps, n_frames, start_ps, end_ps)
    except AnalysisError:
        return False
    return True


def _fit_settings_read(src: Source, a: Analysis) -> bool:
    """Whether ``[analysis]`` fit_start_ps and fit_end_ps are what the file gives (an
    invalid one, refused on its line, leaves ``a`` its default: no window to check)."""
    table = src.data.get("analysis", {})
    if not isinstance(table, dict):
        return False
    return all(name not in table or (isinstance(table[name], (int, float))
                                     and not isinstance(table[name], bool)
                                     and table[name] == getattr(a, name))
               for name in ("fit_start_ps", "fit_end_ps"))


def _length_keys(protocol: Protocol, T: float) -> tuple[str, str]:
    """The protocol fields that give the run length and discard at ``T``."""
    long = protocol.long_below_K is not None and T < protocol.long_below_K
    return ("long_duration_ps" if long and protocol.long_duration_ps else "duration_ps",
            "long_discard_ps" if long and protocol.long_discard_ps is not None
            else "discard_ps")


def _setting_said(src: Source, name: str, value: float) -> str:
    """``duration_ps = 0.5 ps (line 9)`` as the file gives the protocol field ``name`` (a
    time alias such as max_time by its own key), or the preset's value."""
    table = src.data.get("protocol")
    given = [k for k in table if field_name(k) == name] if isinstance(table, dict) else []
    if not given:
        return f"the preset's {name} {value:g} ps"
    return f"{given[0]} = {value:g} ps (line {src.line('protocol', given[0])})"


def _runs_said(src: Source, a: Analysis, protocol: Protocol, temps: list[str],
               duration: float, discard: float, duration_key: str, discard_key: str) -> str:
    """One group of temperatures whose runs are too short: their length and discard (as
    the file gives them), where the fit ends, and the length that would fit it."""
    left = duration - discard
    if a.fit_end_ps is None:
        end = f"half of it, {fit_end_of(left):g} ps (no fit_end_ps given)"
        needed = (f"{discard + 2 * a.fit_start_ps:g} ps (discard plus twice the fit start: "
                  f"the fit ends at half of what is left)")
    else:       # the analysis clips a fit end beyond the run to the run's end
        end = (f"{left:g} ps (fit_end_ps {a.fit_end_ps:g} ps lies past the run's end: the "
               f"analysis ends the fit there)")
        needed = (f"{discard + a.fit_end_ps:g} ps (discard plus fit_end_ps: the fit then "
                  f"ends where fit_end_ps says)")
    return (f"{', '.join(temps)} K: runs of {'at most ' if protocol.until else ''}"
            f"{_setting_said(src, duration_key, duration)} less "
            f"{_setting_said(src, discard_key, discard)} discarded leave {left:g} ps, "
            f"the fit ending at {end}; runs of more than {needed} would fit it")


def _fit_start_said(src: Source, a: Analysis, protocol: Protocol) -> tuple[tuple, str]:
    """The key whose line the fit start is said on, and how: [analysis]'s, the
    protocol's where a stopping rule's is taken (:func:`one_fit_start`), else the
    default."""
    table = src.data.get("analysis", {})
    proto_table = src.data.get("protocol")
    if "fit_start_ps" in table:
        return ("analysis", "fit_start_ps"), f"analysis.fit_start_ps = {a.fit_start_ps:g} ps"
    if protocol.until and isinstance(proto_table, dict) and "fit_start_ps" in proto_table:
        return (("protocol", "fit_start_ps"),
                f"protocol.fit_start_ps = {a.fit_start_ps:g} ps (the MSD fit's start of the "
                f"stopping rule and of collect)")
    if protocol.until:
        return ("protocol",), (f"the protocol's default fit_start_ps {a.fit_start_ps:g} ps "
                               f"(of the stopping rule and collect; set it in [protocol])")
    return ("analysis",), (f"the default fit_start_ps {a.fit_start_ps:g} ps (set "
                           f"fit_start_ps in [analysis])")


def one_fit_start(src: Source, errors: Problems, a: Analysis,
                  protocol: Protocol | None) -> None:
    """With a stopping rule (``until``) the runs stop on the D interval of an MSD fit from
    the protocol's ``fit_start_ps``, and collect reports that of ``[analysis]
    fit_start_ps``: they must be one value, or a run stops as converged on an interval
    other than the one reported. Where only ``[protocol]`` gives it, ``[analysis]`` takes
    it; where only ``[analysis]`` gives it (or both, differing), the file is refused
    naming both lines: the protocol's value is a setting of the runs already written."""
    if protocol is None or not protocol.until:
        return
    table = src.data.get("analysis", {})
    proto_table = src.data.get("protocol", {})
    in_analysis = isinstance(table, dict) and "fit_start_ps" in table
    in_protocol = isinstance(proto_table, dict) and "fit_start_ps" in proto_table
    if not in_analysis:
        a.fit_start_ps = protocol.fit_start_ps
        return
    if a.fit_start_ps == protocol.fit_start_ps:
        return
    said = (f"protocol.fit_start_ps = {protocol.fit_start_ps:g} ps (line "
            f"{src.line('protocol', 'fit_start_ps')})" if in_protocol
            else f"the protocol's default fit_start_ps {protocol.fit_start_ps:g} ps")
    errors.add(("analysis", "fit_start_ps"),
               f"analysis.fit_start_ps = {a.fit_start_ps:g} ps is not {said}, which the "
               f"stopping rule until = {protocol.until!r} fits from: a run would stop as "
               f"converged on an MSD fit other than the one collect reports. Give one value: "
               f"set fit_start_ps = {a.fit_start_ps:g} in [protocol] too (or drop it from "
               f"[analysis]: collect then takes the protocol's)")


def check_charges(errors: Problems, analysis: Analysis, structures: list[StructureEntry],
                  protocol: Protocol | None) -> None:
    """A charges table gives an element's charge for each of its keys
    (:func:`ionmd.structures.charge_values.charge_problems`: a finite number, no NaN or
    true; a mobile species' charge not 0), and the charge of every mobile species the
    structures hold (``{Lii = 1}`` does not): without it collect has D but no sigma, found
    only after the runs; and, for each structure whose every element it gives, a run cell
    about neutral (:func:`_check_net_charges`). Elements of no structure are allowed (one
    table for several campaigns)."""
    charges = analysis.charges
    if not isinstance(charges, dict):
        return
    present = {el for s in structures if s.atoms is not None
               for el in s.atoms.get_chemical_symbols()}
    mobile = [sp for sp in protocol.mobile_species if sp in present] if protocol else []
    where = ("analysis", "charges")
    problems = charge_problems(charges, mobile)
    for element, why in problems:
        errors.add(where + (element,), f"analysis.charges: {why}")
    if not problems:
        _check_net_charges(errors, charges, structures)
    missing = sorted(set(mobile) - set(charges))
    if missing:
        errors.add(where, f"analysis.charges gives no charge for the mobile species "
                          f"{', '.join(missing)}: collect could not compute sigma; add it "
                          f"(e.g. {missing[0]} = 1) or use charges = \"auto\"")


def _check_net_charges(errors: Problems, charges: dict, structures: list[StructureEntry]) -> None:
    """The charges are per atom of each run cell, which holds whole atoms: a table that
    leaves a cell charged (``Li = 0.5`` for a half-occupied Li site: its occupancy counted
    twice) gives no oxidation states
    (:func:`ionmd.structures.charge_values.net_charge_problem`)."""
    from collections import Counter

    for s in structures:
        cell = s.cell if s.cell is not None else s.atoms
        if cell is None:
            continue
        why = net_charge_problem(charges, Counter(cell.get_chemical_symbols()))
        if why:
            errors.add(("analysis", "charges"), f"analysis.charges: structure {s.name!r}: {why}")
