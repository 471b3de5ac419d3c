"""What decided, for ``ionmd analyze`` and ``ionmd sweep collect`` alike: one record per
run (its final D interval, hop count, flags and why it stopped) and per structure the
sigma(300 K) interval with the runs that fed its fit and those left out (and why); as
JSON, CSV rows and printed lines.

A run's record (:func:`run_record`)::

    {"run": ".../T600K/r0", "structure": "LGPS", "model": "sevennet",  # run.json's (or None)
     "replica": 0, "temperature_K": 600.0,
     "run_length_ps": 98.0,                   # first to last frame after the discarded
                                              # start (a ramp's too: no D, but its length)
     "state": "completed", "complete": true,  # status.json (None without one)
     "mobile": [{"species": "Li", "direction": "xyz", "D": 1.2e-6, "D_ci95": [1.0e-6, 1.5e-6],
                 # a run stopped by its D_rel_ci rule: D_ci95 is the 99 % interval, with
                 # "interval_level": 0.99 and "D_ci95_unwidened" (the 95 % one)
                 "D_rel_ci": 0.21,            # (hi - lo) / (2 D) of the 95 % interval:
                                              # what a stopping rule checks
                 "hops": 412.0,               # hops_per_ion * n_ions
                 "hops_per_ion": 12.9, "n_ions": 32, "flags": []}],
     "sigma_mS_cm": 0.8, "sigma_ci95": [0.6, 1.0],   # at D's level
     "interval_widened": None,   # why D's interval is the 99 % one (a rule stop), else None
     "flags": [], "failed": false, "failure_modes": [], "analysis_error": null,
     "stop_reason": "converged",   # status.json's (converged, max_time, extended, failed);
                                   # without a stopping rule "planned" once
                                   # completed, else the run's state; None without status.json
     # an interrupted or failed run only: what stopped it, and whether it resumes
     "reason": "stopped at step 4800 of 20000 by LAMMPS's own timer: ...", "resumable": true,
     "stopping": {"until": "D_rel_ci<=0.2,hops>=10", ...}, "n_checks": 5,
     "last_check": {"step": ..., "time_ps": ..., "values": {...}, "met": true}}
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Sequence

from ionmd.analysis.aggregate import left_out, why_left_out

PLANNED = "planned"
"""Stop reason of a completed run without a stopping rule: it ran its planned length."""


def stop_of(status: dict | None) -> dict:
    """``stop_reason``, ``stopping``, ``n_checks`` and ``last_check`` from a run's
    ``status.json`` (all None without one; ``n_checks`` None without a stopping rule); for
    a run that did not complete (interrupted, failed) also its ``reason`` (what stopped it:
    a LAMMPS error, a signal, the template's own ``timer timeout``, ...) and whether it
    resumes (``resumable``)."""
    if status is None:
        return {"stop_reason": None, "stopping": None, "n_checks": None, "last_check": None}
    checks = status.get("checks") or []
    if status.get("stop_reason"):
        reason = status["stop_reason"]
    elif status.get("state") == "completed":
        reason = PLANNED
    else:
        reason = status.get("state")
    ruled = "stopping" in status or bool(checks)
    stop = {"stop_reason": reason, "stopping": status.get("stopping"),
            "n_checks": len(checks) if ruled else None,
            "last_check": checks[-1] if checks else None}
    if status.get("state") in ("interrupted", "failed"):
        stop.update(reason=status.get("reason"), resumable=bool(status.get("resumable")))
    return stop


def mobile_record(d: dict) -> dict:
    """One mobile species' line of a run record from its ``DiffusionResult.to_dict()``."""
    # D_rel_ci as the stopping rule checked it: on the 95 % interval, also where the run
    # reports a wider one (stopped by that rule)
    lo, hi = d.get("D_ci95_unwidened") or d["D_ci95"]
    per_ion, n = d.get("hops_per_ion"), d.get("n_ions")
    rec = {"species": d["species"], "direction": d["direction"], "D": d["D"],
           "D_ci95": list(d["D_ci95"]),
           "D_rel_ci": (hi - lo) / (2 * d["D"]) if d["D"] > 0 else None,
           "hops": per_ion * n if per_ion is not None and n is not None else None,
           "hops_per_ion": per_ion, "n_ions": n, "flags": list(d.get("flags", []))}
    if "interval_level" in d:
        rec.update({k: d[k] for k in ("interval_level", "D_ci95_unwidened")})
    return rec


def interval_level_mark(value: dict) -> str:
    """`` (99%: rule stop)`` beside an interval reported at another level than 95 % (a run
    stopped by its D_rel_ci rule: docs/convergence.md), else ``""``; wherever one is printed."""
    level = value.get("interval_level", 0.95)
    return "" if level == 0.95 else f" ({level:.0%}: rule stop)"


def run_record(results: dict, status: dict | None = None) -> dict:
    """The record of one run (module docstring) from its results (``analyze_run``'s dict,
    or any dict with ``run``/``temperature_K`` for a run not analysed) and its
    ``status.json`` (full, or :attr:`RunSpec.run_status`). D is the xyz one of each mobile
    species (else its first direction)."""
    by_species: dict[str, list[dict]] = {}
    for d in results.get("diffusion") or []:
        by_species.setdefault(d["species"], []).append(d)
    mobile = [mobile_record(next((d for d in ds if d["direction"] == "xyz"), ds[0]))
              for ds in by_species.values()]
    failure = results.get("failure") or {}
    state = (status or {}).get("state", results.get("run_state"))
    # the model after the structure: a runs table of several models' runs tells them apart
    rec = {"run": results.get("run"), "structure": results.get("structure"),
           "model": results.get("model"), "replica": results.get("replica"), "temperature_K": results.get("temperature_K"),
           "run_length_ps": results.get("run_length_ps"), "state": state,
           "complete": results.get("complete", None if status is None else state == "completed"),
           "mobile": mobile}
    if "conductivity" in results:
        rec["sigma_mS_cm"] = results["conductivity"]["sigma"]
        rec["sigma_ci95"] = list(results["conductivity"]["sigma_ci95"])
        # the caveat of its formal charges (an alloy's, a Zintl phase's) stays beside the
        # sigma, for ionmd analyze's summary.json and collect's results.json alike
        if results["conductivity"].get("charges_note"):
            rec["charges_note"] = results["conductivity"]["charges_note"]
    # in the order found, as each D line prints them
    # why D's (and sigma's) interval is wider than 95 % (a stop by its rule), else None
    rec["interval_widened"] = next((d["interval_widened"] for d in results.get("diffusion") or []
                                    if d.get("interval_widened")), None)
    rec.update({"flags": list(dict.fromkeys(f for m in mobile for f in m["flags"])),
                "failed": bool(failure.get("failed")),
                "failure_modes": list(failure.get("modes", [])),
                "analysis_error": results.get("analysis_error"), **stop_of(status)})
    return rec


def sigma_record(runs: Sequence[dict], entry: dict | None) -> dict:
    """sigma(300 K) of a structure from its ``sigma_T`` fit (``fit_series``'s entry, or
    None/``{"error"}`` when there was none) over ``runs`` (the per-run results it was
    fitted from): ``sigma_300K_mS_cm``, ``sigma_300K_ci95``, ``T_extrapolated``,
    ``Ea_eV``/``Ea_err_eV``, ``flags``, ``runs`` (the runs that fed the fit) and
    ``left_out`` (``{"run", "reason"}``); without a fit, the values are None and
    ``note`` says why."""
    if entry is not None and "error" not in entry:
        return {"sigma_300K_mS_cm": entry["extrapolated"],
                "sigma_300K_ci95": list(entry["extrapolated_ci95"]),
                "T_extrapolated": entry["T_extrapolated"], "Ea_eV": entry["Ea_eV"],
                "Ea_err_eV": entry["Ea_err_eV"], "flags": list(entry.get("flags", [])),
                "not_diffusive_T": entry.get("not_diffusive_T", []),
                "incomplete_T": entry.get("incomplete_T", []),
                "runs": list(entry["runs"]), "left_out": entry["left_out"]}
    if entry is not None:
        note = f"fit failed: {entry['error']}"
    else:
        temps = sorted({r["temperature_K"] for r in runs if why_left_out(r, "sigma_T") is None})
        note = ("no run gave a usable sigma" if not temps else
                f"sigma at one temperature only ({temps[0]:g} K): no Arrhenius fit")
    return {"sigma_300K_mS_cm": None, "sigma_300K_ci95": None, "note": note, "runs": [],
            "left_out": left_out(runs, "sigma_T", [], otherwise="no Arrhenius fit")}


# ---- tables and printed lines ----------------------------------------------------------

def flat_record(rec: dict) -> dict:
    """A run record as one CSV row: each mobile species' numbers as ``D_<X>_cm2_s``,
    ``D_<X>_ci95_lo``/``_hi``, ``D_rel_ci_<X>``, ``hops_<X>``, ...; the stopping rule as
    ``until``, ``check_every_ps``, ``max_time_ps``; the last check's values as
    ``last_check_<name>``; lists joined with ``;``."""
    flat: dict = {}
    for k, v in rec.items():
        if k == "mobile":
            for m in v:
                sp = m["species"]
                flat[f"D_{sp}_cm2_s"] = m["D"]
                flat[f"D_{sp}_ci95_lo"], flat[f"D_{sp}_ci95_hi"] = m["D_ci95"]
                flat[f"D_{sp}_direction"] = m["direction"]
                for name in ("D_rel_ci", "hops", "hops_per_ion", "n_ions"):
                    flat[f"{name}_{sp}"] = m[name]
                flat[f"D_{sp}_ci_level"] = m.get("interval_level", 0.95)
        elif k == "stopping":
            for name in ("until", "check_every_ps", "max_time_ps"):
                flat[name] = (v or {}).get(name)
        elif k == "last_check":
            flat["last_check_time_ps"] = (v or {}).get("time_ps")
            for name, value in ((v or {}).get("values") or {}).items():
                if not isinstance(value, (dict, list)):    # per-species details: JSON only
                    flat[f"last_check_{name}"] = value
        elif k == "sigma_ci95":
            flat["sigma_ci95_lo"], flat["sigma_ci95_hi"] = v
        elif isinstance(v, list):
            flat[k] = ";".join(map(str, v))
        elif isinstance(v, dict):
            flat[k] = json.dumps(v)
        else:
            flat[k] = v
    return flat


def write_rows_csv(rows: Sequence[dict], path: str | Path) -> None:
    """Flat dicts as a CSV table, the columns in order of first appearance."""
    header: list[str] = []
    for row in rows:
        header += [k for k in row if k not in header]
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=header)
        w.writeheader()
        w.writerows(rows)


