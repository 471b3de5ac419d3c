"""``ionmd analyze RUN_DIR...``: transport properties and failure post-mortem of runs.

Each run directory's ``run.json`` (schema in :mod:`ionmd.analysis.run_json`) supplies what
the files do not say; every field can be given or overridden by a flag. A run directory
may hold a LAMMPS run or a trajectory ionmd did not write (VASP ``XDATCAR``, extended XYZ,
ASE ``.traj``: :mod:`ionmd.analysis.ase_frames`).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

from ionmd.cli.options import element_symbol, element_symbols
from ionmd.errors import IonmdError


def _pairs(text: str | None, key=str, value=str) -> dict | None:
    """``"1=Li,2=Cl"`` -> {1: "Li", 2: "Cl"}."""
    if not text:
        return None
    out = {}
    for item in text.split(","):
        k, _, v = item.partition("=")
        try:
            k, v = key(k.strip()), value(v.strip())
        except ValueError:
            v = ""
        if v == "" or k == "":
            raise IonmdError(f"expected KEY=VALUE pairs such as Li=1,Cl=-1 or 1=Cl,2=Li; "
                             f"got {item!r}")
        # one value per key: a second would silently replace the first
        if k in out:
            raise IonmdError(f"{k} is given twice in {text!r} ({out[k]} and {v}): "
                             "give each key once")
        out[k] = v
    return out


def _number(text: str) -> float | str:
    """A number as typed, else the text itself, which the charges' check then names
    (``the charge of Li is 'one', no number``) as it names a campaign file's."""
    try:
        return float(text)
    except ValueError:
        return text


def _type_map(text: str | None) -> dict[int, str] | None:
    """``--type-map``: LAMMPS types (1, 2, ...) to element symbols; a wrong symbol is
    refused here, not met later as a traceback or as a species missing from the run."""
    pairs = _pairs(text, key=int)
    for atom_type, symbol in (pairs or {}).items():
        if atom_type < 1:
            raise IonmdError(f"--type-map: LAMMPS atom types start at 1, got {atom_type}")
        try:
            element_symbol(symbol)
        except argparse.ArgumentTypeError as e:
            raise IonmdError(f"--type-map: type {atom_type}: {e}") from None
    return pairs


# Settings whose flag defaults to None: a campaign's [analysis] where the run folder is a
# campaign's (run_campaign_settings.settings_for), else the default each help names. One
# table per group: the flags, and the keys run() and _analyze_one() read, come from it.
FIT_SETTINGS = {
    "fit_end_ps": "end of the MSD fit, ps (default half of the run after the discard)",
    "window_ps": "windowed-fit length (PES seed; default 15)",
    "haven_ratio": "Haven ratio H_R the Nernst-Einstein sigma is divided by (default 1: "
                   "uncorrelated ions; the collective sigma, --collective, needs none)",
}
# detect_failures' own defaults (0.5, 2, 0.5, 0.5)
FAILURE_THRESHOLDS = {
    "volume_limit": "failure if |V/V0 - 1| exceeds this (default 0.5)",
    "runaway_factor": "failure if T (running mean) exceeds this times the target (default 2)",
    "melt_fraction": "failure if framework RMS displacement exceeds this x its NN distance "
                     "(default 0.5)",
    "collapse_fraction": "failure if two atoms come closer than this x their covalent radii "
                         "sum (default 0.5)",
}


def _add_campaign_settings(p, settings: dict) -> None:
    """One ``--key-name`` float flag, default None, per key of ``settings``."""
    for key, text in settings.items():
        p.add_argument("--" + key.replace("_", "-"), type=float, default=None, help=text)


def _given(args: argparse.Namespace, settings: dict) -> dict:
    """{key: the flag's value, None where not given} for each key of ``settings``."""
    return {key: getattr(args, key) for key in settings}


