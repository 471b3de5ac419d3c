"""Which species' Arrhenius fit gives collect's rows their Ea: the fastest mobile one by
the runs' D (at the highest temperature every species has), whether or not its fit
succeeded; where it has no fit, no Ea (a frozen framework's fit gave Ea ~ 0 eV)."""

from __future__ import annotations

from ionmd.sweep.collect import _carrier


def _row(T, **D):
    return {"temperature_K": T, **{f"D_{sp}": {"value": v} for sp, v in D.items()}}


def test_the_fastest_at_a_common_temperature():
    rows = [_row(600, Cl=1e-18, Li=1e-7), _row(900, Cl=2e-18, Li=1e-6)]
    assert _carrier(rows, ["Cl", "Li"]) == "Li"


def test_chosen_by_D_not_by_a_fit():
    """Li measured at one temperature only (its fit fails), Cl at two: Li is still the
    carrier, so the rows get no Ea rather than Cl's."""
    rows = [_row(600, Cl=1e-18), _row(900, Cl=2e-18, Li=1e-6)]
    assert _carrier(rows, ["Cl", "Li"]) == "Li"


def test_without_a_common_temperature_each_ones_highest():
    rows = [_row(600, Na=1e-9), _row(900, Li=1e-6)]
    assert _carrier(rows, ["Li", "Na"]) == "Li"
    assert _carrier([{"temperature_K": 600, "D_Li": None}], ["Li"]) is None
