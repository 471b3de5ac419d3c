"""Spending a compute budget on sigma(300 K): which run to extend (or which temperature
to add) next, by the expected narrowing of the extrapolated interval per unit cost.

sigma(300 K) comes from an Arrhenius fit of D over a few high temperatures: ``collect``'s
fit, least squares in D itself, each point weighted by its standard error in D
(:func:`ionmd.analysis.arrhenius_linear.fit_arrhenius_linear`, since Dec 7 2026; in ln D the
cold runs' noise biased Ea low). At convergence its covariance is that of the weighted line
fit in ``ln D`` on ``1/T`` with each point's ln error its standard error in D over the
fitted curve there, ``se / f``, so the model prices every option by that line fit
(:func:`ln_var_at`) with those errors. The 95 % interval is ``exp(+-q sd)`` about the fitted
value, ``sd`` the standard error of the fitted ``ln D`` at 300 K from the fit's full
parameter covariance, ``q`` the studentized bootstrap quantile of the fit over the runs'
ions, as ``collect``'s fit has it (1.96 where the runs' intervals are normal:
:func:`extrapolation_factor`). ``sigma T`` is proportional to D (Nernst-Einstein at fixed
volume and carrier count), so sigma(300 K) is known within the same factor
``f = exp(q sd)`` either way as D(300 K).

Error model. The variance of a run's D falls as ``1 / t``: extending a run of ``t`` ps by
``dt`` is expected to give ``var * t / (t + dt)`` (``var`` from its 95 % interval, its
half-width over the interval's quantile, the upper half where clipped at zero, as
``collect`` reads it: :func:`ionmd.analysis.replica_combination.linear_se`); over the fitted curve
``f`` it is the point's relative variance, ``var / f^2``. How it depends on D is less
simple: measured with ionmd's estimator on lattice random walks (16 ions, 2.5 A hops, 200
seeds each), the relative variance times ``t`` is ``A + B / D``: ``K = var / D^2 * D * t``
is constant (0.09 A^2) only while an ion makes few hops per ps (D <~ 0.5 A^2/ps, the hops
counted), and grows with D beyond (0.12, 0.27, 0.94 A^2 at D = 0.5, 2.1, 8.3 A^2/ps) as the
variance times ``t`` levels off at a floor set by the MSD fit's lags (0.11 ps). ``K``
therefore rises with D, and a new temperature gets the K of the runs nearest to it in
``1 / T`` (interpolated in ``ln K`` between the neighbours, the nearest end's beyond them:
:func:`new_run_K`), with the D the current fit predicts there (the walks: 1.0-1.4x their
variance on average, where the runs' median K had made new low temperatures look 2-3x more
uncertain than they are; ``tests/test_budget_error_model.py``). The variance of the fitted
``ln D(300 K)`` depends only on the temperatures and these relative variances, so every
option is priced without new data.

Decision rule (:func:`next_step`). Each option (extend a run by ``step_ps``, start a run at
a candidate temperature) is scored by ``(var_now - var_after) / cost``, the reduction of
``var(ln D(300 K))`` per cost unit, and the best one is taken. :func:`spend_budget` repeats
this until the goal factor is met or the budget is spent, executing each choice through a
callback (a real run, or by default the error model's prediction: a plan).

Cost units are whatever the caller counts (core-hours, GPU-hours); the cost per simulated
ps of a run comes from its own LAMMPS logs (:func:`cost_per_ps_from_logs`).
"""


from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from statistics import median
from typing import Callable, Sequence

import numpy as np

from ionmd.analysis.aggregate import arrhenius_of_points
from ionmd.analysis.arrhenius import KB_EV, ArrheniusFit
from ionmd.analysis.arrhenius_bootstrap import studentized_quantile
from ionmd.analysis.arrhenius_linear import fit_arrhenius_linear
from ionmd.analysis.arrhenius_problems import (MAX_SPAN_DECADES, NOT_DIFFUSIVE_FLAGS,
                                               fit_problem, flagged_points)
from ionmd.errors import AnalysisError
from ionmd.protocols.checks import temperature_folder
from ionmd.sweep.allocate_first import (failed_below, failed_text, resolve_first,
                                        run_cost_per_ps, scattered_temperatures,
                                        warmer_candidates)
