"""fit_arrhenius from Python objects: a NaN temperature (a run whose temperature was not
read, ``float("nan")`` in a notebook's table) passed the ``T <= 0`` check and ended in
numpy's ``LinAlgError: SVD did not converge``; values and temperatures of different lengths
were refused as "needs >= 2 distinct temperatures", which they had. Each is now said as
what it is. The fit itself is checked against the exact line through noiseless points."""

from __future__ import annotations

import numpy as np
import pytest

from ionmd.analysis.arrhenius import KB_EV, fit_arrhenius
from ionmd.errors import AnalysisError


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_temperature_that_is_no_number_is_refused_naming_it(bad):
    with pytest.raises(AnalysisError, match=r"positive finite values.* at \[500\.0, 600\.0, "
                                            rf"{bad}\] K"):
        fit_arrhenius([500.0, 600.0, bad], [1e-6, 2e-6, 3e-6])


def test_values_and_temperatures_of_other_lengths_are_said_so():
    with pytest.raises(AnalysisError, match=r"one value per temperature: 2 values for 3 "
                                            r"temperatures \(\[500\.0, 600\.0, 700\.0\] K\)"):
        fit_arrhenius([500, 600, 700], [1e-5, 2e-5])


def test_noiseless_points_give_their_line():
    T = np.array([500.0, 700.0, 900.0])
    y = 1e-3 * np.exp(-0.3 / (KB_EV * T))
    fit = fit_arrhenius(T.tolist(), y.tolist())        # plain lists, as a notebook has them
    assert fit.Ea_eV == pytest.approx(0.3, rel=1e-9)
    assert fit.y_extrapolated == pytest.approx(1e-3 * np.exp(-0.3 / (KB_EV * 300)), rel=1e-8)