def write_runs_csv(records: Sequence[dict], path: str | Path) -> None:
    """One row per run (:func:`flat_record`)."""
    write_rows_csv([flat_record(r) for r in records], path)


def run_labels(records: Sequence[dict]) -> dict[str, str]:
    """Short names of runs for printing: each run's directory below the runs' common
    folder (one run: its folder name)."""
    paths = [str(r["run"]) for r in records if r.get("run")]
    if not paths:
        return {}
    if len(paths) == 1:
        return {paths[0]: Path(paths[0]).name}
    try:
        common = os.path.commonpath(paths)
    except ValueError:              # absolute and relative paths mixed
        return {p: p for p in paths}
    return {p: (os.path.relpath(p, common) if p != common else Path(p).name) for p in paths}


def stop_text(rec: dict) -> str:
    """``converged (5 checks)``, ``planned``, ``running (2 checks)``, ``interrupted
    (resumable)``, ``-`` (unknown)."""
    reason = rec.get("stop_reason") or "-"
    n = rec.get("n_checks")
    notes = (["resumable"] if rec.get("resumable") else []) + (
        [] if n is None else [f"{n} check{'s' if n != 1 else ''}"])
    return f"{reason} ({', '.join(notes)})" if notes else reason


def ea_text(ea_eV: float, err_eV: float) -> str:
    """``0.236 ± 0.006 eV (s.e.)``: an activation energy with its standard error, said to be
    one (the brackets beside it, and the fit's ``Ea_ci95``, are 95 % intervals); wherever
    an Ea is printed or plotted."""
    return f"{ea_eV:.3f} ± {err_eV:.3f} eV (s.e.)"