from ionmd.sweep.allocate_runs import Z95, Decision, Option, TemperatureRun

def reported_fit(runs: Sequence[TemperatureRun], target_K: float = 300.0) -> ArrheniusFit:
    """``collect``'s Arrhenius fit of ``runs`` (:func:`ionmd.analysis.aggregate.
    arrhenius_of_points`: replicas combined per temperature, the covariance scaled by
    max(1, chi2 / dof), the studentized bootstrap quantile), extrapolated to
    ``target_K``: the interval a goal is met by is the one collect reports.

    Raises
    ------
    ionmd.errors.AnalysisError
        Fewer than 2 temperatures with a usable run, or the fit failed.
    """
    return _collect_fit(runs, target_K)[0]


def _collect_fit(runs: Sequence[TemperatureRun], target_K: float) -> tuple[ArrheniusFit, dict]:
    """:func:`reported_fit` and collect's record of it (its ``not_diffusive_T``)."""
    out = _collect_record(runs)
    return verdict_at(out, target_K, _unit_of(runs)).fit, out


def _collect_record(runs: Sequence[TemperatureRun]) -> dict:
    """Collect's Arrhenius fit of ``runs``' points, as its record
    (:func:`ionmd.analysis.aggregate.arrhenius_of_points`).

    Raises
    ------
    ionmd.errors.AnalysisError
        Fewer than 2 temperatures with a usable run, or the fit failed.
    """
    points = [r.point() for r in runs if r.usable or r.within_scatter]
    out = arrhenius_of_points(points, times_T=False)
    if out is None or "error" in out:
        raise AnalysisError(((out or {}).get("error") or "the Arrhenius fit needs usable runs "
                             "at >= 2 distinct temperatures") + _left_out_text(runs))
    return out


def _unit_of(runs: Sequence[TemperatureRun]) -> str:
    """The unit of the runs' quantity (:attr:`TemperatureRun.unit`; "" where none says)."""
    return next((r.unit for r in runs if r.unit), "")


@dataclass(frozen=True)
class Verdict:
    """What collect's Arrhenius fit says at a temperature (:func:`verdict_at`)."""

    fit: ArrheniusFit           # extrapolated there, in the series' own quantity
    value: float                # as collect prints it: sigma T said as sigma
    ci95: tuple[float, float]
    unit: str
    factor: float               # f of the interval [value / f, value * f]; inf: unbounded
    fit_problem: str | None     # why it means nothing (arrhenius_problems), None: a result
    # fitted points not yet diffusive (arrhenius_problems.flagged_points): no goal is met
    # while one is, however narrow the interval; and their temperatures
    flagged: tuple[str, ...] = ()
    flagged_T: tuple[float, ...] = ()

    def meets(self, factor: float) -> bool:
        """Whether this verdict meets a goal of ``factor``: a result (no fit problem),
        within the factor, on no point flagged not diffusive."""
        return self.fit_problem is None and self.factor <= factor and not self.flagged


