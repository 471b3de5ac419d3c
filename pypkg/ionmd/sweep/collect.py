"""``ionmd sweep collect``: analyse every finished run of a campaign with
:mod:`ionmd.analysis` and aggregate them into one table, a row per structure x model x
temperature (CSV and JSON), with replicas combined, Arrhenius fits over temperature
(Ea, sigma(300 K)) and Kaplan-Meier survival curves over replicas.

Replicas are combined in log space: each replica's D (or sigma) has a standard error of
``ln D`` from its 95 % interval; the combined value is their inverse-variance weighted
mean, its error inflated by the replicas' scatter when that exceeds the intervals
(``sqrt`` of the reduced chi-square, as in the Particle Data Group's scale factor).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from ionmd.errors import AnalysisError
from ionmd.sweep.campaign import Campaign
from ionmd.sweep.plan import PlannedRun, plan_campaign
from ionmd.sweep.state import classify

ANALYSED = ("completed", "failed-physical")


def charges_for(campaign: Campaign, structure: str) -> dict[str, float]:
    """Oxidation states for the Nernst-Einstein sigma: the campaign's table, or pymatgen's
    first guess for the structure's composition (``"auto"``; empty when it has none)."""
    if campaign.analysis.charges != "auto":
        return dict(campaign.analysis.charges)
    from ionmd.structures import guess_oxidation_states

    atoms = next(s.atoms for s in campaign.structures if s.name == structure)
    return guess_oxidation_states(atoms.get_chemical_formula())


def cached_run_results(run: PlannedRun, campaign: Campaign, charges: dict[str, float]) -> dict:
    """Results of one run: ``{"class", "failure", "diffusion", "conductivity", ...}``.
    Transport analysis is cached in ``<run>/analysis`` and redone only when the run or
    the analysis settings changed."""
    from ionmd.analysis.report import analyze_run, failures_of
    from ionmd.analysis.run_spec import load_run_spec

    rd = run.rundir
    cls = classify(rd)
    out = {"class": cls, "run": str(rd.path), "replica": run.replica, "status": rd.status}
    if cls not in ANALYSED:
        return out
    a = campaign.analysis
    settings = {"charges": charges, "fit_start_ps": a.fit_start_ps, "fit_end_ps": a.fit_end_ps,
                "window_ps": a.window_ps, "mcmc_samples": a.mcmc_samples,
                "haven_ratio": a.haven_ratio, "failure": a.failure,
                "status": rd.status.get("updated")}
    cache = rd.path / "analysis" / "sweep_collect.json"
    if cache.is_file():
        cached = json.loads(cache.read_text())
        if cached.get("settings") == settings:
            return {**out, **cached["results"]}
    spec = load_run_spec(rd.path, {"charges": charges})
    proto = rd.protocol
    thresholds = dict(a.failure)
    if proto.halt_volume_change is not None:
        # the run checks its own volume (fix halt, against the volume as given, exact to
        # its check interval); the post-mortem's check (against the first frame, i.e.
        # after a relaxation) would disagree with it, so LAMMPS's verdict is the one kept
        thresholds.setdefault("volume_limit", 1e9)
    if proto.temperature_end is not None and proto.temperature_end > run.temperature:
        # a ramp: runaway means twice its highest target, not twice its start
        thresholds.setdefault("runaway_factor", 2.0 * proto.temperature_end / run.temperature)
    if proto.temperature_end is not None or cls == "failed-physical":
        results = {"failure": failures_of(spec, **thresholds).to_dict()}
    else:
        try:
            results = analyze_run(spec, rd.path / "analysis", fit_start_ps=a.fit_start_ps,
                                  fit_end_ps=a.fit_end_ps, window_ps=a.window_ps,
                                  haven_ratio=a.haven_ratio, n_samples=a.mcmc_samples,
                                  failure_options=thresholds)
        except AnalysisError as exc:
            results = {"failure": failures_of(spec, **thresholds).to_dict(),
                       "analysis_error": str(exc)}
    if cls == "failed-physical":
        results["failure"] = _with_status_failure(rd.status, proto, results["failure"])
    cache.parent.mkdir(exist_ok=True)
    cache.write_text(json.dumps({"settings": settings, "results": results}, indent=1))
    return {**out, **results}


