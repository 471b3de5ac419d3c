"""When is a diffusion run long enough? The quantities a stopping rule checks and the rule.

A rule is a comma-separated list of criteria, e.g. ``"D_rel_ci<=0.2,hops>=10"``; it holds
when every criterion holds. The quantities (:data:`QUANTITIES`) are computed on the run as
far as it got (equilibration discarded, framework drift removed) for every mobile species,
and the least favourable species decides:

* ``D_rel_ci`` -- relative half-width of the 95 % interval of D, ``(hi - lo) / (2 D)``
  (:func:`ionmd.analysis.diffusion.diffusion`); the largest over species;
* ``hops`` -- site-to-site hops counted over all ions of the species; the smallest;
* ``hops_per_ion`` -- the same per ion; the smallest;
* ``msd_exponent`` -- log-log slope of the MSD's growth above its vibrational offset in
  the fit range (1 when diffusive; :func:`ionmd.analysis.diffusion.growth_exponent`);
  ``msd_exponent>=0.8`` is a test for the end of the sub-diffusive regime;
* ``time_ps`` -- analysed time (after the discard).

A quantity that cannot be computed yet (too few frames after the discard) is None and
fails every criterion on it.

**Optional stopping.** Stopping at the first check where D's interval is narrow selects
intervals that are narrow by chance (the spread over few ions is itself noisy): measured
on lattice gases with a known D (examples/stopping_coverage.py, docs/convergence.md), the
95 % interval at a rule's stop covered the true D in 89-93 % of runs with 8 ions (93-97 %
at a fixed length), while D itself was not biased (|ln D bias| <= 0.016 +- 0.012). So each
species' values also hold ``D_ci95_at_stop``: the interval to report when the run stops by
its rule here, the same standard error at level :data:`STOPPED_LEVEL`
(:func:`interval_at_stop`), which covered in 95-98 % of those runs. The analysis of such
a run (:func:`rule_that_stopped`; ``ionmd.analysis.run_analysis.widened_at_stop``) reports its own
D at that level; fits read it back as the run's standard error (docs/convergence.md: the
300 K extrapolation of such runs then covered 95.0 %).
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ionmd.analysis.diffusion import diffusion
from ionmd.analysis.run_records import mobile_record
from ionmd.analysis.trajectory import Trajectory
from ionmd.errors import AnalysisError, IonmdError

QUANTITIES = {
    "D_rel_ci": ("relative half-width of D's 95 % interval, (hi - lo) / (2 D)", max),
    "hops": ("site-to-site hops of all mobile ions", min),
    "hops_per_ion": ("hops per mobile ion", min),
    "msd_exponent": ("log-log slope of the MSD's growth above its offset", min),
    "time_ps": ("analysed time after the discard, ps", min),
}
"""Name -> (meaning, how species combine: the least favourable value)."""

STOPPED_LEVEL = 0.99
"""Level of the Student t interval reported, as its 95 % one, by a run stopped by its rule:
calibrated by Monte Carlo (docs/convergence.md: 97.5 %, a Bonferroni split between the
decision and the report, still covered only 93 % with 8 ions; 99 % covered 95-98 %)."""

_OPS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}
_CRITERION = re.compile(r"^\s*([A-Za-z_]+)\s*(<=|>=|<|>)\s*([-+0-9.eE]+)\s*$")


@dataclass(frozen=True)
class Criterion:
    quantity: str
    op: str
    threshold: float

    def holds(self, values: dict) -> bool:
        value = values.get(self.quantity)
        return value is not None and bool(_OPS[self.op](value, self.threshold))

    def __str__(self) -> str:
        return f"{self.quantity}{self.op}{self.threshold:g}"


def parse_rule(text: str) -> list[Criterion]:
    """``"D_rel_ci<=0.2,hops>=10"`` -> criteria.

    Raises
    ------
    IonmdError
        On an unknown quantity, operator or number (naming the known quantities).
    """
    items = [s for s in text.split(",") if s.strip()]
    if not items:
        raise IonmdError(f"empty stopping rule {text!r}; give e.g. D_rel_ci<=0.2,hops>=10")
    rule = []
    for item in items:
        m = _CRITERION.match(item)
        known = ", ".join(QUANTITIES)
        if not m:
            raise IonmdError(f"cannot read the criterion {item.strip()!r} of the stopping rule: "
                             f"write QUANTITY<=NUMBER (or >=, <, >), e.g. D_rel_ci<=0.2; "
                             f"quantities: {known}")
        name, op, number = m.groups()
        if name not in QUANTITIES:
            raise IonmdError(f"unknown quantity {name!r} in the stopping rule; known: {known}")
        try:
            threshold = float(number)
        except ValueError:
            raise IonmdError(f"{number!r} in {item.strip()!r} is no number") from None
        if not np.isfinite(threshold):
            raise IonmdError(f"the threshold of {item.strip()!r} must be a finite number")
        rule.append(Criterion(name, op, threshold))
    return rule


def rule_holds(rule: Sequence[Criterion], values: dict) -> bool:
    return all(c.holds(values) for c in rule)


def convergence_values(traj: Trajectory, mobile_species: Sequence[str], *,
                       fit_start_ps: float = 1.0, hop_length: float = 1.5) -> dict:
    """The quantities of :data:`QUANTITIES` for an analysis-ready trajectory (unwrapped,
    equilibration discarded, framework drift removed), plus ``D`` and ``D_ci95`` of each
    species (cm^2/s) and ``note`` when something could not be computed. Deterministic, so
    that a check repeated on the same frames agrees."""
    from ionmd.analysis.trajectory import species_list

    total = float(traj.times_ps[-1])
    per_species, note = {}, None
    for species in species_list(mobile_species):
        try:
            # a window longer than the run skips the windowed fits: no check uses them
            d = diffusion(traj, species, "xyz", fit_start_ps=fit_start_ps, hop_length=hop_length,
                          window_ps=total + 1.0)
        except AnalysisError as exc:
            note = str(exc)
            break
        rec = mobile_record(d.to_dict())      # D_rel_ci and hops as every report shows them
        per_species[species] = {k: rec[k] for k in ("D", "D_ci95", "D_rel_ci", "hops",
                                                    "hops_per_ion", "n_ions")}
        per_species[species]["msd_exponent"] = d.msd_exponent
        per_species[species]["D_ci95_at_stop"] = interval_at_stop(d.D, d.D_std, d.n_ions)
    if note is not None:
        return unknown_values(time_ps=total, note=note)
    values: dict = {"time_ps": total}
    for name, (_, worst) in QUANTITIES.items():
        if name != "time_ps":
            found = [v[name] for v in per_species.values()]
            values[name] = None if any(x is None for x in found) else float(worst(found))
    values["species"] = per_species
    return values


def interval_at_stop(D: float, stderr: float, n_ions: int,
                     level: float = STOPPED_LEVEL) -> list[float]:
    """D's Student t interval over ``n_ions`` ions (``n_ions - 1`` degrees of freedom) at
    ``level``, clipped at 0 as the 95 % one is: the interval a run stopped by its rule
    reports (the stop selected a narrow 95 % one; module docstring)."""
    from scipy.stats import t as student_t

    half = float(student_t.ppf(0.5 + level / 2, n_ions - 1)) * stderr
    return [max(D - half, 0.0), max(D + half, 0.0)]


def interval_quantile_at(n_ions: int | None, level: float = 0.95) -> float:
    """Half-width in standard errors of D's Student t interval over ``n_ions`` ions at
    ``level`` (the normal quantile where the ions are unknown): how a fit reads a D's
    interval back as its standard error, whichever level it was reported at."""
    from scipy.stats import norm
    from scipy.stats import t as student_t

    p = 0.5 + level / 2
    return float(student_t.ppf(p, n_ions - 1)) if n_ions and n_ions >= 2 else float(norm.ppf(p))


def rule_that_stopped(status: dict | None) -> str | None:
    """The stopping rule (``status.json``'s ``stopping.until``) where it stopped the run
    (``stop_reason == "converged"``) on D's interval (a criterion on ``D_rel_ci``): the
    stop selected a narrow 95 % interval, so the run's D is reported at
    :data:`STOPPED_LEVEL` (module docstring). None for any other run: one that ran to its
    ``max_time`` or its planned length, or a rule on hops alone."""
    if not status or status.get("stop_reason") != "converged":
        return None
    until = (status.get("stopping") or {}).get("until")
    try:
        rule = parse_rule(until) if until else []
    except IonmdError:
        return None
    return until if any(c.quantity == "D_rel_ci" for c in rule) else None


def rule_fit_start(status: dict | None) -> float | None:
    """The MSD fit start (ps) the checks of a run's stopping rule used (``status.json``'s
    ``stopping.fit_start_ps``): where an analysis fits from another, its D and interval are
    not the ones the rule decided on (a run marked converged on D_rel_ci <= 0.3 printed
    0.45). None for a run without a rule, or a record without it."""
    value = ((status or {}).get("stopping") or {}).get("fit_start_ps")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        return None
    return float(value)


def unknown_values(**fields) -> dict:
    """Every quantity unknown (None: no criterion on it holds), plus ``fields`` (a
    ``note`` or ``failure`` saying why)."""
    return {**dict.fromkeys(QUANTITIES), **fields}


def check_run(path, *, fit_start_ps: float = 1.0) -> dict:
    """:func:`convergence_values` of a run directory as far as it got, plus ``failure``
    (the post-mortem of :func:`ionmd.analysis.run_failure.failures_of`: a melted framework or
    a runaway temperature ends a converging run, since its D means nothing)."""
    from ionmd.analysis.run_analysis import transport_trajectory
    from ionmd.analysis.run_failure import failures_of
    from ionmd.analysis.run_inputs import run_frames
    from ionmd.analysis.run_spec import load_run_spec

    spec = load_run_spec(path)
    frames, elements, masses = run_frames(spec)
    failure = failures_of(spec, (frames, elements, masses))
    if failure.failed:
        first = failure.first
        return unknown_values(time_ps=None, failure={"mode": first.mode, "step": first.step,
                                                     "detail": first.detail})
    try:
        traj = transport_trajectory(spec, frames, elements, masses)
    except AnalysisError as exc:     # not yet past the discard
        return unknown_values(time_ps=0.0, note=str(exc))
    return convergence_values(traj, spec.mobile_species, fit_start_ps=fit_start_ps)