def verdict_at(out: dict, target_K: float, unit: str) -> Verdict:
    """What collect's Arrhenius fit of a series (``out``: its record,
    :func:`ionmd.analysis.aggregate.arrhenius_of_points`, in ``unit``: the goal's sigma T,
    :data:`SIGMA_T_UNIT`, said as sigma in mS/cm) says at ``target_K``: the value, its
    95 % interval, its factor and why it means nothing there
    (:func:`ionmd.analysis.arrhenius_problems.fit_problem`: Ea <= 0, an interval spanning
    more than :data:`~ionmd.analysis.arrhenius_problems.MAX_SPAN_DECADES` decades, every
    fitted temperature flagged not diffusive), and which fitted points are flagged not
    diffusive (:func:`~ionmd.analysis.arrhenius_problems.flagged_points`: a goal is not met
    on them, :meth:`Verdict.meets`). The one home of the goal's verdict
    (:func:`reported_state`) and of what ``collect`` reports at a goal's ``target_K``
    (:func:`ionmd.sweep.collect_target.at_goal_target`): the same numbers on both sides."""
    fit = ArrheniusFit.from_dict(out)
    value, lo, hi = (float(v) for v in fit.interval(np.array(float(target_K))))
    fit = replace(fit, T_extrapolated=float(target_K), y_extrapolated=value,
                  y_extrapolated_ci95=(lo, hi))
    scale = 1.0 / target_K if unit == SIGMA_T_UNIT else 1.0
    said_unit = "mS/cm" if unit == SIGMA_T_UNIT else unit
    said = (lo * scale, hi * scale)
    problem = fit_problem(fit.Ea_eV, said, float(target_K),
                          [p["temperature_K"] for p in out["points"]],
                          out.get("not_diffusive_T", []), unit=said_unit)
    flagged = [p for p in out["points"]
               if set(p.get("flags", [])) & set(NOT_DIFFUSIVE_FLAGS)]
    return Verdict(fit, value * scale, said, said_unit,
                   float(np.sqrt(hi / lo)) if lo > 0 else float("inf"), problem,
                   tuple(flagged_points(flagged)),
                   tuple(float(p["temperature_K"]) for p in flagged))


def _left_out_text(runs: Sequence[TemperatureRun]) -> str:
    """``"; left out: <why>; <why>"`` of the runs that are not usable, else ``""``."""
    bound = failed_below(runs)
    whys = [w for w in (r.why_left_out(bound) for r in runs) if w]
    return f"; left out: {'; '.join(whys)}" if whys else ""


def reported_factor(runs: Sequence[TemperatureRun], target_K: float = 300.0) -> float:
    """``f`` of the 95 % interval ``[y / f, y * f]`` at ``target_K`` that ``collect``
    reports for ``runs`` (:func:`reported_fit`); inf where collect can fit nothing yet.
    A narrow interval may still mean nothing (Ea <= 0, every point not diffusive): the
    goal reads :func:`reported_state`, which says so."""
    return reported_state(runs, target_K)[0]


def reported_state(runs: Sequence[TemperatureRun], target_K: float = 300.0
                   ) -> tuple[float, str | None]:
    """:func:`reported_factor` and why collect's fit means nothing at ``target_K``
    (:func:`verdict_at`), None where it may be read. A fit with a problem never meets a
    goal, however narrow its interval: one with Ea <= 0 over noise can be narrow and says
    nothing of ``target_K``. Before, the span was left to the goal's factor, and a goal of
    factor 1e6 was met by an interval collect prints as NOT A RESULT (12 decades): a factor
    above ``10 ** (MAX_SPAN_DECADES / 2)`` (100) is met only within 100. Ea and the flags
    do not depend on the temperature; the span is that of the extrapolation to
    ``target_K`` (the goal's quantity is sigma there): collect's 300 K span is
    :func:`extrapolation_problem`'s."""
    try:
        verdict = verdict_at(_collect_record(runs), target_K, _unit_of(runs))
    except AnalysisError:   # collect has no fit yet (too few temperatures resolved)
        return float("inf"), None
    return verdict.factor, verdict.fit_problem


def reported_verdict(runs: Sequence[TemperatureRun], target_K: float = 300.0
                     ) -> Verdict | None:
    """:func:`verdict_at` of collect's fit of ``runs`` at ``target_K`` (what a goal is met
    by: :meth:`Verdict.meets`); None where collect has no fit yet."""
    try:
        return verdict_at(_collect_record(runs), target_K, _unit_of(runs))
    except AnalysisError:
        return None


def extrapolation_problem(runs: Sequence[TemperatureRun], at_K: float = 300.0) -> str | None:
    """Why collect's extrapolation of ``runs`` to ``at_K`` (300 K: what ``collect`` prints)
    is no result where the fit itself may be read: its 95 % interval there spans more than
    :data:`~ionmd.analysis.arrhenius_problems.MAX_SPAN_DECADES` decades (collect's NOT A
    RESULT). None where it spans less, or collect has no fit. A goal at another
    ``target_K`` is met by the interval there (:func:`reported_state`) and says this beside
    it: sigma(620 K) of two runs at 600 and 650 K may be known within 1.1 while their 300 K
    interval spans 9.6 decades."""
    try:
        verdict = verdict_at(_collect_record(runs), at_K, _unit_of(runs))
    except AnalysisError:
        return None
    (lo, hi), unit = verdict.ci95, verdict.unit
    span = float(np.log10(hi / lo)) if lo > 0 and np.isfinite(hi) else np.inf
    if span <= MAX_SPAN_DECADES:
        return None
    return (f"its 95 % interval at {at_K:g} K, [{lo:.3g}, {hi:.3g}]{' ' + unit if unit else ''}"
            f", spans {span:.3g} decades (more than {MAX_SPAN_DECADES:g}): `ionmd sweep collect` "
            f"prints it as NOT A RESULT")


