"""A campaign's Arrhenius fit that means nothing is marked, not reported as a plain number.
An audit (a new user's campaign of 0.35 ps runs, both D intervals clipped at zero, flagged
too_few_hops and not_linear) got from `sweep collect` Ea = -0.072 eV and sigma(300 K) = 4620
mS/cm, above its own 900 K value (244), with the interval [2e-16, 1e23] and no flag. Now
such a fit carries ``fit_problem`` (why) and the flag ``fit_problem``, in the fit entries,
collect's rows and analyze's summary, and both commands print it. Each reason is checked
against the data itself: the values falling with temperature (Ea <= 0 for any line through
them), the interval's width in decades (numpy), the runs' own flags."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.constants import Boltzmann, electron_volt

from ionmd.analysis.aggregate import fit_series

KB = Boltzmann / electron_volt
SHORT = ["too_few_hops", "not_linear"]


def run(label, T, D, lo, hi, flags=(), n_ions=16) -> dict:
    """A run's results as analyze_run gives them: the xyz D of Li and its Nernst-Einstein
    sigma (here 1e5 times D, intervals alike)."""
    return {"run": label, "structure": "LPS", "temperature_K": T, "complete": True,
            "diffusion": [{"species": "Li", "direction": "xyz", "D": D, "D_ci95": [lo, hi],
                           "flags": list(flags), "n_ions": n_ions}],
            "conductivity": {"sigma": D * 1e5, "sigma_ci95": [lo * 1e5, hi * 1e5]}}


def audit_runs() -> list[dict]:
    """The audit's campaign: two 0.35 ps runs, their D intervals clipped at zero, flagged,
    the hotter one's D below the colder one's."""
    return [run("T600K/r0", 600.0, 2.1e-5, 0.0, 6.0e-5, SHORT),
            run("T900K/r0", 900.0, 1.7e-5, 0.0, 4.5e-5, SHORT)]


def arrhenius_runs(rel=0.1, flags=()) -> list[dict]:
    """An ordinary campaign: D on an Arrhenius law (0.3 eV), 10 % errors symmetric in D."""
    out = []
    for T in (600.0, 700.0, 800.0, 900.0, 1000.0):
        D = 1e-3 * np.exp(-0.3 / (KB * T))
        out.append(run(f"T{T:g}K/r0", T, D, D * (1 - 2.13 * rel), D * (1 + 2.13 * rel), flags))
    return out


def decades(interval) -> float:
    lo, hi = interval
    return float(np.log10(hi / lo))


@pytest.mark.parametrize("key", ["D_Li", "sigma_T"])
def test_the_audits_fit_is_marked_with_its_reasons(key):
    runs = audit_runs()
    entry = fit_series(runs, key)
    assert "error" not in entry, entry
    assert "fit_problem" in entry["flags"]
    why = entry["fit_problem"]
    # every fitted temperature flagged: both runs are
    assert "every fitted temperature (600, 900 K) has a run flagged not diffusive" in why
    assert decades(entry["extrapolated_ci95"]) > 4
    assert "decades (more than 4)" in why
    unit = "mS/cm" if key == "sigma_T" else "cm^2/s"
    lo, hi = entry["extrapolated_ci95"]
    assert f"[{lo:.3g}, {hi:.3g}] {unit}" in why        # in the unit printed beside it
    if key == "D_Li":       # D falls from 600 to 900 K: any line through them has Ea < 0
        assert runs[1]["diffusion"][0]["D"] < runs[0]["diffusion"][0]["D"]
        assert entry["Ea_eV"] < 0 and f"Ea = {entry['Ea_eV']:.3g} eV is not positive" in why


def test_each_reason_alone():
    good = fit_series(arrhenius_runs(), "D_Li")
    assert "fit_problem" not in good and "fit_problem" not in good["flags"]
    assert good["Ea_eV"] == pytest.approx(0.3, rel=1e-6)
    # the same values flagged at every temperature: only that reason
    flagged = fit_series(arrhenius_runs(flags=SHORT), "D_Li")["fit_problem"]
    assert "flagged not diffusive" in flagged and "Ea =" not in flagged and "decades" not in flagged
    # flagged at some temperatures only: a result (their flags are listed as before)
    some = arrhenius_runs()
    some[0]["diffusion"][0]["flags"] = SHORT
    assert "fit_problem" not in fit_series(some, "D_Li")
    # D falling with T, tight errors, no flags: Ea <= 0 alone
    falling = [run(r["run"], r["temperature_K"], 1e-5 * (2 - r["temperature_K"] / 1000), 0, 0)
               for r in arrhenius_runs()]
    for r in falling:
        D = r["diffusion"][0]["D"]
        r["diffusion"][0]["D_ci95"] = [0.98 * D, 1.02 * D]
    entry = fit_series(falling, "D_Li")
    assert entry["Ea_eV"] <= 0
    assert "is not positive" in entry["fit_problem"] and "decades" not in entry["fit_problem"]
    # a positive Ea, unflagged runs, errors of 45 % over 3 ions: an interval over 4 decades
    wide = fit_series([run(f"T{T:g}K/r0", T, D, 0.1 * D, 1.9 * D, n_ions=3)
                       for T, D in ((600.0, 1e-6), (650.0, 1.5e-6))], "D_Li")
    assert wide["Ea_eV"] > 0 and decades(wide["extrapolated_ci95"]) > 4
    assert "decades" in wide["fit_problem"] and "Ea =" not in wide["fit_problem"]


def test_analyze_prints_and_records_it(tmp_path, capsys):
    from ionmd.analysis.report import summarise
    from ionmd.cli.analyze import _print_summary

    summary = summarise(audit_runs(), {}, tmp_path)
    why = summary["structures"]["LPS"]["fit_problem"]
    assert why == summary["arrhenius"]["LPS"]["sigma_T"]["fit_problem"]
    _print_summary(summary, False)
    lines = capsys.readouterr().out.splitlines()
    at = next(i for i, x in enumerate(lines) if x.startswith("LPS D_Li: Ea = "))
    assert "[fit_problem]" in lines[at]
    assert any(x.startswith("  NOT A RESULT: the Arrhenius fit means nothing")
               for x in lines[at + 1:at + 3]), lines[at:at + 3]
    # sigma (run_records.sigma_lines): the reason in place of Ea and sigma, no bare number
    at = next(i for i, x in enumerate(lines) if x.startswith("LPS sigma: "))
    assert lines[at] == f"LPS sigma: NOT A RESULT: {why}"
    assert not any(x.startswith("LPS sigma: Ea") for x in lines)
    assert sum(why in x for x in lines) == 1             # said once, not again below it
    csv = (tmp_path / "arrhenius.csv").read_text()
    assert "fit_problem" in csv and ",linear," in csv    # the fit's own method, in D


def test_sweep_collect_records_and_prints_it(tmp_path, morse, monkeypatch, capsys):
    """A campaign of two planned runs whose analysis gives the audit's results (stand-ins
    for the runs' cached analysis): results.csv, results.json and the printed lines."""
    import csv
    import json

    import ionmd.sweep.collect as collect_mod
    from ionmd.cli import main
    from ionmd.sweep import load_campaign
    from ionmd.sweep.plan import plan_campaign
    from sweep_setup import campaign_dir, patch_classify, write_campaign

    path = write_campaign(campaign_dir(tmp_path / "c", morse), temperatures=(600, 900))
    plan_campaign(load_campaign(path), create=True)
    by_T = {r["temperature_K"]: r for r in audit_runs()}

    def cached(run, campaign, charges, jobs=None):
        return {**by_T[float(run.temperature)], "class": "completed", "run": str(run.path)}

    monkeypatch.setattr(collect_mod, "cached_run_results", cached)
    patch_classify(monkeypatch, lambda rd, jobs=None: "completed")
    capsys.readouterr()
    assert main(["sweep", "collect", str(path), "--no-progress"]) == 0
    printed = capsys.readouterr().out.splitlines()
    out = path.parent / "runs" / "collect"
    doc = json.loads((out / "results.json").read_text())
    (key, srec), = doc["structures"].items()
    assert "fit_problem" in srec["flags"] and "decades" in srec["fit_problem"]
    # the reason in place of Ea and sigma (run_records.sigma_lines): no bare number
    assert f"{key} sigma: NOT A RESULT: {srec['fit_problem']}" in printed
    assert sum(srec["fit_problem"] in x for x in printed) == 1
    assert not any(x.startswith(f"{key} sigma: Ea") for x in printed)
    with open(out / "results.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2
    for row in rows:            # beside the row's Ea and sigma(300 K): the D fit's and sigma's
        assert float(row["Ea_eV"]) < 0
        assert row["fit_problem"].startswith("D_Li: the Arrhenius fit means nothing: Ea = ")
        assert " | sigma: the Arrhenius fit means nothing: " in row["fit_problem"]
