"""The files of a summary across runs (:func:`ionmd.analysis.report.summarise`) besides
summary.json: ``arrhenius.csv`` (:func:`write_arrhenius_csv`), the Arrhenius plots
(:func:`plot_arrhenius`) and ``survival.png`` (:func:`plot_survival`), and which of them
an earlier summary wrote (:func:`earlier_summary_plots`). Plots on matplotlib's Agg
backend."""

from __future__ import annotations

import csv
import json
import textwrap
from pathlib import Path

import numpy as np

from ionmd.analysis.result_files import agg_pyplot
from ionmd.analysis.run_records import ea_text


SURVIVAL_PLOT = "survival.png"


def arrhenius_plot_name(series: str, key: str) -> str:
    """The file of a series' Arrhenius plot of ``key`` (D_Li, sigma_T, ...)."""
    return f"arrhenius_{series.replace('/', '_')}_{key}.png"


def earlier_summary_plots(out: Path) -> list[str]:
    """The plots an earlier :func:`analyze_runs` wrote in ``out`` (its summary.json's
    ``outputs``; one written before ``outputs`` were listed: the plots of the fits and
    survival curves it records), removed once a new summary is written, so that no plot
    there is of other runs than the summary now written (a three-run Arrhenius plot beside
    a one-run summary without a fit). None where there is no summary.json of ionmd's (one
    with ``runs`` and ``arrhenius``); files no summary wrote (a user's arrhenius_mine.png, a
    run's msd.png) are never among them."""
    try:
        earlier = json.loads((out / "summary.json").read_text())
    except (OSError, ValueError):
        return []
    if not isinstance(earlier, dict) or not {"runs", "arrhenius"} <= earlier.keys():
        return []
    names = earlier.get("outputs")
    if not isinstance(names, list):
        names = _plots_recorded(earlier)
    return [name for name in names                  # a bare name: never a path out of it
            if isinstance(name, str) and name == Path(name).name and name.endswith(".png")]


def _plots_recorded(summary: dict) -> list[str]:
    """The plots a summary.json without ``outputs`` wrote, by what it records: one per
    Arrhenius fit, and survival.png where it has survival curves."""
    fits = summary.get("arrhenius")
    names = [arrhenius_plot_name(series, key)
             for series, entries in (fits.items() if isinstance(fits, dict) else ())
             if isinstance(series, str) and isinstance(entries, dict)
             for key in entries if isinstance(key, str)]
    return [*names, *([SURVIVAL_PLOT] if summary.get("survival") else [])]


def write_arrhenius_csv(fits: dict, path: Path, models: dict | None = None) -> None:
    """One row per structure and series: Ea, its 95 % interval, prefactor (with its unit:
    mS K/cm for sigma, whose fit is of sigma T) and the extrapolated value (D in cm^2/s;
    sigma in mS/cm); ``models``: the model of each structure's runs (by its key in
    ``fits``; empty where not known). ``fit_problem``, the last column: why the row's fit
    means nothing (:mod:`ionmd.analysis.arrhenius_problems`), so that a reader of the CSV
    alone does not take its numbers for a result; empty where they may be read."""
    models = models or {}
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["structure", "model", "series", "method", "Ea_eV", "Ea_err_eV", "Ea_ci95_lo",
                    "Ea_ci95_hi", "prefactor", "prefactor_unit", "T_extrapolated_K", "extrapolated",
                    "extrapolated_ci95_lo", "extrapolated_ci95_hi", "extrapolated_unit", "flags",
                    "fit_problem"])
        for name, series in fits.items():
            for key, f in series.items():
                sigma = key.startswith("sigma")
                kinisi = f.get("kinisi")
                # the fit's own method ("linear": in D, "mixed", "wls": in ln)
                fitted = [(f.get("method", "wls"), f)]
                for method, g in fitted + ([("kinisi", kinisi)] if kinisi and
                                           "error" not in kinisi else []):
                    scale = 1.0 / g["T_extrapolated"] if sigma else 1.0
                    w.writerow([name, models.get(name) or "", key, method, g["Ea_eV"], g["Ea_err_eV"], *g["Ea_ci95"],
                                # the fit is of sigma T: its prefactor carries the K
                                g["prefactor"], "mS K/cm" if sigma else "cm^2/s",
                                g["T_extrapolated"], g["y_extrapolated"] * scale,
                                *(v * scale for v in g["y_extrapolated_ci95"]),
                                "mS/cm" if sigma else "cm^2/s", ";".join(g.get("flags", [])),
                                g.get("fit_problem") or ""])