SIGMA_T_UNIT = "mS K/cm"
"""The unit of a run's Nernst-Einstein sigma T (:attr:`TemperatureRun.unit` where the goal
fits it: :func:`ionmd.sweep.goal.series_quantity`)."""


def extrapolation_factor(temperatures_K: Sequence[float], ln_vars: Sequence[float],
                         dofs: Sequence[float], ln_var: float, target_K: float) -> float:
    """``exp(q sd)`` of the fitted ln D at ``target_K`` (``sd = sqrt(ln_var)``), ``q`` the
    quantile collect's fit gives its interval for points with these (ln) variances
    and ``dofs``: its studentized bootstrap quantile where some dof is finite (the PDG scale
    in its draws from 3 temperatures, as collect's scatter test has it), else 1.96."""
    T, nu = np.asarray(temperatures_K, float), np.asarray(dofs, float)
    if not np.any(np.isfinite(nu)):
        return float(np.exp(1.96 * np.sqrt(ln_var)))
    q = studentized_quantile(np.array([[1.0, -1.0 / (KB_EV * target_K)]]), -1.0 / (KB_EV * T),
                             np.sqrt(np.asarray(ln_vars, float)), nu, scaled=T.size > 2)[0]
    return float(np.exp(q * np.sqrt(ln_var)))


def ln_var_at(temperatures_K: Sequence[float], ln_vars: Sequence[float], target_K: float) -> float:
    """Variance of the weighted least-squares fitted ln D at ``target_K``.

    The fit of ``ln D = a + b / T`` with weights ``1 / ln_vars`` has parameter covariance
    ``(X^T W X)^-1``; the prediction at ``x0 = (1, 1 / target_K)`` has variance
    ``x0 (X^T W X)^-1 x0``. With ``ln_vars`` the points' variances in D over the fitted
    curve squared, this is the fit in D's extrapolation error (its Gauss-Newton covariance,
    :func:`~ionmd.analysis.arrhenius_linear.fit_arrhenius_linear`; without its inflation by
    excess scatter), and it does not depend on the D values, so hypothetical designs are
    priced without data. The abscissa is ``1000 / T`` to keep the
    2 x 2 matrix well conditioned (a linear change of variable leaves the prediction as is).
    """
    x = 1000.0 / np.asarray(temperatures_K, float)
    w = 1.0 / np.asarray(ln_vars, float)
    info = np.array([[w.sum(), (w * x).sum()], [(w * x).sum(), (w * x * x).sum()]])
    x0 = np.array([1.0, 1000.0 / target_K])
    return float(x0 @ np.linalg.solve(info, x0))


def new_run_K(runs: Sequence[TemperatureRun], temperature_K: float) -> float:
    """``K = var(D) / D^2 * D * t`` expected of a new run at ``temperature_K`` (module
    docstring): the usable runs' K, their median per temperature, interpolated in
    ``ln K`` against ``1 / T`` between the temperatures around it, the nearest one's
    beyond the range."""
    by_T: dict[float, list[float]] = {}
    for r in runs:
        if r.usable and not r.failed:
            by_T.setdefault(float(r.temperature_K), []).append(r.K)
    temps = sorted(by_T, reverse=True)                  # 1 / T increasing, as np.interp needs
    ln_K = [np.log(median(by_T[T])) for T in temps]
    return float(np.exp(np.interp(1.0 / temperature_K, 1.0 / np.array(temps), ln_K)))


