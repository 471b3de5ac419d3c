"""A sigma point's flags are those of the species that carry it: a species declared mobile
that stays frozen (its D ~ 0, flagged too_few_hops at every temperature) made every
temperature of the sigma fit 'not diffusive', so its fit_problem said NOT A RESULT while the
carrier's D was clear (a goal campaign with mobile Li and a frozen Cl framework). The
reference is the Nernst-Einstein sum by hand: Cl's part q^2 n D is 1e-9 of Li's."""

from __future__ import annotations

import numpy as np
from scipy.constants import Boltzmann, electron_volt

from ionmd.analysis.aggregate import arrhenius_of_points, carriers_flags, series_points

KB = Boltzmann / electron_volt


def _run(T: float, cl_flags=("too_few_hops",), li_flags=()) -> dict:
    d_li = 1e-4 * np.exp(-0.3 / (KB * T))
    d_cl = 1e-9 * d_li
    li = {"species": "Li", "direction": "xyz", "D": d_li, "D_ci95": [0.8 * d_li, 1.2 * d_li],
          "flags": list(li_flags), "n_ions": 32}
    cl = {"species": "Cl", "direction": "xyz", "D": d_cl, "D_ci95": [0.0, 3 * d_cl],
          "flags": list(cl_flags), "n_ions": 32}
    sigma = 50.0 * d_li / 1e-5 / T * 300
    return {"run": f"/runs/T{T:g}", "temperature_K": T, "diffusion": [cl, li],
            "charges": {"Li": 1, "Cl": -1},
            "conductivity": {"sigma": sigma, "sigma_ci95": [0.8 * sigma, 1.2 * sigma]}}


def test_a_frozen_mobile_species_does_not_flag_sigma():
    runs = [_run(T) for T in (600.0, 800.0, 1000.0)]
    points = series_points(runs)
    assert all(p.flags == [] for p in points["sigma_T"])
    assert all(p.flags == ["too_few_hops"] for p in points["D_Cl"])   # its own D still is
    fit = arrhenius_of_points(points["sigma_T"], times_T=True)
    assert fit["not_diffusive_T"] == []
    assert not fit.get("fit_problem")


def test_the_carriers_flags_still_flag_sigma():
    runs = [_run(T, li_flags=("not_linear",)) for T in (600.0, 800.0, 1000.0)]
    assert all(p.flags == ["not_linear"] for p in series_points(runs)["sigma_T"])
    # where the charges are unknown, every species' flags, as found
    xyz = _run(600.0)["diffusion"]
    assert carriers_flags(xyz, None) == ["too_few_hops"]
    assert carriers_flags(xyz, {"Li": 1}) == ["too_few_hops"]
