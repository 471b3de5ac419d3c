"""A collective sigma whose relative error r is so large that the scaled chi-square's
lower quantile chi2_k(0.025), k = 2/r^2, is 0: its interval has no upper end. results.json
then held ``Infinity`` (not strict JSON) and the point was refused as "not a number, the
analysis could not estimate it", which is false: it is a sigma within its noise."""

import json

import numpy as np
import pytest
from scipy.stats import chi2

from ionmd.analysis.aggregate import arrhenius_of_points, series_points, why_left_out
from ionmd.analysis.point_checks import point_problem
from ionmd.analysis.conductivity import Conductivity, collective_interval

REL_UNBOUNDED = 20.0      # se / sigma: chi2_k(0.025) underflows to 0 at k = 2 / 400


def collective_record(sigma: float, rel: float, T: float) -> dict:
    return Conductivity(sigma, collective_interval(sigma, rel * sigma), "collective", T,
                        1000.0, 1.0).to_dict()


def test_reference_has_no_upper_end():
    """The premise, from scipy alone: the 2.5 % quantile is 0, so sigma k / it is infinite."""
    assert chi2.ppf(0.025, 2 / REL_UNBOUNDED ** 2) == 0.0
    assert collective_interval(1.0, REL_UNBOUNDED)[1] == np.inf


@pytest.mark.parametrize("upper", [None, np.inf])
def test_message_says_not_resolved(upper):
    why = point_problem(0.5, (0.04, upper), quantity="the collective sigma at 600 K",
                        unit="mS/cm")
    assert "no upper end" in why and "not resolved" in why and "run it longer" in why
    assert "not a number" not in why and "could not estimate" not in why


def test_collect_and_analyze_leave_the_point_out_with_that_reason():
    """Three resolved temperatures and one unbounded: the fit runs over the three, and the
    run's reason (why_left_out) is the unresolved sigma."""
    temps = [500.0, 600.0, 700.0, 800.0]
    sigmas = [0.2, 0.6, 1.4, 2.6]
    rels = [0.3, 0.3, 0.3, REL_UNBOUNDED]
    runs = [json.loads(json.dumps({"temperature_K": T, "run": f"T{T:g}",
                         "diffusion": [{"species": "Li", "direction": "xyz", "D": 1e-6,
                                        "D_ci95": [8e-7, 1.2e-6], "flags": []}],
                         "conductivity_collective": collective_record(s, r, T)}))
            for T, s, r in zip(temps, sigmas, rels)]
    points = series_points(runs)["sigma_collective_T"]
    assert points[-1].ci95[1] == np.inf
    fit = arrhenius_of_points(points, times_T=True)
    assert fit is not None and np.isfinite(fit["Ea_eV"])
    assert [p["temperature_K"] for p in fit["points"]] == temps[:3]
    why = why_left_out(runs[-1], "sigma_collective_T")
    assert "no upper end" in why and "not a number" not in why
    assert why_left_out(runs[0], "sigma_collective_T") is None