def next_step(runs: Sequence[TemperatureRun], *, step_ps: float, target_K: float = 300.0,
              candidates_K: Sequence[float] = (),
              discard_ps: float | Callable[[float], float] = 0.0,
              budget_left: float | None = None) -> Decision:
    """The option with the largest expected reduction of ``var(ln D(target_K))`` per cost.

    Parameters
    ----------
    runs : sequence of TemperatureRun
        Runs at >= 2 distinct temperatures (several runs at one temperature are allowed).
        Runs without a positive D and interval are left out (``Decision.ignored``), but
        for those below zero within their scatter (:attr:`TemperatureRun.
        within_scatter`): their temperature's runs are combined in D as collect combines
        them, a point where that is resolved, and extended either way (one not resolved
        priced as adding it at the fit's D there; ``Decision.not_resolved`` says why).
        With too few resolved temperatures for a fit (``Decision.factor`` inf), a new run
        at the coldest candidate warmer than every temperature without a point (a failed
        run's passed over: :attr:`TemperatureRun.failed`; none left: warmer than the
        fitted one) comes first, else the runs not resolved are extended (:func:`ionmd.sweep.allocate_first.resolve_first`).
    step_ps : float
        Analysed ps an option adds: an extension of a run, or the length of a new run.
    target_K : float
        Temperature of the extrapolation (300 K).
    candidates_K : sequence of float
        Temperatures where a new run may start (e.g. the preset's range); those of
        existing runs are skipped (extending is the same at a lower cost), as are those
        whose run folder is a run's (``T1200K`` for 1200.004 K and 1200 K: one
        temperature, see :func:`ionmd.protocols.checks.temperature_folder`) or an earlier
        candidate's.
    discard_ps : float or callable
        Equilibration a new run spends before its analysed time (costed, not analysed);
        a callable gives it per temperature (a protocol's longer discard below
        ``long_below_K``: ``Protocol.schedule``).
    budget_left : float, optional
        Options are shortened to what it pays for (a new run needs at least its discard).

    Returns
    -------
    Decision

    Raises
    ------
    ionmd.errors.AnalysisError
        Fewer than 2 distinct temperatures with a usable D, and none not resolved to extend
        nor a candidate temperature warmer than those without a point (or the fitted one)
        to start.
    ValueError
        A non-positive step or cost per ps.
    """
    discard_at = discard_ps if callable(discard_ps) else (lambda T: discard_ps)
    discards = [discard_at(T) for T in candidates_K] or (
        [] if callable(discard_ps) else [discard_ps])
    if not step_ps > 0 or not all(d >= 0 for d in discards):
        raise ValueError(f"step_ps must be > 0 and discard_ps >= 0, got {step_ps}, "
                         f"{discards}")
    runs = list(runs)
    # a failed run without a point is never extended: it may have no cost of its own
    bad_cost = [r.temperature_K for r in runs if not r.cost_per_ps > 0
                and not (r.failed and not r.usable and np.isnan(r.cost_per_ps))]
    if bad_cost:
        raise ValueError(f"cost_per_ps must be > 0 (runs at {bad_cost} K)")
    # the verdict is collect's fit of every point it counts (a failed run's too), whatever
    # the model below leaves out of its planning
    verdict = reported_verdict(runs, target_K)
    reported, problem = (verdict.factor, verdict.fit_problem) if verdict else (np.inf, None)
    flagged = list(verdict.flagged) if verdict else []
    # a failed run's point (a melted framework's ions) is not how ions move there
    used = [i for i, r in enumerate(runs) if r.usable and not r.failed]
    groups = scattered_temperatures(runs)
    grouped = {i for g in groups for i in g.runs}
    used = [i for i in used if i not in grouped]
    resolved = [g for g in groups if g.combined.get("resolved")]
    unresolved = [g for g in groups if not g.combined.get("resolved")]
    left = [i for i in range(len(runs)) if i not in used and i not in grouped]
    ignored = [runs[i].key if runs[i].key is not None else runs[i].temperature_K for i in left]
    ignored_why = [runs[i].why_left_out(failed_below(runs)) for i in left]
    not_resolved = [g.reason for g in unresolved]
    # the model's points: each usable run, and each resolved temperature's runs combined,
    # with their variances in D; fitted in D as collect fits them
    T = np.array([runs[i].temperature_K for i in used] + [g.temperature_K for g in resolved])
    linear_var = np.array([runs[i].linear_var for i in used]
                          + [g.linear_var(runs) for g in resolved])
    dof = np.array([runs[i].dof for i in used] + [g.combined["dof"] for g in resolved])
    values = np.array([runs[i].D for i in used] + [g.combined["value"] for g in resolved])
    try:
        fit = fit_arrhenius_linear(T, values, np.sqrt(linear_var),
                                   T_extrapolate=target_K, scatter_p=0.0,   # the model's
                                   y_err_dof=dof)
    except AnalysisError as exc:        # too few temperatures: say which runs gave none
        warmer = warmer_candidates(runs, T, candidates_K, step_ps, budget_left, discard_at)
        if unresolved or warmer:        # nothing to price by: a second point first
            return replace(resolve_first(runs, unresolved, step_ps, budget_left, target_K,
                                         ignored, ignored_why, warmer),
                           reported_factor=reported, fit_problem=problem,
                           flagged_points=flagged)
        failed = failed_text(runs)
        raise AnalysisError(f"{exc}{_left_out_text(runs)}" + (
            f"; no candidate temperature colder than the failed runs {failed} to start"
            if failed else "")) from exc
    # the fit's ln errors at convergence: each point's error in D over the fitted curve
    # (those it computed its covariance and quantile from, to the bit)
    var = np.array([e for _, e, _ in fit.point_errors]) ** 2
    var_now = ln_var_at(T, var, target_K)

    def option(action, temp, dt, cost, var_after, run=None, key=None, temps=T, v=var, nu=dof):
        f = extrapolation_factor(temps, v, nu, var_after, target_K)
        return Option(action, float(temp), float(dt), float(cost), var_after, f,
                      (var_now - var_after) / cost, run, key)

    def step_of(r: TemperatureRun) -> float:
        dt = min(step_ps, r.room_ps)
        return dt if budget_left is None else min(dt, budget_left / r.cost_per_ps)

    options = []
    for j, i in enumerate(used):
        r = runs[i]
        dt = step_of(r)
        if dt <= 0:
            continue
        v = var.copy()
        v[j] *= r.time_ps / (r.time_ps + dt)
        options.append(option("extend", r.temperature_K, dt, dt * r.cost_per_ps,
                              ln_var_at(T, v, target_K), run=i, key=r.key, v=v))
    # a temperature whose runs reach below zero: the runs extended, the combination
    # narrowing as 1 / t (a resolved one in place of its point; one not resolved added at
    # the fit's D there, as a new temperature is, with what its runs have already run);
    # either way its variance over the fitted curve, as the fit in D weighs its points
    for k, g in enumerate(resolved + unresolved):
        at = len(used) + k if k < len(resolved) else None
        D_g = float(np.exp(fit.predict_ln(np.array(g.temperature_K))[0]))
        for i in g.runs:
            r, dt = runs[i], step_of(runs[i])
            if dt <= 0:
                continue
            v_g = g.linear_var(runs, extended=i, dt=dt) / D_g ** 2
            if at is not None:
                v, temps, nu = var.copy(), T, dof
                v[at] = v_g
            else:
                v, temps = np.append(var, v_g), np.append(T, g.temperature_K)
                nu = np.append(dof, g.combined["dof"])
            options.append(option("extend", r.temperature_K, dt, dt * r.cost_per_ps,
                                  ln_var_at(temps, v, target_K), run=i, key=r.key, temps=temps,
                                  v=v, nu=nu))
    cost_per_ps = run_cost_per_ps(runs)
    taken = {temperature_folder(r.temperature_K) for r in runs}
    cap = failed_below(runs)           # nothing at or above a temperature that failed
    for Tc in candidates_K:
        if temperature_folder(Tc) in taken or not Tc < cap:
            continue
        taken.add(temperature_folder(Tc))
        dt, discard = step_ps, discard_at(Tc)
        if budget_left is not None:
            dt = min(dt, budget_left / cost_per_ps - discard)
        if dt <= 0:
            continue
        D_c = float(np.exp(fit.predict_ln(np.array(float(Tc)))[0]))
        v_new = new_run_K(runs, Tc) / (D_c * dt)
        temps, v = np.append(T, Tc), np.append(var, v_new)
        options.append(option("new", Tc, dt, (dt + discard) * cost_per_ps,   # the same ions
                              ln_var_at(temps, v, target_K), temps=temps, v=v,
                              nu=np.append(dof, float(np.median(dof)))))
    options.sort(key=lambda o: -o.gain_per_cost)
    options = _flagged_first(runs, options, verdict)
    return Decision(target_K=float(target_K), D_target=fit.y_extrapolated, ln_var=var_now,
                    factor=extrapolation_factor(T, var, dof, var_now, target_K),
                    choice=options[0] if options else None,
                    options=options, ignored=ignored, fit=fit, ignored_why=ignored_why,
                    reported_factor=reported, fit_problem=problem,
                    not_resolved=not_resolved, flagged_points=flagged)