def register(subparsers) -> None:
    p = subparsers.add_parser("analyze", help="analyse run directories (MSD, D, sigma, Arrhenius, failures)")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR",
                   help="a run's folder, or its trajectory file (an XDATCAR, a .traj: the "
                        "results then go to its folder's analysis/)")
    p.add_argument("-o", "--output", default=None,
                   help="output folder: each run's results in OUT/<its path below the runs' "
                        "common folder>, the summary in OUT (default: <RUN_DIR>/analysis per "
                        "run, summary in the first)")
    p.add_argument("--temperature", type=float, help="thermostat target, K")
    p.add_argument("--timestep-fs", type=float,
                   help="MD time step, fs (VASP: POTIM, read from an INCAR beside an XDATCAR)")
    p.add_argument("--dump-every", type=int,
                   help="steps between frames (checked; VASP: NBLOCK)")
    p.add_argument("--discard-ps", type=float, help="equilibration time to drop, ps")
    p.add_argument("--mobile", type=element_symbols,
                   help="mobile species, comma separated (default Li)")
    p.add_argument("--charges", help="oxidation states, e.g. Li=1,Cl=-1 (in place of "
                                     "run.json's: where they differ, a note names both)")
    p.add_argument("--type-map", help="LAMMPS type -> element, e.g. 1=Cl,2=Li")
    p.add_argument("--data-file", help="LAMMPS data file (relative to RUN_DIR)")
    p.add_argument("--atom-style", help="columns of the data file's Atoms section, e.g. "
                                        "'id type q x y z' (default: those of the style its "
                                        "'Atoms # style' line names, else 'id type x y z')")
    p.add_argument("--trajectory", help="trajectory pieces in run order, comma separated: LAMMPS "
                                        "DCD, dump (custom/atom, also compressed) or XTC files, "
                                        "or (read through ASE) VASP XDATCAR, extended XYZ "
                                        "(.extxyz, .xyz), ASE .traj")
    p.add_argument("--trajectory-format",
                   help="ASE format of a non-LAMMPS trajectory (default: by file name: "
                        "vasp-xdatcar, extxyz or traj)")
    p.add_argument("--dump-unwrapped", action="store_true", default=None,
                   help="files hold LAMMPS-unwrapped coordinates in a constant box: use as is")
    p.add_argument("--directions", default="xyz",
                   help="MSD directions, comma separated: xyz, xy, xz, yz, x, y, z (default xyz)")
    p.add_argument("--fit-start-ps", type=float, default=None,
                   help="start of the MSD fit, ps (default: for a run with a stopping rule, "
                        "the start its checks fitted from, status.json's "
                        "stopping.fit_start_ps, so that D's interval is the one the rule "
                        "decided on; else 1). This, --fit-end-ps, --window-ps, --haven-ratio "
                        "and the failure thresholds default to a campaign's [analysis] where "
                        "the run folder is a campaign's (campaign_analysis.json), as sweep "
                        "collect analyses it")
    _add_campaign_settings(p, FIT_SETTINGS)
    p.add_argument("--hop-length", type=float, default=1.5,
                   help="distance (A) from its last site beyond which an ion's move counts as a hop")
    p.add_argument("--min-hops", type=float, default=1.0,
                   help="flag D as not yet diffusive below this many hops per mobile ion")
    p.add_argument("--mcmc-samples", type=int, default=400,
                   help="kinisi MCMC samples per walker of --arrhenius-kinisi (16 walkers, "
                        "thinned by 10); D, sigma and their intervals need none")
    p.add_argument("--collective", action="store_true",
                   help="also the charge-MSD conductivity (and its Arrhenius fit over runs)")
    p.add_argument("--arrhenius-kinisi", action="store_true",
                   help="also kinisi's Bayesian (MCMC) Arrhenius fit, next to weighted least squares")
    p.add_argument("--structure-functions", action="store_true",
                   help="also RDFs, van Hove self and distinct functions and a density CUBE "
                        "file per mobile species (atoms/Bohr^3: integrates to their number)")
    p.add_argument("--van-hove-lags-ps", default=None,
                   help="van Hove lag times, ps, comma separated (default 5, 10, 25, 50 %% of the run)")
    p.add_argument("--failures-only", action="store_true", help="only the failure post-mortem")
    _add_campaign_settings(p, FAILURE_THRESHOLDS)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int | None:
    """Analyse each run, then what needs several (Arrhenius, survival). A run that cannot
    be analysed (a truncated dump, a bad run.json, or an unexpected error such as a
    LinAlgError) is reported on stderr and in the summary (``analysis_error`` in its record,
    left out of the fits), the others go on; the exit status is then ``EXIT_ERROR``."""
    from ionmd.analysis.output_layout import output_dirs
    from ionmd.errors import EXIT_SIGNAL_BASE

    overrides = {
        "temperature_K": args.temperature, "timestep_fs": args.timestep_fs,
        "dump_every": args.dump_every, "discard_ps": args.discard_ps,
        "mobile_species": args.mobile or None,
        # checked with each run's mobile species, as run.json's are (load_run_spec)
        "charges": _pairs(args.charges, value=_number),
        "type_map": _type_map(args.type_map),
        "data_file": args.data_file, "dump_unwrapped": args.dump_unwrapped,
        "atom_style": args.atom_style,
        "trajectory": args.trajectory.split(",") if args.trajectory else None,
        "trajectory_format": args.trajectory_format,
    }
    thresholds = _given(args, FAILURE_THRESHOLDS)
    run_dirs = _named_run_dirs(args.run_dirs)
    folders = _run_folders(run_dirs)
    outs = (output_dirs(folders, args.output) if args.output
            else [Path(d) / "analysis" for d in folders])
    summary_dir = Path(args.output) if args.output else Path(folders[0]) / "analysis"
    before = [_results_stamp(out) for out in outs]
    with _sigterm_stops():
        try:
            return _analyze_all(args, run_dirs, outs, summary_dir, overrides, thresholds)
        except _Stopped as stop:    # the staging folder went; a second SIGTERM is ignored
            written = [str(o) for o, b in zip(outs, before) if _results_stamp(o) != b]
            print("ionmd: stopped by SIGTERM: the files being written were discarded (the "
                  "earlier ones kept)"
                  + (f"; new results were written in {', '.join(written)}"
                     + _stale_said(summary_dir, "stopped by SIGTERM") if written else "")
                  + "; analyse again", file=sys.stderr)
            return EXIT_SIGNAL_BASE + stop.signum