def _with_status_failure(status: dict, proto, report: dict) -> dict:
    """The post-mortem ``report`` plus the failure LAMMPS stopped the run for (fix halt on
    the volume, lost atoms), as recorded in ``status.json``."""
    from ionmd.analysis.failure import FailureEvent, FailureReport

    step = int(status["failed_step"])
    mode = status.get("failure_mode") or (
        "volume_change" if "volume" in status.get("reason", "") else "lost_atoms")
    rep = FailureReport.from_dict(report)
    if not any(e.mode == mode and e.step == step for e in rep.events):
        rep.events = sorted(rep.events + [FailureEvent(
            mode=mode, step=step, time_ps=step * proto.timestep_fs * 1e-3,
            temperature_K=status.get("failed_temperature_K"),
            detail=status.get("reason", "stopped by LAMMPS"))], key=lambda e: e.step)
    return rep.to_dict()


def combine_log(values: list[float], intervals: list[tuple[float, float]]) -> dict | None:
    """Combine replicas' values with 95 % intervals (see the module docstring)."""
    from ionmd.analysis.arrhenius import ln_error_from_interval

    pairs = [(v, iv) for v, iv in zip(values, intervals) if v > 0 and iv[1] > 0]
    if not pairs:
        return None
    ln = np.log([v for v, _ in pairs])
    se = np.array([ln_error_from_interval(*iv) for _, iv in pairs])
    w = 1.0 / se ** 2
    mean = float(np.sum(w * ln) / np.sum(w))
    err = float(1.0 / np.sqrt(np.sum(w)))
    if len(pairs) > 1:
        chi2r = float(np.sum(w * (ln - mean) ** 2) / (len(pairs) - 1))
        err *= float(np.sqrt(max(1.0, chi2r)))
    return {"value": float(np.exp(mean)), "ln_err": err,
            "ci95": [float(np.exp(mean - 1.96 * err)), float(np.exp(mean + 1.96 * err))],
            "replicas": [float(v) for v, _ in pairs]}


def _aggregate(results: list[dict], planned: int) -> dict:
    """One row's numbers from the results of a temperature's replicas."""
    done = [r for r in results if r["class"] in ANALYSED]
    failed = [r for r in done if r.get("failure", {}).get("failed")]
    row: dict = {"replicas_planned": planned, "replicas_done": len(done),
                 "replicas_failed": len(failed),
                 "incomplete": planned - len(done),
                 "failure_modes": sorted({m for r in failed for m in r["failure"]["modes"]})}
    if failed:
        firsts = [r["failure"]["first"] for r in failed]
        row["first_failure_ps_mean"] = float(np.mean([f["time_ps"] for f in firsts]))
        temps = [f["temperature_K"] for f in firsts if f["temperature_K"] is not None]
        row["failure_temperature_K_mean"] = float(np.mean(temps)) if temps else None
    flags: set[str] = set()
    by_species: dict[str, list] = {}
    sig_v, sig_i = [], []
    for r in done:
        for d in r.get("diffusion", []):
            if d["direction"] == "xyz":
                by_species.setdefault(d["species"], []).append((d["D"], tuple(d["D_ci95"])))
                flags.update(d["flags"])
        if "conductivity" in r:
            sig_v.append(r["conductivity"]["sigma"])
            sig_i.append(tuple(r["conductivity"]["sigma_ci95"]))
        if "analysis_error" in r:
            flags.add("analysis_error")
    for sp, pairs in by_species.items():
        row[f"D_{sp}"] = combine_log([p[0] for p in pairs], [p[1] for p in pairs])
    if sig_v:
        row["sigma"] = combine_log(sig_v, sig_i)
    row["flags"] = sorted(flags)
    return row


def _arrhenius(rows: list[dict], key: str, times_T: bool) -> dict | None:
    from ionmd.analysis.arrhenius import fit_arrhenius

    pts = [(r["temperature_K"], r[key]) for r in rows if r.get(key)]
    if len({T for T, _ in pts}) < 2:
        return None
    T = np.array([T for T, _ in pts])
    y = np.array([c["value"] for _, c in pts]) * (T if times_T else 1.0)
    try:
        fit = fit_arrhenius(T, y, np.array([c["ln_err"] for _, c in pts]))
    except AnalysisError as exc:
        return {"error": str(exc)}
    out = fit.to_dict()
    scale = 1.0 / fit.T_extrapolated if times_T else 1.0
    out["extrapolated"] = fit.y_extrapolated * scale
    out["extrapolated_ci95"] = [v * scale for v in fit.y_extrapolated_ci95]
    return out