def _flagged_first(runs: Sequence[TemperatureRun], options: list[Option],
                   verdict: Verdict | None) -> list[Option]:
    """``options`` (best first) with the best extension of a run whose fitted point is
    flagged not diffusive (:attr:`Verdict.flagged`) moved first, its ``why`` saying so: no
    goal is met while such a point is fitted, and a longer run is what clears its flag
    (more hops; a fit window whose sub-diffusive start weighs less), whatever the error
    model, blind to the bias, says of its gain. Unchanged where no flagged run can be
    extended (a failed run is never)."""
    if verdict is None or not verdict.flagged:
        return options
    temps = set(verdict.flagged_T)
    runs_flagged = {i for i, r in enumerate(runs) if float(r.temperature_K) in temps
                    and not r.failed and set(r.flags) & set(NOT_DIFFUSIVE_FLAGS)}
    first = next((o for o in options if o.action == "extend" and o.run in runs_flagged), None)
    if first is None:
        return options
    flags = ", ".join(f for f in runs[first.run].flags if f in NOT_DIFFUSIVE_FLAGS)
    chosen = replace(first, why=f"its point is flagged {flags}: no goal is met on it until "
                                f"a longer run clears that")
    return [chosen] + [o for o in options if o is not first]


def cost_per_ps_from_logs(run_dir: str | Path, *, timestep_fs: float, units: float = 1.0,
                          cores: int | None = None) -> float | None:
    """Cost units per simulated ps of a run, from the ``Loop time`` lines of its logs.

    ``units * hours / ps``: total loop wall seconds over total steps of every finished MD
    ``run`` (minimisations and ``run 0`` left out) in the run's logs (every piece), times
    the steps per ps. ``units`` is what one run occupies in the caller's cost unit at the
    planned resources: ranks x threads for core-hours, GPUs for GPU-hours. ``cores``: the
    planned ranks x threads; loops measured on other cores (``on N procs`` is ranks x
    threads) are converted at equal core-seconds (:func:`ionmd.sweep.cost.wall_seconds_at`),
    so that a core-hour cost is what the logs' runs really used whatever their resources.
    None when no log has a finished run (a new run: use its neighbours').
    """
    from ionmd.sweep.cost import run_loops, wall_seconds_at

    timed = wall_seconds_at(run_loops([run_dir]), cores)
    steps = sum(loop.steps for _, loop in timed)
    if steps == 0:
        return None
    seconds = sum(t for t, _ in timed)
    return units * seconds / steps * (1000.0 / timestep_fs) / 3600.0


# the budget's rounds, importers' names here (allocate_plan reads next_step above)
from ionmd.sweep.allocate_plan import BudgetOutcome, predict_outcome, spend_budget  # noqa: E402

__all__ = ["Z95", "BudgetOutcome", "Decision", "Option", "TemperatureRun",
           "cost_per_ps_from_logs", "extrapolation_factor", "ln_var_at", "new_run_K", "next_step",
           "extrapolation_problem", "predict_outcome", "reported_factor", "reported_fit",
           "reported_state", "reported_verdict", "spend_budget", "Verdict", "verdict_at"]