def kinisi_line(fit: dict) -> str | None:
    """The printed line of a fit's kinisi cross-check (its ``kinisi`` entry,
    :func:`ionmd.analysis.aggregate.arrhenius_of_points`): why it failed, why it means nothing
    (``fit_problem``: the reason in place of its Ea, as for the least-squares fit), or its Ea
    and 95 % interval; None where the fit has none."""
    k = fit.get("kinisi")
    if not k:
        return None
    if "error" in k:
        return f"  kinisi (Bayesian): {k['error']}"
    if k.get("fit_problem"):
        return f"  kinisi (Bayesian): NOT A RESULT: {k['fit_problem']}"
    return (f"  kinisi (Bayesian): Ea = {k['Ea_eV']:.3f} eV "
            f"[{k['Ea_ci95'][0]:.3f}, {k['Ea_ci95'][1]:.3f}]")


def _g(x, fmt: str = ".3g") -> str:
    return "-" if x is None else format(x, fmt)


def by_temperature(records: Sequence[dict]) -> list[dict]:
    """``records`` by temperature, then run name (those without a temperature last): the
    order of the runs table, whatever the order the runs were given in."""
    labels = run_labels(records)

    def key(rec):
        t = rec.get("temperature_K")
        return (t is None, t or 0.0, labels.get(str(rec.get("run")), str(rec.get("run"))))
    return sorted(records, key=key)