def _analyze_all(args, run_dirs, outs, summary_dir, overrides, thresholds) -> int | None:
    """:func:`run`'s work: each run analysed and written, then the summary."""
    from ionmd.analysis.failure import FailureReport
    from ionmd.analysis.report import analyze_runs
    from ionmd.analysis.run_analysis import analysis_error_results
    from ionmd.analysis.series_identity import series_key
    from ionmd.errors import EXIT_ERROR

    results, reports, errors = [], {}, []
    for run_dir, out in zip(run_dirs, outs):
        spec = None
        try:
            spec = _load_spec(run_dir, out, overrides, args.output)
            _note_replaced_charges(spec)
            _note_settings(spec)
            res = _analyze_one(spec, out, args, thresholds)
        except Exception as exc:  # noqa: BLE001 - one run (also an unexpected error, e.g.
            # a LinAlgError in kinisi) must not cost the others their summary
            if len(run_dirs) == 1:
                _note_kept(out, Path(args.output) if args.output else out)
                raise
            if not isinstance(exc, IonmdError):
                exc = IonmdError(f"{type(exc).__name__}: {exc}")
            print(f"ionmd: error: {run_dir} not analysed: {exc}", file=sys.stderr)
            errors.append(exc)
            # a spec read means its output folder is this run's: say there why it is empty
            # (an earlier analysis's results there are kept: analysis_error says so)
            results.append(analysis_error_results(run_dir, spec, exc, out if spec else None))
            if results[-1].get("previous_results_kept"):
                print(f"ionmd: note: {run_dir}: previous results kept in {out} (of an earlier "
                      f"analysis)", file=sys.stderr)
            if spec is not None:
                _claim(out, spec, args.output)
            continue
        _claim(out, spec, args.output)
        results.append(res)
        # replicas of one series: one structure and cell under one model (analysis.report)
        reports.setdefault(series_key(res), []).append(FailureReport.from_dict(res["failure"]))
        _print_run(spec.path, res)
    if len(errors) == len(run_dirs):
        kept = [r["previous_results_kept"] for r in results if r.get("previous_results_kept")]
        raise IonmdError(f"none of the {len(run_dirs)} runs could be analysed (errors above)"
                         + _kept_text(kept, summary_dir))
    try:
        summary = analyze_runs(results, reports, summary_dir, kinisi_fit=args.arrhenius_kinisi,
                               n_samples=args.mcmc_samples)
    except Exception as exc:  # noqa: BLE001 - the runs' results are written: said with it
        why = f"{type(exc).__name__}: {exc}"
        raise IonmdError(f"the summary could not be written ({why}): the runs' results "
                         f"were written" + _stale_said(summary_dir, f"its summary failed: "
                                                       f"{why}")
                         + "; fix the error and analyse again") from exc
    _print_summary(summary, args.failures_only)
    print(f"summary (runs, Arrhenius, survival) in {summary_dir}")
    if errors:
        print(f"ionmd: error: {len(errors)} of {len(run_dirs)} runs could not be analysed "
              f"(above; 'analysis_error' in {summary_dir / 'summary.json'}): fix them and "
              f"analyse again", file=sys.stderr)
        return EXIT_ERROR
    return None


