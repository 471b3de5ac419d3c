"""Spending a compute budget on sigma(300 K): which run to extend (or which temperature
to add) next, by the expected narrowing of the extrapolated interval per unit cost.

sigma(300 K) comes from an Arrhenius fit of D over a few high temperatures, weighted
least squares of ``ln D`` on ``1/T`` (:func:`ionmd.analysis.arrhenius.fit_arrhenius`);
its 95 % interval is ``exp(+-q sd)`` about the fitted value, ``sd`` the standard error
of the fitted ``ln D`` at 300 K from the fit's full parameter covariance, ``q`` the
studentized bootstrap quantile of the fit over the runs' ions, as ``collect``'s fit has it
(1.96 where the runs' intervals are normal: :func:`extrapolation_factor`). ``sigma T`` is
proportional to D (Nernst-Einstein at fixed volume and carrier count), so sigma(300 K) is
known within the same factor ``f = exp(q sd)`` either way as D(300 K).

Error model. The variance of a run's ``ln D`` falls as ``1 / t``: extending a run of
``t`` ps by ``dt`` is expected to give ``var * t / (t + dt)`` (``var`` from its 95 %
interval, ``(ln(hi / lo) / (2 q))**2``, ``q`` the interval's quantile, its lower half
capped as ``collect`` reads it: :func:`ionmd.analysis.arrhenius.ln_error_from_interval`
with the run's D). How it depends on D
is less simple: measured with ionmd's estimator on lattice random walks (16 ions, 2.5 A
hops, 200 seeds each), ``var * t`` is ``A + B / D``: ``K = var * D * t`` is constant
(0.09 A^2) only while an ion makes few hops per ps (D <~ 0.5 A^2/ps, the hops counted), and
grows with D beyond (0.12, 0.27, 0.94 A^2 at D = 0.5, 2.1, 8.3 A^2/ps) as ``var * t`` levels
off at a floor set by the MSD fit's lags (0.11 ps). ``K`` therefore rises with D, and a new
temperature gets the K of the runs nearest to it in ``1 / T`` (interpolated in ``ln K``
between the neighbours, the nearest end's beyond them: :func:`new_run_K`), with the D the
current fit predicts there (the walks: 1.0-1.4x their variance on average, where the
runs' median K had made new low temperatures look 2-3x more uncertain than they are;
``tests/test_budget_error_model.py``). The variance of the fitted ``ln D(300 K)`` depends
only on the temperatures and these variances, not on the D values, so every option is
priced without new data.

Decision rule (:func:`next_step`). Each option (extend a run by ``step_ps``, start a run at
a candidate temperature) is scored by ``(var_now - var_after) / cost``, the reduction of
``var(ln D(300 K))`` per cost unit, and the best one is taken. :func:`spend_budget` repeats
this until the goal factor is met or the budget is spent, executing each choice through a
callback (a real run, or by default the error model's prediction: a plan).

Cost units are whatever the caller counts (core-hours, GPU-hours); the cost per simulated
ps of a run comes from its own LAMMPS logs (:func:`cost_per_ps_from_logs`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from statistics import median
from typing import Any, Callable, Sequence

import numpy as np

from ionmd.analysis.aggregate import (Point, arrhenius_of_points, combine_points, interval_dof,
                                      linear_se, not_resolved_entry, point_problem,
                                      within_scatter)
from ionmd.analysis.arrhenius import (KB_EV, ArrheniusFit, fit_arrhenius, ln_error_from_interval,
                                      studentized_quantile, t95)
from ionmd.errors import AnalysisError
from ionmd.protocols.checks import temperature_folder

Z95 = 1.96


@dataclass
class TemperatureRun:
    """What the allocator needs of one run (or of the replicas of one temperature combined).

    Attributes
    ----------
    temperature_K : float
    time_ps : float
        Analysed time so far (after the discarded equilibration; replicas: their sum).
    D : float
        Diffusion coefficient, cm^2/s (point estimate).
    D_ci95 : (float, float)
        Its 95 % interval (a lower end of 0, from a run of few hops: read from its upper
        half, as ``collect`` reads it: :func:`ionmd.analysis.arrhenius.ln_error_from_interval`
        with ``D``).
    cost_per_ps : float
        Cost units (core-hours, GPU-hours) per simulated ps, from the run's own logs.
    key : any
        Whatever identifies the run for the caller (a path, a run id).
    max_time_ps : float or None
        Longest analysed time the run may reach (None: unlimited).
    quantile : float
        Half-width of ``D_ci95`` in standard errors: 1.96, or Student's t over the run's
        ions (:func:`ionmd.analysis.arrhenius.interval_quantile`, what ``collect`` uses;
        2.36 for 8 ions: read as 1.96 the variance would be 1.45 times too large).
    level : float
        The level ``quantile`` was taken at: 0.95, or 0.99 for a run stopped by its
        D-interval rule (``Point.level``); with ``quantile`` it gives the run's dof.
    D_ci95_unwidened : (float, float) or None
        A run stopped by its rule: its own 95 % interval beside the 99 % ``D_ci95``
        (``Point.ci95_unwidened``), which collect's combination of replicas reads.
    quantity, unit : str
        What ``D`` is, for messages: ``"D"`` in cm^2/s, or what the caller fits in its place
        (the goal: the Nernst-Einstein ``"sigma T"`` in mS K/cm); by default unnamed, as
        a message naming the wrong one would mislead.
    """

    temperature_K: float
    time_ps: float
    D: float
    D_ci95: tuple[float, float]
    cost_per_ps: float
    key: Any = None
    max_time_ps: float | None = None
    quantile: float = Z95
    level: float = 0.95
    D_ci95_unwidened: tuple[float, float] | None = None
    quantity: str = "the fitted value"
    unit: str = ""

    @property
    def dof(self) -> float:
        """Degrees of freedom of the interval (ions - 1; inf for a normal one), as collect
        reads them (:func:`ionmd.analysis.aggregate.interval_dof` at the run's level)."""
        return interval_dof(self.quantile, self.level)

    @property
    def ln_var(self) -> float:
        """Variance of ln D from the 95 % interval (log-normal approximation, lower half
        capped: as ``collect`` reads it)."""
        return ln_error_from_interval(*self.D_ci95, quantile=self.quantile, value=self.D) ** 2

    @property
    def K(self) -> float:
        """``var(ln D) * D * t``: the constant of ``var(ln D) ~ K / (D t)`` for this run."""
        return self.ln_var * self.D * self.time_ps

    @property
    def room_ps(self) -> float:
        """How much longer the run may get."""
        return np.inf if self.max_time_ps is None else max(0.0, self.max_time_ps - self.time_ps)

    @property
    def usable(self) -> bool:
        """A positive finite D with an interval of finite positive width, and a positive
        time: the error model applies. A zero-width interval (an infinite weight) or an
        infinite or NaN one is left out, as a run without hops (D = 0) is."""
        # the fits' own rule (finite, positive, of non-zero width), and what the error
        # model needs beyond it: a lower end >= 0, a positive time and quantile
        return bool(point_problem(self.D, self.D_ci95) is None and self.D_ci95[0] >= 0
                    and np.isfinite(self.time_ps) and self.time_ps > 0 and self.quantile > 0)

    @property
    def within_scatter(self) -> bool:
        """A D below zero whose interval reaches above it (noise about a small D,
        :func:`ionmd.analysis.aggregate.within_scatter`), with a time and quantile to price
        its extension by: collect combines it with its temperature's other runs in D
        itself, and the allocator extends them (:func:`next_step`)."""
        return bool(within_scatter(self.D, self.D_ci95) and np.isfinite(self.time_ps)
                    and self.time_ps > 0 and self.quantile > 0)

    @property
    def linear_var(self) -> float:
        """Variance of D itself from its interval (upper half-width over the quantile where
        the lower end was clipped: :func:`ionmd.analysis.aggregate.linear_se`); it falls as
        ``1 / t`` as ``ln_var`` does."""
        return linear_se(self.D, self.D_ci95, self.quantile) ** 2

    def point(self) -> Point:
        """The run as collect's fit reads it (named by its folder, where its key has one)."""
        name = getattr(self.key, "path", self.key)
        return Point(self.temperature_K, self.D, tuple(self.D_ci95), quantile=self.quantile,
                     level=self.level, ci95_unwidened=self.D_ci95_unwidened,
                     run="" if name is None else str(name))

    def why_left_out(self) -> str | None:
        """Why the run is not :attr:`usable`, naming it, its temperature and its value
        (:func:`ionmd.analysis.aggregate.point_problem`'s words); None where it is."""
        path = getattr(self.key, "path", self.key)      # a campaign's run: its folder
        where = f" of run {path}" if path is not None else ""
        what = f"{self.quantity}{where} at {self.temperature_K:g} K"
        why = point_problem(self.D, self.D_ci95, quantity=what, unit=self.unit,
                            level=self.level)
        if self.within_scatter:         # not left out: combined in D, extended (next_step)
            return None
        if why or self.usable:
            return why
        if not self.D_ci95[0] >= 0:
            return f"{what}: its 95 % interval reaches below zero ({self.D_ci95[0]:.3g})"
        return (f"{what}: no analysed time ({self.time_ps:g} ps) or interval quantile "
                f"({self.quantile:g}) to price its extension by")


@dataclass
class Option:
    """One thing the next round could do, priced by the error model."""

    action: str               # "extend" or "new"
    temperature_K: float
    step_ps: float            # analysed ps it adds
    cost: float               # cost units, with the discarded ps of a new run
    ln_var_after: float       # expected var(ln D(target)) after it
    factor_after: float       # expected interval factor after it
    gain_per_cost: float      # (var_now - ln_var_after) / cost
    run: int | None = None    # index into the runs ("extend")
    key: Any = None

    def describe(self) -> str:
        what = "extend" if self.action == "extend" else "new run at"
        head = f"{what} {self.temperature_K:g} K by {self.step_ps:g} ps: cost {self.cost:.4g}, "
        if not np.isfinite(self.factor_after):      # too few temperatures resolved to price
            return head + "unpriced (no fit yet)"
        return head + (f"factor -> {self.factor_after:.4g}, gain/cost "
                       f"{self.gain_per_cost:.3g}")


@dataclass
class Decision:
    """The state of the extrapolation now and the option chosen (None: nothing possible).

    ``factor`` and the options' ``factor_after`` are the error model's (the runs' intervals
    as given: what the planning ranks by); ``reported_factor`` is that of the interval
    ``collect`` reports for these runs (:func:`reported_fit`: the covariance also scaled by
    PDG's max(1, chi2 / dof)), the one a goal is checked against. They differ where the
    points scatter about the line more than their intervals say."""

    target_K: float
    D_target: float           # fitted D at target_K, cm^2/s
    ln_var: float             # var(ln D(target)) from the runs' intervals
    factor: float             # exp(q sqrt(ln_var)), q the fit's: "within a factor f either way"
    choice: Option | None
    options: list[Option]     # every option, best first
    ignored: list[Any] = field(default_factory=list)   # keys (or T) of runs left out
    ignored_why: list[str] = field(default_factory=list)   # why each was left out
    fit: ArrheniusFit | None = None
    reported_factor: float = float("nan")   # collect's interval's (the goal's check)
    not_resolved: list[str] = field(default_factory=list)   # temperatures not resolved: why

    def describe(self) -> str:
        lines = [f"D({self.target_K:g} K) = {self.D_target:.3g} cm^2/s within a factor "
                 f"{self.reported_factor:.4g}"
                 + (f" (the runs' intervals alone: {self.factor:.4g}; the points scatter more "
                    f"than they say)" if self.reported_factor > self.factor * (1 + 1e-9) else "")]
        lines += [("* " if o is self.choice else "  ") + o.describe() for o in self.options]
        lines += [f"  left out: {why}" for why in self.ignored_why]
        lines += [f"  {why}" for why in self.not_resolved]
        return "\n".join(lines)


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
    points = [r.point() for r in runs if r.usable or r.within_scatter]
    out = arrhenius_of_points(points, times_T=False)
    if out is None or "error" in out:
        raise AnalysisError(((out or {}).get("error") or "the Arrhenius fit needs usable runs "
                             "at >= 2 distinct temperatures") + _left_out_text(runs))
    fit = ArrheniusFit.from_dict(out)
    value, lo, hi = fit.interval(np.array(float(target_K)))    # collect's, at 300 K
    return replace(fit, T_extrapolated=float(target_K), y_extrapolated=float(value),
                   y_extrapolated_ci95=(float(lo), float(hi)))


def _left_out_text(runs: Sequence[TemperatureRun]) -> str:
    """``"; left out: <why>; <why>"`` of the runs that are not usable, else ``""``."""
    whys = [w for w in (r.why_left_out() for r in runs) if w]
    return f"; left out: {'; '.join(whys)}" if whys else ""


def reported_factor(runs: Sequence[TemperatureRun], target_K: float = 300.0) -> float:
    """``f`` of the 95 % interval ``[y / f, y * f]`` at ``target_K`` that ``collect``
    reports for ``runs`` (:func:`reported_fit`); inf where collect can fit nothing yet."""
    try:
        lo, hi = reported_fit(runs, target_K).y_extrapolated_ci95
    except AnalysisError:   # collect has no fit yet (too few temperatures resolved)
        return float("inf")
    return float(np.sqrt(hi / lo))


def extrapolation_factor(temperatures_K: Sequence[float], ln_vars: Sequence[float],
                         dofs: Sequence[float], ln_var: float, target_K: float) -> float:
    """``exp(q sd)`` of the fitted ln D at ``target_K`` (``sd = sqrt(ln_var)``), ``q`` the
    quantile :func:`fit_arrhenius` gives collect's interval for points with these variances
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
    ``x0 (X^T W X)^-1 x0``. This is :func:`fit_arrhenius`'s extrapolation error (without
    its inflation by excess scatter), and it does not depend on the D values, so
    hypothetical designs are priced without data. The abscissa is ``1000 / T`` to keep the
    2 x 2 matrix well conditioned (a linear change of variable leaves the prediction as is).
    """
    x = 1000.0 / np.asarray(temperatures_K, float)
    w = 1.0 / np.asarray(ln_vars, float)
    info = np.array([[w.sum(), (w * x).sum()], [(w * x).sum(), (w * x * x).sum()]])
    x0 = np.array([1.0, 1000.0 / target_K])
    return float(x0 @ np.linalg.solve(info, x0))


def new_run_K(runs: Sequence[TemperatureRun], temperature_K: float) -> float:
    """``K = var(ln D) * D * t`` expected of a new run at ``temperature_K`` (module
    docstring): the usable runs' K, their median per temperature, interpolated in
    ``ln K`` against ``1 / T`` between the temperatures around it, the nearest one's
    beyond the range."""
    by_T: dict[float, list[float]] = {}
    for r in runs:
        if r.usable:
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
        at the coldest candidate warmer than every temperature without a point comes
        first, else the runs not resolved are extended (:func:`_resolve_first`).
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
        nor a candidate temperature warmer than those without a point to start.
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
    bad_cost = [r.temperature_K for r in runs if not r.cost_per_ps > 0]
    if bad_cost:
        raise ValueError(f"cost_per_ps must be > 0 (runs at {bad_cost} K)")
    used = [i for i, r in enumerate(runs) if r.usable]
    groups = scattered_temperatures(runs)
    grouped = {i for g in groups for i in g.runs}
    used = [i for i in used if i not in grouped]
    resolved = [g for g in groups if g.combined.get("resolved")]
    unresolved = [g for g in groups if not g.combined.get("resolved")]
    left = [i for i in range(len(runs)) if i not in used and i not in grouped]
    ignored = [runs[i].key if runs[i].key is not None else runs[i].temperature_K for i in left]
    ignored_why = [runs[i].why_left_out() for i in left]
    not_resolved = [g.reason for g in unresolved]
    # the model's points: each usable run, and each resolved temperature's runs combined
    T = np.array([runs[i].temperature_K for i in used] + [g.temperature_K for g in resolved])
    var = np.array([runs[i].ln_var for i in used] + [g.ln_var(runs) for g in resolved])
    dof = np.array([runs[i].dof for i in used] + [g.combined["dof"] for g in resolved])
    values = np.array([runs[i].D for i in used] + [g.combined["value"] for g in resolved])
    try:
        fit = fit_arrhenius(T, values, np.sqrt(var),
                            T_extrapolate=target_K, scatter_p=0.0,   # no inflation: the model's
                            y_err_dof=dof)
    except AnalysisError as exc:        # too few temperatures: say which runs gave none
        warmer = _warmer_candidates(runs, T, candidates_K, step_ps, budget_left, discard_at)
        if unresolved or warmer:        # nothing to price by: a second point first
            return _resolve_first(runs, unresolved, step_ps, budget_left, target_K,
                                  ignored, ignored_why, warmer)
        raise AnalysisError(f"{exc}{_left_out_text(runs)}") from exc
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
    # the fit's D there, as a new temperature is, with what its runs have already run)
    for k, g in enumerate(resolved + unresolved):
        at = len(used) + k if k < len(resolved) else None
        D_g = g.combined["value"] if at is not None else float(
            np.exp(fit.predict_ln(np.array(g.temperature_K))[0]))
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
    cost_per_ps = median(r.cost_per_ps for r in runs)
    taken = {temperature_folder(r.temperature_K) for r in runs}
    for Tc in candidates_K:
        if temperature_folder(Tc) in taken:
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
    return Decision(target_K=float(target_K), D_target=fit.y_extrapolated, ln_var=var_now,
                    factor=extrapolation_factor(T, var, dof, var_now, target_K),
                    choice=options[0] if options else None,
                    options=options, ignored=ignored, fit=fit, ignored_why=ignored_why,
                    reported_factor=reported_factor(runs, target_K), not_resolved=not_resolved)


@dataclass
class ScatteredTemperature:
    """A temperature whose runs collect combines in D itself (one below zero within its
    scatter, :attr:`TemperatureRun.within_scatter`): its runs that collect combines (indices), their
    combination in D (:func:`ionmd.analysis.aggregate.combine_points`: ``resolved`` or
    not) and, where not resolved, why the fit leaves it out."""

    temperature_K: float
    runs: list[int]
    combined: dict
    reason: str = ""

    def linear_var(self, runs: Sequence[TemperatureRun], extended: int | None = None,
                   dt: float = 0.0) -> float:
        """The error model's variance of the equal-weight mean of the runs' D, with run
        ``extended`` ``dt`` ps longer (each run's variance falling as ``1 / t``)."""
        v = [runs[i].linear_var * (runs[i].time_ps / (runs[i].time_ps + dt) if i == extended
                                   else 1.0) for i in self.runs]
        return float(sum(v)) / len(v) ** 2

    def ln_var(self, runs: Sequence[TemperatureRun]) -> float:
        """The model's variance of ln D of a resolved temperature (delta method)."""
        return self.linear_var(runs) / self.combined["value"] ** 2


def scattered_temperatures(runs: Sequence[TemperatureRun]) -> list[ScatteredTemperature]:
    """The temperatures whose runs collect combines in D itself (a run below zero within
    its scatter among them: module docstring of :mod:`ionmd.analysis.aggregate`), combined
    as collect combines them. Collect's own combination decides (its ``space``), not a
    second copy of its rule here: where the two differed, the model fitted a temperature
    that collect left out as not resolved, :func:`reported_factor` found no fit and the
    goal stopped the series for good (``no_fit``) with budget left."""
    out = []
    for T in sorted({float(r.temperature_K) for r in runs}):
        idx = [i for i, r in enumerate(runs)
               if float(r.temperature_K) == T and (r.usable or r.within_scatter)]
        points = [runs[i].point() for i in idx]
        combined = combine_points(points) if points else None
        if not combined or combined.get("space") != "linear":
            continue                # a lone run, or replicas combined in ln D: points
        reason = ("" if combined.get("resolved") else
                  not_resolved_entry(T, combined, points)["reason"])
        out.append(ScatteredTemperature(T, idx, combined, reason))
    return out


def _warmer_candidates(runs: Sequence[TemperatureRun], fitted_K: np.ndarray,
                       candidates_K: Sequence[float], step_ps: float,
                       budget_left: float | None, discard_at: Callable[[float], float]
                       ) -> list[Option]:
    """New runs at the candidate temperatures above every temperature of ``runs`` that gave
    no point (``fitted_K``: those that did; none where every one gave one), coldest first: where too few temperatures are
    resolved for a fit, a warmer run is the likeliest second point (its ions hop more),
    and a colder one gives more leverage toward the target. Unpriced (no fit to price by):
    ``ln_var_after``, ``factor_after`` and ``gain_per_cost`` are inf."""
    no_point = [r.temperature_K for r in runs if not np.isin(r.temperature_K, fitted_K)]
    if not no_point:            # one temperature run, every one resolved: refused as before
        return []
    above = max(no_point)
    taken = {temperature_folder(r.temperature_K) for r in runs}
    cost_per_ps = median(r.cost_per_ps for r in runs)
    options = []
    for Tc in sorted({float(t) for t in candidates_K}):
        if Tc <= above or temperature_folder(Tc) in taken:
            continue
        taken.add(temperature_folder(Tc))
        dt, discard = step_ps, discard_at(Tc)
        if budget_left is not None:
            dt = min(dt, budget_left / cost_per_ps - discard)
        if dt > 0:
            options.append(Option("new", Tc, dt, (dt + discard) * cost_per_ps, np.inf, np.inf,
                                  np.inf))
    return options


def _resolve_first(runs: Sequence[TemperatureRun], unresolved: list[ScatteredTemperature],
                   step_ps: float, budget_left: float | None, target_K: float,
                   ignored: list, ignored_why: list[str], warmer: Sequence[Option] = ()
                   ) -> Decision:
    """Too few resolved temperatures for a fit: nothing to price by. A new run at the
    coldest candidate temperature warmer than those without a point comes first
    (``warmer``, :func:`_warmer_candidates`): extending a run whose ions barely move (a
    species that does not diffuse there) only narrows an upper bound, and once such a run
    fell below its scatter the series stopped as ``no_fit`` with the candidates untried.
    Else the runs not resolved are extended, the one that narrows its temperature's
    interval of D the most (relative to now) per cost first."""
    options = list(warmer)
    for g in unresolved:
        now = g.linear_var(runs)
        for i in g.runs:
            r = runs[i]
            dt = min(step_ps, r.room_ps)
            if budget_left is not None:
                dt = min(dt, budget_left / r.cost_per_ps)
            if dt <= 0:
                continue
            cost = dt * r.cost_per_ps
            options.append(Option("extend", r.temperature_K, dt, cost, np.inf, np.inf,
                                  (1 - g.linear_var(runs, extended=i, dt=dt) / now) / cost,
                                  i, r.key))
    options[len(warmer):] = sorted(options[len(warmer):], key=lambda o: -o.gain_per_cost)
    return Decision(target_K=float(target_K), D_target=float("nan"), ln_var=np.inf,
                    factor=np.inf, choice=options[0] if options else None, options=options,
                    ignored=ignored, ignored_why=ignored_why, reported_factor=np.inf,
                    not_resolved=[g.reason for g in unresolved])


def predict_outcome(runs: Sequence[TemperatureRun], option: Option,
                    decision: Decision) -> list[TemperatureRun]:
    """The runs after ``option`` as the error model expects them: D unchanged (a new run:
    the fit's D), its interval narrowed to ``var * t / (t + dt)`` (a new run: ``K / (D t)``
    with :func:`new_run_K`; a run below zero within its scatter: its linear variance
    so narrowed about the fit's D there, where the model has a fit). The default
    ``execute`` of :func:`spend_budget`: a plan."""
    runs = list(runs)
    if option.action == "extend" and runs[option.run].within_scatter:
        r = runs[option.run]
        t = r.time_ps + option.step_ps
        D = r.D if decision.fit is None else float(
            np.exp(decision.fit.predict_ln(np.array(r.temperature_K))[0]))
        sd = np.sqrt(r.linear_var * r.time_ps / t)
        runs[option.run] = replace(r, time_ps=t, D_ci95=(max(D - r.quantile * sd, 0.0),
                                                         D + r.quantile * sd), D=D)
    elif option.action == "extend":
        r = runs[option.run]
        t = r.time_ps + option.step_ps
        sd = np.sqrt(r.ln_var * r.time_ps / t)
        runs[option.run] = replace(r, time_ps=t, D_ci95=(r.D * np.exp(-r.quantile * sd),
                                                         r.D * np.exp(r.quantile * sd)))
    else:
        D = _expected_D(runs, option.temperature_K, decision.fit)
        sd = np.sqrt(new_run_K(runs, option.temperature_K) / (D * option.step_ps))
        q = t95(float(np.median([r.dof for r in runs])))   # over the same ions as the others
        runs.append(TemperatureRun(option.temperature_K, option.step_ps, D,
                                   (D * np.exp(-q * sd), D * np.exp(q * sd)),
                                   cost_per_ps=median(r.cost_per_ps for r in runs),
                                   key=f"new:{option.temperature_K:g}K", quantile=q))
    return runs


def _expected_D(runs: Sequence[TemperatureRun], temperature_K: float,
                fit: ArrheniusFit | None) -> float:
    """The D a plan expects of a new run: the fit's there; without a fit (too few
    temperatures resolved) the nearest usable run's, as nothing says how D moves with T."""
    if fit is not None:
        return float(np.exp(fit.predict_ln(np.array(float(temperature_K)))[0]))
    usable_runs = [r for r in runs if r.usable]
    if not usable_runs:
        raise AnalysisError("no usable run to expect a new run's D from")
    return min(usable_runs, key=lambda r: abs(r.temperature_K - temperature_K)).D


@dataclass
class BudgetOutcome:
    """What :func:`spend_budget` did: the rounds' decisions, the runs at the end, why it stopped."""

    runs: list[TemperatureRun]
    decisions: list[Decision]       # one per round, the last one with the final state
    spent: float
    budget: float
    stopped: str                    # "goal_met", "budget_spent", "nothing_left", "max_rounds"

    @property
    def factor(self) -> float:
        """Interval factor at the end (from the runs' intervals)."""
        return self.decisions[-1].factor

    @property
    def reported_factor(self) -> float:
        """Interval factor at the end as ``collect`` reports it (the goal's check)."""
        return self.decisions[-1].reported_factor

    def describe(self) -> str:
        lines = []
        for n, d in enumerate(self.decisions[:-1], 1):
            lines.append(f"round {n}: factor {d.factor:.4g}; {d.choice.describe()}")
        lines.append(f"stopped ({self.stopped}) at factor {self.reported_factor:.4g}, spent "
                     f"{self.spent:.4g} of {self.budget:.4g}")
        return "\n".join(lines)


def spend_budget(runs: Sequence[TemperatureRun], *, budget: float, step_ps: float,
                 goal_factor: float | None = None, target_K: float = 300.0,
                 candidates_K: Sequence[float] = (),
                 discard_ps: float | Callable[[float], float] = 0.0,
                 execute: Callable[[list[TemperatureRun], Option, Decision], Sequence[TemperatureRun]]
                 = predict_outcome, max_rounds: int = 10_000) -> BudgetOutcome:
    """Apply :func:`next_step` round after round until the goal or the budget is reached.

    Parameters
    ----------
    runs : sequence of TemperatureRun
        The runs so far (their cost is not counted in ``budget``).
    budget : float
        Cost units to spend from now on; the last step is shortened to what is left.
    goal_factor : float, optional
        Stop once sigma(target_K) is known within this factor either way (e.g. 1.5).
    execute : callable
        ``execute(runs, option, decision) -> runs``: carries out the chosen option and
        returns every run as it stands afterwards (analysed again). The default,
        :func:`predict_outcome`, applies the error model instead: the result is a plan.
    step_ps, target_K, candidates_K, discard_ps
        As :func:`next_step`.

    Returns
    -------
    BudgetOutcome
        ``stopped`` is ``"goal_met"`` (the factor of the interval ``collect`` reports,
        :func:`reported_factor`, is at most ``goal_factor``), ``"budget_spent"``, or ``"nothing_left"`` (every run at its
        ``max_time_ps`` and no candidate temperature left); ``"max_rounds"`` if
        ``max_rounds`` rounds did not get there.
    """
    runs, decisions, spent = list(runs), [], 0.0
    kw = dict(step_ps=step_ps, target_K=target_K, candidates_K=candidates_K, discard_ps=discard_ps)
    for _ in range(max_rounds):
        left = budget - spent
        d = next_step(runs, budget_left=max(left, 0.0), **kw)
        decisions.append(d)
        if goal_factor is not None and d.reported_factor <= goal_factor:
            stopped = "goal_met"
            break
        if left <= 1e-9 * max(budget, 1.0):
            stopped = "budget_spent"
            break
        if d.choice is None:
            stopped = "nothing_left"
            break
        runs = list(execute(runs, d.choice, d))
        spent += d.choice.cost
    else:
        stopped = "max_rounds"
    return BudgetOutcome(runs, decisions, spent, float(budget), stopped)


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


__all__ = ["BudgetOutcome", "Decision", "Option", "TemperatureRun",
           "cost_per_ps_from_logs", "extrapolation_factor", "ln_var_at", "new_run_K", "next_step",
           "predict_outcome", "reported_factor", "reported_fit", "spend_budget"]
