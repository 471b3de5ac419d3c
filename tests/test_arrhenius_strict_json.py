"""Arrhenius fits with known (normal) point errors have infinite degrees of freedom; what
ionmd writes of them (collect's results.json, summary.json) must stay strict JSON: the
standard library's ``allow_nan=False`` writer and reader are the reference, and a fit read
back must give the same interval as the one written."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.constants import Boltzmann, electron_volt

from ionmd.analysis.aggregate import Point, arrhenius_of_points
from ionmd.analysis.arrhenius import ArrheniusFit, fit_arrhenius

KB = Boltzmann / electron_volt
T = np.array([600.0, 800.0, 1000.0])


def strict_round_trip(obj):
    """``obj`` through strict JSON (refuses NaN/Infinity both ways)."""
    def refuse(name):
        raise ValueError(f"non-strict JSON constant {name}")
    return json.loads(json.dumps(obj, allow_nan=False), parse_constant=refuse)


@pytest.mark.parametrize("dof", [[np.inf] * 3, [3.0, np.inf, np.inf]])
def test_fit_dict_is_strict_json_and_reads_back(dof):
    y = 1e-5 * np.exp(-0.3 / (KB * T)) * np.array([1.0, 1.05, 0.97])
    fit = fit_arrhenius(T, y, np.full(3, 0.1), y_err_dof=np.array(dof))
    back = ArrheniusFit.from_dict(strict_round_trip(fit.to_dict()))
    assert np.allclose(back.interval(np.array([300.0, 700.0])),
                       fit.interval(np.array([300.0, 700.0])), rtol=1e-12)
    assert back.Ea_dof == fit.Ea_dof and back.extrapolation_dof == fit.extrapolation_dof


def test_replicas_with_normal_intervals_write_strict_json():
    """Two replicas per temperature whose intervals are normal (quantile 1.96: dof inf)."""
    points = []
    for t in T:
        d = 1e-5 * np.exp(-0.3 / (KB * t))
        for f in (0.95, 1.05):
            points.append(Point(float(t), d * f, (d * f * np.exp(-0.2), d * f * np.exp(0.2))))
    out = arrhenius_of_points(points, times_T=False)
    assert "error" not in out
    back = strict_round_trip(out)
    assert ArrheniusFit.from_dict(back).interval(np.array(300.0)) == pytest.approx(
        ArrheniusFit.from_dict(out).interval(np.array(300.0)), rel=1e-12)


def test_collect_rows_of_normal_intervals_write_strict_json():
    """A temperature whose runs' intervals are normal (ions unknown: quantile 1.96, dof
    infinite) gave collect's row "dof": Infinity in results.json; null now."""
    from ionmd.sweep.collect import _aggregate

    runs = [{"run": f"r{k}", "temperature_K": 800.0, "class": "completed", "complete": True,
             "diffusion": [{"species": "Li", "direction": "xyz", "D": d, "D_ci95": [lo, hi],
                            "flags": []}]}
            for k, (d, lo, hi) in enumerate([(1.0e-5, 0.8e-5, 1.2e-5), (1.1e-5, 0.9e-5, 1.3e-5)])]
    for done in (runs, runs[:1]):
        row = _aggregate(done, len(done))
        text = json.dumps(row, allow_nan=False)        # the standard library's strict writer
        assert json.loads(text)["D_Li"].get("dof") is None
