"""The files of one run's analysis folder: ``results.json`` and ``failure.json``
(always of one analysis: :func:`write_outputs`, :func:`clear_outputs`), ``diffusion.csv``
and ``msd.png``, written beside the earlier analysis's and put in their place only once
complete (:func:`staged_outputs`). Plots use matplotlib's Agg backend (no display needed).
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ionmd import strict_json
from ionmd.analysis import staging


def same_verdict(out_dir: str | Path, results: dict) -> bool:
    """Whether ``out_dir``'s results.json (an earlier analysis of the same run) says what
    ``results``' failure post-mortem says, to the event: then nothing there contradicts it."""
    try:
        earlier = json.loads((Path(out_dir) / "results.json").read_text())
    except (OSError, ValueError):
        return False
    # both as strict JSON reads them: a file of an older release holds NaN for a thermo
    # value the model printed as nan (never equal to itself), the new report null
    return (isinstance(earlier, dict) and earlier.get("run") == results["run"]
            and strict_json.nonfinite_to_null(earlier.get("failure")) == json.loads(
                strict_json.dumps(strict_json.nonfinite_to_null(results["failure"]))))


OUTPUT_FILES = ("results.json", "failure.json", "diffusion.csv", "msd.png",
                "diffusion_before_failure.csv")
"""What an analysis written before results.json listed its ``outputs`` always wrote in its
folder by these names (its structure functions: its ``files``)."""


def earlier_outputs(out_dir: str | Path) -> list[str]:
    """The names of the files an earlier analysis of the run wrote in ``out_dir`` (see
    :func:`clear_outputs`); none where there is no results.json of ionmd's."""
    out = Path(out_dir)
    try:
        earlier = json.loads((out / "results.json").read_text())
    except (OSError, ValueError):
        return []
    if not isinstance(earlier, dict) or not earlier.get("run"):
        return []
    names = earlier.get("outputs")
    if not isinstance(names, list):
        names = [*OUTPUT_FILES, *(Path(f).name for f in earlier.get("files") or [])]
    # a bare name only: never a path out of the folder
    return [n for n in names if isinstance(n, str) and n == Path(n).name and n]


def has_results(out_dir: str | Path) -> bool:
    """Whether ``out_dir`` holds an earlier analysis's results of its run (ionmd's
    results.json naming its ``run``, not one saying it could not be analysed): what a
    failed analysis must leave in place."""
    try:
        earlier = json.loads((Path(out_dir) / "results.json").read_text())
    except (OSError, ValueError):
        return False
    return (isinstance(earlier, dict) and bool(earlier.get("run"))
            and not earlier.get("analysis_error"))


def staged_outputs(out_dir: str | Path, earlier=earlier_outputs, *, plan=None):
    """:func:`ionmd.analysis.staging.staged_outputs`: a folder to write a new analysis of
    the run in, whose files replace the earlier analysis's once complete; the earlier files
    the new analysis did not write are removed (``earlier``: by default
    :func:`clear_outputs`'s rule; ``plan``: the commit decided under its lock)."""
    return staging.staged_outputs(out_dir, earlier, plan=plan)


def mark_summary_stale(out_dir: str | Path, note: str) -> bool:
    """Say in ``out_dir``'s summary.json (``stale``: ``note``) that it is of an earlier
    analysis than the runs' results now written (its summary failed, or it was stopped):
    nothing in it is changed else, and the next summary written replaces it. Returns
    whether there was a summary.json of ionmd's to mark."""
    path = Path(out_dir) / "summary.json"
    with staging.folder_lock(Path(out_dir)):
        try:
            summary = json.loads(path.read_text())
        except (OSError, ValueError):
            return False
        if not isinstance(summary, dict) or not {"runs", "arrhenius"} <= summary.keys():
            return False
        summary["stale"] = note
        marked = path.with_name(".summary.json.marked")
        marked.write_text(json.dumps(summary, indent=2))    # read as JSON: written as read
        st = path.stat()            # its time stays the earlier analysis's
        os.replace(marked, path)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    return True