NOT_A_RESULT = "not a result: "
"""How the Arrhenius plot labels a fit marked ``fit_problem``, before the reason."""


def plot_arrhenius(T, y, lo, hi, fit, path: Path, ylabel: str,
                   problem: str | None = None) -> None:
    """:func:`arrhenius_figure` saved to ``path``."""
    fig = arrhenius_figure(T, y, lo, hi, fit, ylabel, problem)
    # the reason below the axes: the saved image grows to hold it
    fig.savefig(path, dpi=120, **({"bbox_inches": "tight"} if problem else {}))
    agg_pyplot().close(fig)


def arrhenius_figure(T, y, lo, hi, fit, ylabel: str, problem: str | None = None):
    """The points (``y`` within [``lo``, ``hi``] at each ``T``) and ``fit`` (an
    :class:`~ionmd.analysis.arrhenius.ArrheniusFit`) with its 95 % band, on 1000/T. A fit
    with a ``problem`` (its ``fit_problem``) is drawn dashed and grey, its band faint, and
    labelled :data:`NOT_A_RESULT` with the reason, the title saying so in place of its Ea:
    drawn as a fit that is fine, its line read as a result."""
    plt = agg_pyplot()
    T = np.asarray(T, float)
    fig, ax = plt.subplots(figsize=(5, 4))
    x = 1000.0 / T
    ax.errorbar(x, y, yerr=[np.asarray(y) - lo, np.asarray(hi) - y], fmt="o")
    tt = np.linspace(min(T.min(), fit.T_extrapolated), T.max(), 100)
    value, lo_fit, hi_fit = fit.interval(tt)
    if problem:
        ax.plot(1000 / tt, value, "--", color="0.4",
                label=textwrap.fill(NOT_A_RESULT + problem, 70))
        ax.fill_between(1000 / tt, lo_fit, hi_fit, color="0.6", alpha=0.12)
        ax.set_title(f"NOT A RESULT (Ea = {ea_text(fit.Ea_eV, fit.Ea_err_eV)} means nothing)",
                     fontsize=9)
        # below the axes, whole: the reason is a paragraph, not a legend entry's word
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=6, frameon=False)
    else:
        ax.plot(1000 / tt, value, "-")
        ax.fill_between(1000 / tt, lo_fit, hi_fit, alpha=0.3)
        ax.set_title(f"Ea = {ea_text(fit.Ea_eV, fit.Ea_err_eV)}, band 95 %")
    ax.set_yscale("log")
    ax.set_xlabel("1000 / T (1/K)")
    ax.set_ylabel(ylabel)
    fig.tight_layout()
    return fig


def plot_survival(curves: dict, path: Path) -> None:
    """Kaplan–Meier survival step curves, one per series and condition (the keys of
    :func:`ionmd.analysis.survival.survival_by_condition`, which the legend shows: ``LiCl``
    for a series of one condition, ``LiCl @ 600 K`` where it ran at several), each drawn to
    the end of its longest replica (``end_ps``); ``+`` where a replica stopped without
    failing (censored)."""
    from ionmd.analysis.survival import survival_at

    plt = agg_pyplot()
    fig, ax = plt.subplots(figsize=(5, 4))
    for name, c in curves.items():
        end = c.get("end_ps", c["time_ps"][-1])
        line, = ax.step(c["time_ps"] + [end], c["survival"] + c["survival"][-1:], where="post",
                        label=name)
        cens = c.get("censored_ps", [])
        ax.plot(cens, [survival_at(c, t) for t in cens], "+", color=line.get_color(), ms=9)
    ax.set_xlabel("time (ps)")
    ax.set_ylabel("fraction of replicas stable")
    ax.set_ylim(-0.02, 1.02)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
