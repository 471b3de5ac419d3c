"""What the budget allocator (:mod:`ionmd.sweep.allocate`) reads and decides: a run as
the error model sees it (:class:`TemperatureRun`), an option priced by it (:class:`Option`)
and a round's decision (:class:`Decision`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ionmd.analysis.aggregate import Point
from ionmd.analysis.arrhenius import ArrheniusFit
from ionmd.analysis.interval_errors import ln_error_from_interval
from ionmd.analysis.point_checks import point_problem, within_scatter
from ionmd.analysis.replica_combination import linear_se
from ionmd.analysis.replica_statistics import interval_dof

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
    failed : str
        Why the run failed (its post-mortem: melted, lost atoms, ...), "" where it did not.
        Its point is fitted as collect fits it, but where it gives none it says nothing of
        how ions move at its temperature: no reason to look warmer than it
        (:func:`ionmd.sweep.allocate_first.warmer_candidates`).
    quantity, unit : str
        What ``D`` is, for messages: ``"D"`` in cm^2/s, or what the caller fits in its place
        (the goal: the Nernst-Einstein ``"sigma T"`` in mS K/cm); by default unnamed, as
        a message naming the wrong one would mislead.
    flags : list of str
        The run's not-diffusive flags (too few hops, an MSD not linear), as collect's
        :class:`ionmd.analysis.aggregate.Point` has them: a fit whose every temperature is
        flagged means nothing (:func:`ionmd.sweep.allocate.reported_state`).
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
    failed: str = ""
    flags: list[str] = field(default_factory=list)

    @property
    def dof(self) -> float:
        """Degrees of freedom of the interval (ions - 1; inf for a normal one), as collect
        reads them (:func:`ionmd.analysis.aggregate.interval_dof` at the run's level)."""
        return interval_dof(self.quantile, self.level)

    @property
    def ln_var(self) -> float:
        """Variance of ln D from the 95 % interval (log-normal approximation, lower half
        capped: the ``ln_err`` collect reports beside a point). The model prices by
        :attr:`linear_var` (collect fits in D)."""
        return ln_error_from_interval(*self.D_ci95, quantile=self.quantile, value=self.D) ** 2

    @property
    def K(self) -> float:
        """``var(D) / D^2 * D * t``: the constant of the relative variance ``K / (D t)`` of
        this run's D (in D, as collect's fit weighs it: :attr:`linear_var`)."""
        return self.linear_var / self.D * self.time_ps

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
        the lower end was clipped: :func:`ionmd.analysis.replica_combination.linear_se`): what
        collect's fit in D weighs the run by, and what the error model prices (falling as
        ``1 / t``)."""
        return linear_se(self.D, self.D_ci95, self.quantile) ** 2

    def point(self) -> Point:
        """The run as collect's fit reads it (named by its folder, where its key has one)."""
        name = getattr(self.key, "path", self.key)
        return Point(self.temperature_K, self.D, tuple(self.D_ci95), list(self.flags),
                     quantile=self.quantile,
                     level=self.level, ci95_unwidened=self.D_ci95_unwidened,
                     run="" if name is None else str(name))

    def why_left_out(self, bound_K: float | None = None) -> str | None:
        """Why the run is not :attr:`usable`, naming it, its temperature and its value
        (:func:`ionmd.analysis.aggregate.point_problem`'s words); None where it is.
        ``bound_K``: the series' :func:`ionmd.sweep.allocate_first.failed_below` (no new
        run at or above it), so that a failed run says whether it bars warmer runs (a
        warmer run that did not fail lifts the bar); None: the rule is said instead."""
        path = getattr(self.key, "path", self.key)      # a campaign's run: its folder
        where = f" of run {path}" if path is not None else ""
        what = f"{self.quantity}{where} at {self.temperature_K:g} K"
        if self.failed:     # its failure, not "the ions did not diffuse: run it hotter"
            # a usable stretch before the failure is collect's point, and the goal's
            # verdict fits it (reported_state): left out of the planning only
            kept = (" its point before the failure is fitted as collect fits it, but not "
                    "planned by (never extended);" if self.usable else
                    " it says nothing of how ions move there,")
            T = self.temperature_K
            if bound_K is None:
                bar = (f"no new run at or above {T:g} K is started while every run that did "
                       "not fail is colder")
            elif T >= bound_K:
                bar = f"no new run at or above {T:g} K is started"
            else:       # before: said so here too, while warmer candidates were offered
                bar = (f"it bars no warmer run: a run warmer than {T:g} K did not fail "
                       "(the heat was not the cause)")
            return f"{what}: the run {self.failed} (its post-mortem);{kept} and {bar}"
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
    why: str = ""             # why an unpriced option is where it is (warmer_candidates)

    def describe(self, fit_problem: str | None = None) -> str:
        """The option in one line; ``fit_problem``: collect's fit exists but is no result
        (an unpriced option then says so, not 'no fit yet')."""
        what = "extend" if self.action == "extend" else "new run at"
        why = f" ({self.why})" if self.why else ""
        head = (f"{what} {self.temperature_K:g} K by {self.step_ps:g} ps{why}: cost "
                f"{self.cost:.4g}, ")
        if not np.isfinite(self.factor_after):      # too few temperatures resolved to price
            return head + ("unpriced (collect's fit is NOT A RESULT, and too few clear "
                           "temperatures to price by)" if fit_problem else "unpriced (no fit yet)")
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
    fit_problem: str | None = None   # why collect's fit means nothing: never meets a goal
    # collect's fitted points flagged not diffusive (arrhenius_problems.flagged_points):
    # no goal is met while one is; their runs are extended first (allocate._flagged_first)
    flagged_points: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.fit_problem:        # the reason in place of numbers that mean nothing
            lines = [f"NOT A RESULT: {self.fit_problem}"]
            lines += [("* " if o is self.choice else "  ") + o.describe(self.fit_problem)
                      for o in self.options]
            lines += [f"  left out: {why}" for why in self.ignored_why]
            return "\n".join(lines + [f"  {why}" for why in self.not_resolved])
        lines = [f"D({self.target_K:g} K) = {self.D_target:.3g} cm^2/s within a factor "
                 f"{self.reported_factor:.4g}"
                 + (f" (the runs' intervals alone: {self.factor:.4g}; the points scatter more "
                    f"than they say)" if self.reported_factor > self.factor * (1 + 1e-9) else "")]
        lines += [("* " if o is self.choice else "  ") + o.describe() for o in self.options]
        lines += [f"  left out: {why}" for why in self.ignored_why]
        lines += [f"  {why}" for why in self.not_resolved]
        lines += [f"  flagged not diffusive (no goal is met on it): {p}"
                  for p in self.flagged_points]
        return "\n".join(lines)
