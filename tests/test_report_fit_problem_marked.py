"""A fit marked ``fit_problem`` (ionmd.analysis.arrhenius_problems) says so in analyze's
arrhenius.csv and Arrhenius plot too, not only in summary.json and the printed lines: the
CSV's last column holds the reason (a reader of the CSV alone took the audit's Ea = -0.07 eV
for a number), and the plot draws such a fit dashed, labelled "not a result: <reason>",
its title saying so in place of a plain Ea. Checked on matplotlib's artists, beside an
ordinary fit drawn as before."""

import csv

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import ionmd.analysis.report as report
import ionmd.analysis.summary_files as summary_files
from ionmd.analysis.aggregate import fit_series
from ionmd.analysis.arrhenius import ArrheniusFit
from ionmd.analysis.summary_files import NOT_A_RESULT, arrhenius_figure

from test_arrhenius_fit_problem import arrhenius_runs, audit_runs

KEYS = ("D_Li", "sigma_T")


@pytest.fixture(scope="module")
def summary_dir(tmp_path_factory):
    """The audit's campaign (LPS: both fits mean nothing) beside an ordinary one (good),
    summarised once; each plot's arguments recorded as summarise passes them."""
    out = tmp_path_factory.mktemp("fp")
    good = [dict(r, structure="good", run="good/" + r["run"]) for r in arrhenius_runs()[::2]]
    calls = []
    real = summary_files.plot_arrhenius

    def recorded(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    mp = pytest.MonkeyPatch()
    mp.setattr(summary_files, "plot_arrhenius", recorded)
    try:
        summary = report.summarise(audit_runs() + good, {}, out)
    finally:
        mp.undo()
    return out, summary, calls


def test_arrhenius_csv_carries_the_reason(summary_dir):
    out, summary, _ = summary_dir
    with open(out / "arrhenius.csv") as fh:
        rows = {(r["structure"], r["series"]): r for r in csv.DictReader(fh)}
    assert set(rows) == {(s, k) for s in ("LPS", "good") for k in KEYS}
    for key in KEYS:
        why = summary["arrhenius"]["LPS"][key]["fit_problem"]
        assert why.startswith("the Arrhenius fit means nothing")
        assert rows["LPS", key]["fit_problem"] == why
        assert "fit_problem" in rows["LPS", key]["flags"].split(";")
        assert "fit_problem" not in summary["arrhenius"]["good"][key]
        assert rows["good", key]["fit_problem"] == ""
        # the columns before it as they were: readers by name or position unchanged
        assert float(rows["good", key]["Ea_eV"]) == pytest.approx(
            summary["arrhenius"]["good"][key]["Ea_eV"])
    with open(out / "arrhenius.csv") as fh:
        header = next(csv.reader(fh))
    assert header[-2:] == ["flags", "fit_problem"] and header[:4] == [
        "structure", "model", "series", "method"]


def _fit_line(ax):
    """The fit's line: the one drawn over the 100 temperatures (the points are an
    errorbar's markers)."""
    lines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 100]
    assert len(lines) == 1
    return lines[0]


def _figure(call):
    """The figure summarise's call drew, made again from its arguments (the PNG aside)."""
    (T, y, lo, hi, fit, _path, ylabel), kwargs = call
    assert isinstance(fit, ArrheniusFit)
    return arrhenius_figure(T, y, lo, hi, fit, ylabel, kwargs.get("problem")), kwargs


def test_the_plot_draws_a_fit_problem_as_not_a_result(summary_dir):
    out, summary, calls = summary_dir
    assert len(calls) == 4
    for call in calls:
        assert call[0][5].is_file()         # each plot written
        fig, kwargs = _figure(call)
        ax = fig.axes[0]
        name = call[0][5].name
        texts = [t.get_text().replace("\n", " ") for t in fig.findobj(
            lambda a: hasattr(a, "get_text"))]
        line = _fit_line(ax)
        if "_LPS_" in name:
            key = name.removeprefix("arrhenius_LPS_").removesuffix(".png")
            why = summary["arrhenius"]["LPS"][key]["fit_problem"]
            assert kwargs["problem"] == why
            assert line.get_linestyle() == "--"
            assert line.get_label().replace("\n", " ") == NOT_A_RESULT + why
            legend = ax.get_legend()
            assert legend is not None and [t.get_text().replace("\n", " ")
                                           for t in legend.get_texts()] == [NOT_A_RESULT + why]
            assert ax.get_title().startswith("NOT A RESULT")
        else:
            assert not kwargs.get("problem")
            assert line.get_linestyle() == "-"
            assert ax.get_title().startswith("Ea = ")
            assert not any("not a result" in t.lower() for t in texts)
        plt.close(fig)


def test_a_plot_without_a_problem_is_drawn_as_before():
    """No ``problem``: one solid line, Ea in the title, no legend."""
    entry = fit_series(arrhenius_runs(), "D_Li")
    assert "fit_problem" not in entry
    pts = entry["points"]
    fig = arrhenius_figure(*(np.array([q[k] for q in pts]) for k in ("temperature_K", "value")),
                           *(np.array([q["ci95"][i] for q in pts]) for i in (0, 1)),
                           ArrheniusFit.from_dict(entry), "D_Li")
    ax = fig.axes[0]
    assert _fit_line(ax).get_linestyle() == "-" and ax.get_legend() is None
    assert ax.get_title().startswith("Ea = 0.3")
    plt.close(fig)