def runs_table(records: Sequence[dict]) -> list[str]:
    """The per-run table (:func:`by_temperature`): one line per run (a continuation line
    per further mobile species): its name, T, length analysed, D with its 95 % interval
    (its 99 % one where the run's D-interval rule stopped it, marked ``(99%: rule stop)``),
    D_rel_ci, hops, flags (or failure) and why it stopped."""
    labels = run_labels(records)
    rows = [["run", "T/K", "ps", "D (cm2/s) [95 %]", "D_rel_ci", "hops", "flags", "stop"]]
    for rec in by_temperature(records):
        name = labels.get(str(rec.get("run")), rec.get("run") or _g(rec.get("temperature_K"), "g") + " K")
        if rec.get("failed"):
            flags = f"FAILED ({', '.join(rec['failure_modes'])})"
        elif rec.get("analysis_error"):
            flags = "analysis error"
        else:
            flags = ", ".join(rec.get("flags", [])) or "-"
        head = [name, _g(rec.get("temperature_K"), "g"), _g(rec.get("run_length_ps"), ".1f")]
        tail = [flags, stop_text(rec)]
        mobile = rec.get("mobile") or [None]
        for i, m in enumerate(mobile):
            if m is None:
                cols = ["-", "-", "-"]
            else:
                lo, hi = m["D_ci95"]
                direction = "" if m["direction"] == "xyz" else f", {m['direction']}"
                cols = [f"{m['species']}{direction} {m['D']:.3g} [{lo:.3g}, {hi:.3g}]"
                        f"{interval_level_mark(m)}",
                        _g(m["D_rel_ci"], ".2f"), _g(m["hops"], ".0f")]
            rows.append((head if i == 0 else [""] * 3) + cols + (tail if i == 0 else ["", ""]))
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    right = {1, 2, 4, 5}
    return ["  ".join((c.rjust(w) if k in right else c.ljust(w))
                      for k, (c, w) in enumerate(zip(r, widths))).rstrip() for r in rows]