class _Stopped(BaseException):
    """SIGTERM in :func:`run`: no Exception, so that no run's error handling takes it."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


@contextmanager
def _sigterm_stops():
    """SIGTERM (scancel, a batch system's time limit) as :class:`_Stopped` in the main
    thread, so that the staging folder of the run being analysed is removed on the way out
    (Python's default SIGTERM ends the process without running ``finally``); a second
    SIGTERM then is ignored, so that the removal finishes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise _Stopped(signum)

    old = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _results_stamp(out: Path):
    """What tells whether ``out``'s results.json was replaced (each is written anew and
    renamed in place: another inode)."""
    try:
        st = (out / "results.json").stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


def _stale_said(summary_dir: Path, why: str) -> str:
    """``, but summary.json in X is of the earlier analysis (...)`` where there is one (it
    is marked ``stale``), else ``; no summary was written``."""
    import time

    from ionmd.analysis.result_files import mark_summary_stale

    path = summary_dir / "summary.json"
    try:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
    except OSError:
        return "; no summary was written"
    note = (f"of an earlier analysis (written {when}): the runs' results were replaced since "
            f"by an analysis that wrote no summary ({why}); analyse again")
    if not mark_summary_stale(summary_dir, note):
        return f", but {path} is of an earlier analysis (written {when})"
    return (f", but summary.json in {summary_dir} and its fits are of the earlier analysis "
            f"(written {when}; marked 'stale' in it)")


def _named_run_dirs(run_dirs: list[str]) -> list[str]:
    """The run directories as given, unless one has no name of its own ('.', '..'; a
    trajectory file given in place of its folder, in the working folder: `ionmd analyze
    md.extxyz` was printed as a run without a name, recorded as '.'): the name is what
    runs are printed as and what a structure defaults to, so then all are given as
    resolved paths (resolving one only would leave no common folder to name the others
    below)."""
    def folder(d: str) -> Path:
        return Path(d).parent if Path(d).is_file() else Path(d)

    if all(folder(d).name not in ("", ".", "..") for d in run_dirs):
        return list(run_dirs)
    return [str(Path(d).resolve()) for d in run_dirs]


def _run_folders(run_dirs: list[str]) -> list[str]:
    """Each run's folder (a trajectory file given as a run stands for its folder, where its
    results go); two files of one folder would share it, so they are refused."""
    folders, seen = [], {}
    for given in run_dirs:
        folder = str(Path(given).parent) if Path(given).is_file() else given
        key = Path(folder).resolve()
        if Path(given).is_file() and key in seen:
            raise IonmdError(
                f"{seen[key]} and {given} are files of one folder, whose analysis/ would hold "
                f"both: if they are pieces of one run, give `{folder} --trajectory "
                f"{Path(seen[key]).name},{Path(given).name}`; if they are separate runs, put "
                f"each in its own folder")
        seen[key] = given
        folders.append(folder)
    return folders


def _load_spec(run_dir: str, out: Path, overrides: dict, output: str | None):
    from ionmd.analysis.output_layout import check_output
    from ionmd.analysis.run_spec import load_run_spec

    spec = load_run_spec(run_dir, overrides)
    if output:       # <RUN_DIR>/analysis belongs to its run anyway
        check_output(out, spec.path)
    return spec


def _claim(out: Path, spec, output: str | None) -> None:
    """Record whose results ``OUT/...`` holds (``-o``), once they are written there."""
    from ionmd.analysis.output_layout import claim_output

    if output:
        claim_output(out, spec.path)


def _kept_text(kept: list[str], summary_dir: Path) -> str:
    """``; previous results kept in ...``: the folders whose earlier results a failed
    analysis left as they were, and the summary beside them, of the same earlier analysis."""
    if not kept:
        return ""
    said = f"; previous results kept in {', '.join(kept)}"
    if (summary_dir / "summary.json").is_file():
        said += f" and their summary in {summary_dir}"
    return said + " (of the earlier analysis)"


def _note_kept(out: Path, summary_dir: Path) -> None:
    """Where a single run's analysis failed, say that its earlier results stand."""
    from ionmd.analysis.result_files import has_results

    if has_results(out):
        print(f"ionmd: note: the analysis failed; {_kept_text([str(out)], summary_dir)[2:]}",
              file=sys.stderr)


def _note_replaced_charges(spec) -> None:
    """Where --charges replaced other charges of the run's run.json, say so on stderr (the
    run's results say it too: ``charges_replaced``, ionmd.analysis.run_inputs), so that a sigma
    that is not the one of the run's own record does not pass without a word."""
    if spec.charges_replaced:
        print(f"ionmd: note: {spec.path}: {spec.charges_replaced}", file=sys.stderr)


def _note_settings(spec) -> None:
    """Each of the run's settings notes on stderr (a folder named ``T1000`` analysed at the
    1300 K its logs' thermostat says: :attr:`RunSpec.settings_notes`; its results say them
    too), beside the replaced-charges note."""
    for note in spec.settings_notes:
        print(f"ionmd: note: {spec.path}: {note}", file=sys.stderr)


def _analyze_one(spec, out: Path, args: argparse.Namespace, thresholds: dict) -> dict:
    """One run's results: the failure post-mortem only, or the full analysis. Settings
    not given as flags are the run's campaign's where it is a campaign's run (as sweep
    collect analyses it, said on stderr), else the defaults."""
    from ionmd.analysis.convergence import rule_fit_start
    from ionmd.analysis.run_analysis import analyze_failures, analyze_run
    from ionmd.analysis.run_campaign_settings import settings_for

    given = {"fit_start_ps": args.fit_start_ps, **_given(args, FIT_SETTINGS), **thresholds}
    values, note = settings_for(spec.path, given)
    if note:
        print(f"ionmd: note: {spec.path}: {note}", file=sys.stderr)
    thresholds = {k: values[k] for k in thresholds if values[k] is not None}
    if args.failures_only:
        return analyze_failures(spec, out, **thresholds)
    fit_start = values["fit_start_ps"]
    if fit_start is None:        # a rule run: as its checks fitted (and sweep collect does)
        fit_start = rule_fit_start(spec.run_status)
    return analyze_run(spec, out, directions=args.directions.split(","),
                       fit_start_ps=1.0 if fit_start is None else fit_start,
                       fit_end_ps=values["fit_end_ps"],
                       window_ps=15.0 if values["window_ps"] is None else values["window_ps"],
                       haven_ratio=(1.0 if values["haven_ratio"] is None
                                    else values["haven_ratio"]),
                       collective=args.collective, structure_functions=args.structure_functions,
                       hop_length=args.hop_length,
                       min_hops=args.min_hops, failure_options=thresholds,
                       van_hove_lags_ps=([float(t) for t in args.van_hove_lags_ps.split(",")]
                                         if args.van_hove_lags_ps else None))


def _label(summary: dict, name: str) -> str:
    """A series' name as printed: with its model where the name does not say it (a
    structure whose runs are of one model)."""
    rec = summary.get("series", {}).get(name) or {}
    if rec.get("model") and name == rec.get("structure"):
        return f"{name} (model {rec['model']})"
    return name


def _print_summary(summary: dict, failures_only: bool) -> None:
    """The runs table, the Arrhenius fits and each series' sigma(300 K), then warnings
    (on stderr: a series whose runs may be of different models)."""
    from ionmd.analysis.run_records import ea_text, runs_table

    print()
    print("\n".join(runs_table(summary["runs"])))
    said: set[str] = set()          # notes printed under their fit: not said again below
    for name, fits in summary["arrhenius"].items():
        for key, fit in fits.items():
            said |= {f"{name} {key}: {t['reason']}" for t in fit.get("not_resolved", [])}
            if key == "sigma_T":      # with the runs behind it, below
                _print_sigma(name, summary, fit)
                continue
            if key.startswith("sigma"):
                key, value, (lo, hi) = (key[:-2], fit["sigma_extrapolated_mS_cm"],
                                        fit["sigma_extrapolated_ci95"])
                unit = "mS/cm"
            else:
                value, (lo, hi) = fit["y_extrapolated"], fit["y_extrapolated_ci95"]
                unit = "cm^2/s"
            flags = f"  [{', '.join(fit['flags'])}]" if fit["flags"] else ""
            if fit.get("not_diffusive_T"):
                temps = ", ".join(f"{t:g}" for t in fit["not_diffusive_T"])
                flags += f"  (not yet diffusive at {temps} K)"
            print(f"{_label(summary, name)} {key}: Ea = {ea_text(fit['Ea_eV'], fit['Ea_err_eV'])}, "
                  f"{key}({fit['T_extrapolated']:.0f} K) = {value:.3g} {unit} [{lo:.3g}, {hi:.3g}]"
                  f"{flags}")
            if fit.get("fit_problem"):  # its numbers mean nothing: said so beside them
                print(f"  NOT A RESULT: {fit['fit_problem']}")
            lines = _fit_lines(fit, fit.get("left_out", []), _series_runs(summary, name))
            if lines:       # said, not only in summary.json (a run whose D is not positive)
                print("\n".join(lines))
            _print_kinisi(fit)
    if not failures_only:
        for name in summary["structures"]:
            if "sigma_T" not in summary["arrhenius"].get(name, {}):
                _print_sigma(name, summary, None)
    for note in summary.get("notes", []):       # runs of one name split by their cells
        if note not in said:
            print(f"ionmd: note: {note}", file=sys.stderr)
    for warning in summary.get("warnings", []):
        print(f"ionmd: warning: {warning}", file=sys.stderr)


def _series_runs(summary: dict, name: str) -> list[dict]:
    """The run records of a series' runs (for their names)."""
    mine = set(summary.get("series", {}).get(name, {}).get("runs", []))
    return [r for r in summary["runs"] if r["run"] in mine]


def _own_lines(fit: dict, records: list[dict]) -> tuple[list[str], set[str]]:
    """Lines of their own for what a fit left out that the user can act on, and the runs
    they name: a temperature not resolved (its runs, then why: an upper bound; run longer
    or add replicas) and a run repeating another's trajectory (counted once; give each
    campaign its own seed). Before, these were said on stderr only, or run together with
    every other run left out."""
    from ionmd.analysis.run_records import short_run_names

    names = short_run_names(records)
    lines, runs = [], set()
    for t in fit.get("not_resolved", []):
        lines.append(f"  {', '.join(names.get(r, r) for r in t['runs'])}: {t['reason']}")
        runs.update(t["runs"])
    for x in fit.get("left_out", []):
        repeated = _repeated_run(x["reason"], names)
        if repeated is not None:
            why = x["reason"].replace(repeated, names.get(repeated, repeated), 1)
            lines.append(f"  {names.get(x['run'], x['run'])}: {why}")
            runs.add(x["run"])
    return lines, runs


def _repeated_run(reason: str, names: dict[str, str]) -> str | None:
    """The run whose trajectory a left-out run repeats, where ``reason`` says one
    (:func:`ionmd.analysis.same_trajectory.same_trajectory_reason`); None otherwise."""
    for run in names:
        if reason.startswith(f"the same trajectory as {run}: "):
            return run
    return None


def _fit_lines(fit: dict, left_out: list[dict], records: list[dict]) -> list[str]:
    """The runs a fit left out (``left_out``): those with a line of their own
    (:func:`_own_lines`) on it, the rest as ``left out: ...``."""
    from ionmd.analysis.run_records import left_out_lines

    own, runs = _own_lines(fit, records)
    return left_out_lines([x for x in left_out if x["run"] not in runs], records) + own


def _print_sigma(name: str, summary: dict, fit: dict | None) -> None:
    """A series' sigma(300 K), the runs that fed it and those left out."""
    from ionmd.analysis.run_records import sigma_lines

    records, srec = _series_runs(summary, name), summary["structures"][name]
    # a fit_problem is said by sigma_lines in place of the numbers
    lines = sigma_lines(_label(summary, name), {**srec, "left_out": []}, records)
    print("\n".join(lines + _fit_lines(fit or {}, srec.get("left_out", []), records)))
    note = srec.get("charges_note")
    if note:
        print(f"  charges: {note}")
    if fit:
        _print_kinisi(fit)


def _print_kinisi(fit: dict) -> None:
    from ionmd.analysis.run_records import kinisi_line

    line = kinisi_line(fit)
    if line:
        print(line)


def _print_run(path: Path, res: dict) -> None:
    f = res["failure"]
    if f["failed"]:
        first = f["first"]
        temperature, target = first.get("temperature_K"), first.get("target_temperature_K")
        print(f"{path}: FAILED ({', '.join(f['modes'])}); first {first['mode']} at step "
              f"{first['step']} ({first['time_ps']:.3f} ps"
              + (f", T = {temperature:.1f} K" if temperature is not None else ", T unknown")
              + (f", target {target:.1f} K" if target is not None else "") + ")")
    else:
        print(f"{path}: no failure over {f['run_end_ps']:.3f} ps")
    if res.get("incomplete"):
        print(f"  INCOMPLETE: {res['incomplete']}")
    if res.get("no_transport"):       # a ramp: no D nor sigma, and why
        print(f"  NOTE: {res['no_transport']}")
    for piece in res.get("skipped_trajectory", []):
        print(f"  left out {piece['file']}: {piece['why']}")
    for dropped in res.get("superseded_frames", []):   # a piece started again (read_data?)
        print(f"  NOTE: {dropped['note']}")
    if res.get("dcd_origin"):         # a DCD's frame guessed under a moving box centre
        print(f"  NOTE: {res['dcd_origin']}")
    for key in ("skipped_checks", "fit_end_clipped"):   # what was not done as asked
        if res.get(key):
            print(f"  NOTE: {res[key]}")
    _print_transport(res, "  ")
    before = res.get("before_failure")
    if before and "error" in before:
        print(f"  {before['error']}")
    elif before:
        print(f"  before the failure (steps {before['first_step']}-{before['last_step']}; "
              f"in no fit):" + (f" {before['caveat']}" if before.get("caveat") else ""))
        _print_transport(before, "    ")


def _print_transport(res: dict, indent: str) -> None:
    from ionmd.analysis.conductivity import UNBOUNDED_NOTE
    from ionmd.analysis.run_records import interval_level_mark

    for d in res.get("diffusion", []):
        lo, hi = d["D_ci95"]
        flags = f"  [{', '.join(d['flags'])}]" if d["flags"] else ""
        windowed = (f"windowed {d['D_windowed']:.3g}; " if d.get("D_windowed") is not None
                    else "")
        print(f"{indent}D({d['species']}, {d['direction']}) = {d['D']:.3g} cm2/s "
              f"[{lo:.3g}, {hi:.3g}]{interval_level_mark(d)} ({windowed}"
              f"{d['hops_per_ion']:.3g} hops/ion){flags}")
        for note in d.get("flag_notes", {}).values():     # what to do about a flag
            print(f"{indent}  {note}")
    for key, name in (("conductivity", "sigma_NE"), ("conductivity_collective", "sigma_collective")):
        if key in res:
            c = res[key]
            if key == "conductivity" and c.get("haven_ratio", 1.0) != 1.0:
                name = f"sigma_NE/H_R (H_R = {c['haven_ratio']:g})"
            if key == "conductivity" and c.get("direction_note"):  # xyz D not asked for
                name += " (from the xyz D)"
            flags = f"  [{', '.join(c['flags'])}]" if c.get("flags") else ""
            print(f"{indent}{name} = {c['sigma']:.3g} mS/cm {interval_text(c['sigma_ci95'])}"
                  f"{interval_level_mark(c)}{flags}")
            if unbounded(c["sigma_ci95"]):     # null in results.json: said, not a number
                print(f"{indent}  {c.get('sigma_ci95_note') or UNBOUNDED_NOTE}")
    note = res.get("conductivity", {}).get("charges_note")
    if note:                # an alloy's formal Li+: said wherever its sigma is printed
        print(f"{indent}charges: {note}")
    if res.get("no_conductivity"):      # D without a sigma: why (a metal, charges not given)
        print(f"{indent}no sigma_NE: {res['no_conductivity']}")


def unbounded(interval) -> bool:
    """Whether an interval as results.json holds it has no upper end (null, or inf as
    Python's own results carry it)."""
    from ionmd.strict_json import unbounded_from_json

    return unbounded_from_json(interval[1]) == float("inf")


def interval_text(interval) -> str:
    """``[lo, hi]`` of an interval, ``[lo, unbounded]`` where it has no upper end."""
    top = "unbounded" if unbounded(interval) else f"{interval[1]:.3g}"
    return f"[{interval[0]:.3g}, {top}]"