def clear_outputs(out_dir: str | Path) -> None:
    """Remove the files an earlier analysis of the run wrote in ``out_dir``, so that every
    file there is of the analysis now written (a full analysis's ``diffusion.csv`` beside a
    ``--failures-only`` verdict that the run failed would contradict it): those its
    results.json lists as ``outputs`` (:func:`write_outputs`; older ones: :data:`OUTPUT_FILES`
    and its ``files``). Nothing else is touched: a user's own ``rdf.csv`` or
    ``density_Li.cube`` there, ``sweep_collect.json``, ``run_dir.json``; nothing at all where
    there is no results.json of ionmd's (one that names its ``run``). The folder is the
    run's (``RUN/analysis``, or one :func:`ionmd.analysis.output_layout.claim_output` gave
    it), so an earlier run path (``run``: the folder moved or copied since) is the same
    run's."""
    out = Path(out_dir)
    for name in earlier_outputs(out):
        if (out / name).is_file():
            (out / name).unlink()


def write_outputs(out_dir: str | Path, results: dict, written: Sequence[str] = ()) -> None:
    """``results.json`` and ``failure.json`` (its ``failure``) under ``out_dir``, the two
    always of one analysis (a ``--failures-only`` run after a full analysis left the
    latter's results.json, framework_melting at step 300, beside a failure.json saying
    volume_change at step 2800); ``outputs`` in results.json lists them and the files of
    ``written`` (names in ``out_dir``) the analysis wrote, which the next one removes
    (:func:`clear_outputs`)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results["outputs"] = ["results.json", "failure.json",
                          *(n for n in written if (out / n).is_file())]
    write_results(out, results)


def write_results(out_dir: str | Path, results: dict) -> None:
    """``results.json`` and ``failure.json`` in strict JSON (:mod:`ionmd.strict_json`): the
    failure report's measurements that are not numbers (a diverging model's ``nan``
    thermo) as null; any other NaN or infinity is refused before either file is written."""
    out = Path(out_dir)
    results["failure"] = strict_json.nonfinite_to_null(results["failure"])
    failure = strict_json.dumps(results["failure"], indent=2, what=str(out / "failure.json"))
    whole = strict_json.dumps(results, indent=2, what=str(out / "results.json"))
    (out / "failure.json").write_text(failure)
    (out / "results.json").write_text(whole)


def write_diffusion_csv(results, path: Path, temperature_K: float,
                        levels: Sequence[float] | None = None) -> None:
    """One row per D; ``ci_level``: the level of ``D_ci95_lo``/``_hi`` (``levels``, 0.95;
    0.99 where the run's D-interval rule stopped it)."""
    keys = ["species", "direction", "D", "D_ci95_lo", "D_ci95_hi", "D_std", "D_windowed",
            "D_windowed_stderr", "D_windowed_n", "hops_per_ion", "ions_that_hopped", "n_ions",
            "msd_exponent", "flags"]
    levels = [0.95] * len(results) if levels is None else levels
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["temperature_K"] + keys + ["units", "ci_level"])
        for r, level in zip(results, levels):
            w.writerow([temperature_K, r.species, r.direction, r.D, r.D_ci95[0], r.D_ci95[1],
                        r.D_std, r.D_windowed, r.D_windowed_stderr, r.n_windows, r.hops_per_ion,
                        r.ions_that_hopped, r.n_ions, r.msd_exponent, ";".join(r.flags), "cm^2/s",
                        level])


def agg_pyplot():
    """matplotlib's pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_msd(msds, diff, path: Path) -> None:
    plt = agg_pyplot()
    fig, ax = plt.subplots(figsize=(5, 4))
    for m, d in zip(msds, diff):
        line, = ax.plot(m.lag_ps, m.msd, label=f"{m.species} {m.direction}")
        t = np.array([d.fit_start_ps, d.fit_end_ps])
        ax.plot(t, 2 * m.n_dim * d.D / 1e-4 * t, "--", color=line.get_color(), lw=1)
    ax.set_xlabel("lag time (ps)")
    ax.set_ylabel("MSD (Å$^2$)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)