def short_run_names(records: Sequence[dict]) -> dict[str, str]:
    """``600K r0`` per run when every run is in a replica folder ionmd named (``.../r0``,
    its run.json's ``replica``) and that names each run of the group once, else
    :func:`run_labels` (a hand run's folder, ``600K/run1``: no replica number is made up
    for it)."""
    short = {str(r["run"]): f"{r['temperature_K']:g}K r{r.get('replica') or 0}"
             for r in records if r.get("run") and r.get("temperature_K") is not None
             and Path(str(r["run"])).name == f"r{r.get('replica') or 0}"}
    if len(set(short.values())) == len(short) == len([r for r in records if r.get("run")]):
        return short
    return run_labels(records)


def sigma_lines(name: str, srec: dict, records: Sequence[dict], width: int = 100) -> list[str]:
    """Printed lines of a structure's sigma(300 K) (:func:`sigma_record`): the value and
    its 95 % interval, the runs that fed the fit (flagged ones marked) and those left out
    with why. ``records`` are the run records of the structure's runs (for their names).
    A fit marked ``fit_problem`` (:mod:`ionmd.analysis.arrhenius_problems`) gets its reason in
    place of its Ea and sigma: no caller can print them as a result."""
    names = short_run_names(records)
    flags = {str(r["run"]): r.get("flags", []) for r in records if r.get("run")}
    if srec["sigma_300K_mS_cm"] is not None:
        lo, hi = srec["sigma_300K_ci95"]
        extra = f"  [{', '.join(srec['flags'])}]" if srec.get("flags") else ""
        if srec.get("fit_problem"):     # the reason in place of numbers that mean nothing
            lines = [f"{name} sigma: NOT A RESULT: {srec['fit_problem']}"]
        else:
            lines = [f"{name} sigma: Ea = {ea_text(srec['Ea_eV'], srec['Ea_err_eV'])}, "
                     f"sigma({srec['T_extrapolated']:.0f} K) = {srec['sigma_300K_mS_cm']:.3g} "
                     f"mS/cm [{lo:.3g}, {hi:.3g}]{extra}"]
        fed = [names.get(r, r) + (f" [{', '.join(flags[r])}]" if flags.get(r) else "")
               for r in srec["runs"]]
        lines += _wrap(f"from {len(fed)} run(s): ", [f + "," for f in fed[:-1]] + fed[-1:], width)
    else:
        lines = [f"{name} sigma: no sigma(300 K): {srec['note']}"]
    return lines + left_out_lines(srec["left_out"], records, width)


def left_out_lines(left_out: Sequence[dict], records: Sequence[dict],
                   width: int = 100) -> list[str]:
    """``  left out: a, b (reason); c (other reason)``: the runs a fit left out
    (``left_out``: ``{"run", "reason"}``), named as in the runs table (``records``: the run
    records of the fit's series); none where none was left out."""
    if not left_out:
        return []
    names = short_run_names(records)
    by_reason: dict[str, list[str]] = {}
    for x in left_out:
        by_reason.setdefault(x["reason"], []).append(names.get(x["run"], x["run"]))
    pieces = []
    for reason, group in by_reason.items():     # "a, b (reason); c (other reason)"
        pieces += [g + "," for g in group[:-1]] + [f"{group[-1]} ({reason});"]
    return _wrap("left out: ", pieces[:-1] + [pieces[-1][:-1]], width)


def _wrap(prefix: str, pieces: list[str], width: int) -> list[str]:
    """``  prefix piece piece ...`` over lines of about ``width``, never inside a piece."""
    lines, line = [], "  " + prefix
    for piece in pieces:
        if len(line) + len(piece) > width and line.strip() != prefix.strip():
            lines.append(line.rstrip())
            line = "    "
        line += piece + " "
    return lines + [line.rstrip()]


__all__ = ["PLANNED", "by_temperature", "ea_text", "flat_record", "left_out_lines", "mobile_record",
           "run_labels",
           "run_record", "runs_table", "sigma_lines", "sigma_record", "stop_of", "stop_text",
           "write_runs_csv"]
