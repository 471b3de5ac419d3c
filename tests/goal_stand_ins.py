"""Stand-ins for what a goal round measures (``ionmd.sweep.goal.measure``): runs of a known
Arrhenius D, so that the allocator's choice is the one the test sets up."""

from __future__ import annotations

import numpy as np

from ionmd.sweep.allocate import TemperatureRun

# a goal never met (factor 1.01) whose one new temperature is 700 K
GOAL_AT_700K = ('goal = {sigma_300K_factor = 1.01, budget = "100 h", step = "1ps", '
                'temperatures = "700"}')


def arrhenius_run(run, max_time_ps: float = 10.0) -> TemperatureRun:
    """10 ps of a planned run at its temperature: D = 1e-4 exp(-0.3 eV / kT) A^2/ps, 30 %
    either way, 1 h a ps, at most ``max_time_ps`` long."""
    D = 1e-4 * np.exp(-0.3 / (8.617e-5 * run.temperature))
    return TemperatureRun(run.temperature, 10.0, D, (D / 1.3, D * 1.3), cost_per_ps=1.0,
                          max_time_ps=max_time_ps, key=run)


def finished_runs(campaign, runs):
    """``measure``: every run finished at its longest (nothing to extend), none spent; with
    :data:`GOAL_AT_700K` the allocator's one option is a run at 700 K."""
    return [arrhenius_run(run) for run in runs], 0.0
