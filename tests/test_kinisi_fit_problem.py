"""kinisi's Bayesian cross-check (``ionmd analyze --arrhenius-kinisi``) of a fit that means
nothing is marked as the least-squares fit is (:mod:`ionmd.analysis.arrhenius_problems`).
Before, the audit's campaign (two 0.35 ps runs, flagged too_few_hops and not_linear, D
falling with T) got ``fit_problem`` on its least-squares row of arrhenius.csv and a plain
kinisi row beside it (Ea = +0.65 eV, D(300 K) over 33 decades, no flag), printed as
``kinisi (Bayesian): Ea = 0.650 eV [...]``. Each reason is checked against kinisi's own
numbers (its interval's width by numpy, its Ea's sign, the runs' own flags)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from ionmd.analysis.aggregate import fit_series
from ionmd.analysis.report import summarise
from ionmd.analysis.run_records import kinisi_line
from test_arrhenius_fit_problem import SHORT, arrhenius_runs, audit_runs, decades, run

SAMPLES = 100       # a cross-check's reasons need no converged posterior


@pytest.fixture(scope="module")
def audit_summary(tmp_path_factory):
    out = tmp_path_factory.mktemp("kinisi_audit")
    return out, summarise(audit_runs(), {}, out, kinisi_fit=True, n_samples=SAMPLES)


@pytest.mark.parametrize("key", ["D_Li", "sigma_T"])
def test_the_audits_kinisi_fit_is_marked(audit_summary, key):
    out, summary = audit_summary
    k = summary["arrhenius"]["LPS"][key]["kinisi"]
    assert "error" not in k, k
    why = k.get("fit_problem")
    assert why and "fit_problem" in k["flags"]
    assert "every fitted temperature (600, 900 K) has a run flagged not diffusive" in why
    # kinisi's own interval, in the unit printed beside it
    if decades(k["extrapolated_ci95"]) > 4:
        lo, hi = k["extrapolated_ci95"]
        unit = "mS/cm" if key == "sigma_T" else "cm^2/s"
        assert f"[{lo:.3g}, {hi:.3g}] {unit}" in why
    if k["Ea_eV"] <= 0:
        assert f"Ea = {k['Ea_eV']:.3g} eV is not positive" in why
    # summary.json as written
    written = json.loads((out / "summary.json").read_text())
    assert written["arrhenius"]["LPS"][key]["kinisi"]["fit_problem"] == why
    # arrhenius.csv: the kinisi row says why, as the least-squares one does
    rows = [r for r in csv.DictReader(open(out / "arrhenius.csv")) if r["series"] == key]
    by_method = {r["method"]: r for r in rows}
    assert by_method["kinisi"]["fit_problem"] == why
    assert "fit_problem" in by_method["kinisi"]["flags"].split(";")
    # the printed line: the reason in place of its Ea
    line = kinisi_line(summary["arrhenius"]["LPS"][key])
    assert line == f"  kinisi (Bayesian): NOT A RESULT: {why}"


def test_a_sound_kinisi_fit_is_not_marked_and_reasons_are_its_own():
    good = fit_series(arrhenius_runs(), "D_Li", kinisi=True, n_samples=SAMPLES)["kinisi"]
    assert "fit_problem" not in good and good["flags"] == []
    assert good["Ea_eV"] == pytest.approx(0.3, abs=0.05)
    assert kinisi_line({"kinisi": good}).startswith("  kinisi (Bayesian): Ea = 0.")
    # D falling with temperature, tight errors, no run flagged: kinisi's Ea <= 0 alone
    falling = []
    for r in arrhenius_runs():
        D = 1e-5 * (2 - r["temperature_K"] / 1000)
        falling.append(run(r["run"], r["temperature_K"], D, 0.98 * D, 1.02 * D))
    k = fit_series(falling, "D_Li", kinisi=True, n_samples=SAMPLES)["kinisi"]
    assert k["Ea_eV"] <= 0 and np.all(np.diff([r["diffusion"][0]["D"] for r in falling]) < 0)
    assert "is not positive" in k["fit_problem"] and "flagged not diffusive" not in k["fit_problem"]
    # every run flagged: marked, whatever kinisi's numbers
    flagged = fit_series(arrhenius_runs(flags=SHORT), "D_Li", kinisi=True, n_samples=SAMPLES)
    assert "flagged not diffusive" in flagged["kinisi"]["fit_problem"]