def collect(campaign: Campaign, out_dir: str | Path | None = None, progress: bool = True) -> dict:
    """Analyse and aggregate; writes ``results.csv``, ``results.json`` (and
    ``survival.png`` when a run failed or the protocol is a ramp) under ``out_dir``
    (default ``<output>/collect``) and returns the JSON content."""
    from ionmd.analysis.failure import FailureReport, survival_curves
    from ionmd.analysis.report import plot_survival

    out = Path(out_dir) if out_dir else campaign.output / "collect"
    out.mkdir(parents=True, exist_ok=True)
    runs = plan_campaign(campaign)
    charges = {s.name: charges_for(campaign, s.name) for s in campaign.structures}
    iterator = runs
    if progress:
        from tqdm import tqdm

        iterator = tqdm(runs, desc=f"{campaign.name} (analysing)", unit="run")
    per_run = [(run, cached_run_results(run, campaign, charges[run.structure])) for run in iterator]
    groups: dict[tuple, list] = {}
    for run, res in per_run:
        groups.setdefault((run.structure, run.model, run.temperature), []).append(res)
    rows = []
    for (s, m, T), results in groups.items():
        rows.append({"structure": s, "model": m, "protocol": campaign.protocol.name,
                     "temperature_K": T, **_aggregate(results, len(results))})
    fits: dict[str, dict] = {}
    reports: dict[str, list] = {}
    for s in campaign.structures:
        for mdl in campaign.models:
            mine = [r for r in rows if r["structure"] == s.name and r["model"] == mdl.name]
            key = f"{s.name}/{mdl.name}"
            species = sorted({k[2:] for r in mine for k in r if k.startswith("D_")})
            fits[key] = {f"D_{sp}": _arrhenius(mine, f"D_{sp}", False) for sp in species}
            fits[key]["sigma_T"] = _arrhenius(mine, "sigma", True)
            for r in mine:
                d = fits[key].get(f"D_{species[0]}") if species else None
                sg = fits[key]["sigma_T"]
                r["Ea_eV"] = d.get("Ea_eV") if d else None
                r["Ea_err_eV"] = d.get("Ea_err_eV") if d else None
                r["sigma_300K"] = sg.get("extrapolated") if sg else None
                r["sigma_300K_ci95"] = sg.get("extrapolated_ci95") if sg else None
            reports[key] = [FailureReport.from_dict(res["failure"]) for run, res in per_run
                            if run.structure == s.name and run.model == mdl.name
                            and "failure" in res]
    reports = {k: v for k, v in reports.items() if v}
    survival = survival_curves(reports) if reports else {}
    if survival and (campaign.protocol.temperature_end is not None
                     or any(r.failed for v in reports.values() for r in v)):
        plot_survival(survival, out / "survival.png")
    doc = {"campaign": str(campaign.path), "name": campaign.name,
           "protocol": campaign.protocol.name, "units": {"D": "cm^2/s", "sigma": "mS/cm",
                                                        "Ea": "eV", "time": "ps"},
           "rows": rows, "arrhenius": fits, "survival": survival,
           "runs": [{"run": res["run"], "class": res["class"], "structure": run.structure,
                     "model": run.model, "temperature_K": run.temperature,
                     "replica": run.replica, "seed": run.seed} for run, res in per_run]}
    (out / "results.json").write_text(json.dumps(doc, indent=1))
    write_csv(rows, out / "results.csv")
    return doc


def flat_row(row: dict) -> dict:
    """A table row with each combined value split into value / 95 % interval / replica std."""
    flat = {}
    for k, v in row.items():
        if isinstance(v, dict) and "value" in v:
            unit = "cm2_s" if k.startswith("D_") else "mS_cm"
            flat[f"{k}_{unit}"] = v["value"]
            flat[f"{k}_ci95_lo"], flat[f"{k}_ci95_hi"] = v["ci95"]
            reps = v["replicas"]
            flat[f"{k}_replica_std"] = float(np.std(reps, ddof=1)) if len(reps) > 1 else None
        elif k == "sigma_300K_ci95":
            flat["sigma_300K_ci95_lo"], flat["sigma_300K_ci95_hi"] = v if v else (None, None)
        elif k == "sigma_300K":
            flat["sigma_300K_mS_cm"] = v
        elif isinstance(v, list):
            flat[k] = ";".join(map(str, v))
        else:
            flat[k] = v
    return flat


def write_csv(rows: list[dict], path: Path) -> None:
    flat = [flat_row(r) for r in rows]
    header: list[str] = []
    for f in flat:
        header += [k for k in f if k not in header]
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=header)
        w.writeheader()
        w.writerows(flat)


__all__ = ["cached_run_results", "charges_for", "collect", "combine_log", "flat_row"]
