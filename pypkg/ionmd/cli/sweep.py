"""``ionmd sweep plan|submit|status|collect CAMPAIGN``: campaigns of runs (see docs/sweeps.md)."""

from __future__ import annotations

import argparse
import math
import signal
import sys
from collections import Counter

from ionmd.errors import EXIT_OK, IonmdError


def _load(args: argparse.Namespace, check_resources: bool = True):
    """The campaign; ``check_resources=False`` where it is only read (status, collect),
    e.g. on a laptop with fewer cores or GPUs than the cluster that runs it; nor are the
    fit windows of runs still to write checked then (collect analyses the runs on disk by
    their own lengths: a fit start the flags ask for after a goal lengthened them)."""
    from ionmd.sweep import load_campaign

    campaign = load_campaign(args.campaign, check_resources=check_resources,
                             check_new_runs=check_resources)
    _note_added_without_goal(campaign)
    return campaign


def _note_added_without_goal(campaign) -> None:
    """Say (on stderr: stdout may be JSON) where a goal's added temperatures stay planned
    though the campaign file has no goal table any more (goal_state.added_without_goal_note)."""
    from ionmd.sweep.goal_state import added_without_goal_note

    note = added_without_goal_note(campaign)
    if note:
        print(f"note: {note}", file=sys.stderr)


def _print_counts(counts: Counter, total: int) -> None:
    from ionmd.sweep.state import CLASSES

    print(", ".join(f"{counts[c]} {c}" for c in CLASSES if counts[c]) + f" (of {total})")


def _cmd_plan(args: argparse.Namespace) -> None:
    from ionmd.sweep import plan_campaign
    from ionmd.sweep.state import DAMAGED, classify

    c = _load(args)
    runs = plan_campaign(c)
    r = c.resources
    print(f"campaign {c.name}: {len(c.structures)} structure(s) x {len(c.models)} model(s) x "
          f"{len(c.protocol.temperatures)} temperature(s) x {c.protocol.replicas} replica(s) = "
          f"{len(runs)} runs of {c.protocol.name}, each {r.ranks} rank(s) x {r.threads} "
          f"thread(s), {r.gpus} GPU(s), walltime {r.walltime_min:g} min; executor "
          f"{c.executor['kind']}; output {c.output}")
    classes = [classify(run.rundir) for run in runs]
    rows = [(run.structure, run.model, f"{run.temperature:g}", str(run.replica),
             "?" if run.seed is None else str(run.seed),            # not readable: damaged
             "?" if cls == DAMAGED else str(run.rundir.planned_steps), cls)
            for run, cls in zip(runs, classes)]
    for line in aligned(("structure", "model", "T/K", "rep", "seed", "steps", "state"), rows,
                        right=(2, 3, 4, 5)):
        print(line)
    for line in c.protocol.schedule_summary():
        print(f"  {line}")
    from ionmd.sweep.campaign_ranking import ordering_lines

    for line in ordering_lines(c):      # order_model_rank: which arrangement each model kept
        print(line)
    _warn_walltime(c, runs)


def aligned(header, rows, right=()) -> list[str]:
    """``header`` and ``rows`` (text cells) as lines, each column as wide as its widest
    cell (a velocity seed has up to 10 digits, a long run's step count 9): columns whose
    index is in ``right`` aligned right, the others left; the last column is not padded."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    return ["  ".join(cell.rjust(w) if i in right else
                      (cell if i == len(widths) - 1 else cell.ljust(w))
                      for i, (cell, w) in enumerate(zip(line, widths))).rstrip()
            for line in (header, *rows)]


def _warn_walltime(c, runs) -> None:
    """Warn (stderr) about runs whose wall time, estimated from the model's cost per
    atom-step measured in this campaign's own logs (at the campaign's ranks x threads:
    logs run with others converted), exceeds the walltime."""
    from ionmd.sweep.cost import over_walltime

    atoms_of = {s.name: len(s.cell) for s in c.structures}     # run cells, built in validation
    for est in over_walltime(runs, atoms_of, c.resources.walltime_min, cores=c.resources.cores):
        print(f"warning: {est.path}: about {est.hours:.3g} h at the cost per atom-step its model "
              f"measured in this campaign, over the walltime of {est.walltime_hours:.3g} h: it "
              f"will need about {math.ceil(est.hours / est.walltime_hours)} submissions "
              "(each resumes from the restart); raise resources.walltime or shorten the run",
              file=sys.stderr)


def _cmd_submit(args: argparse.Namespace) -> int | None:
    """Run (local) or submit (SLURM) what is left, then (a campaign with a goal) its rounds.
    Exit status (:data:`EXIT_RULE`: the most serious state wins) over every run of the
    campaign, those its goal added or extended included: 1 where a run is ``damaged`` (its
    files cannot be read: left alone, the others handed out), else 3 when one failed (also
    one left alone without --retry-failed, and a physical failure such as a stability run's
    fix halt), else 4 when one is not finished; for SLURM without --wait, 0 once submitted.
    The states a 1 hides (failed, not finished runs) are said with it."""
    from ionmd.sweep.submit import submit

    c = _load(args)
    sub = submit(c, retry_failed=args.retry_failed, progress=not args.no_progress)
    print("before: ", end="")
    _print_counts(sub.before, sum(sub.before.values()))
    if sub.skipped_failed:
        print(f"{len(sub.skipped_failed)} run(s) stopped on an error and were left alone; "
              f"rerun them with --retry-failed (see `ionmd sweep status`)")
    if sub.damaged:
        print(f"ionmd: error: {len(sub.damaged)} run(s) cannot be read and were left alone "
              f"(the others are handed out):\n  " + "\n  ".join(sub.damaged),
              file=sys.stderr)
    if sub.submitted or not c.goal:     # a goal's round may submit: said once, after it
        _print_submission(c, sub)
    if c.goal:
        _pursue_goal(c, args, submitted_before=bool(sub.submitted))
    code, counts = _final_exit_status(c, args)
    if sub.damaged and code in (None, EXIT_OK):     # SLURM without --wait: said above
        from ionmd.errors import EXIT_ERROR

        return EXIT_ERROR
    if code not in (None, EXIT_OK):
        print(f"ionmd: not every run of the campaign completed (exit status {code}"
              f"{_hidden_by_damaged(counts)}); see `ionmd sweep status`", file=sys.stderr)
    return code


def _print_submission(c, sub, prefix: str = "") -> None:
    """What one submission handed out: nothing, its SLURM array tasks, or (local) the runs
    it ran by final state."""
    if not sub.submitted:
        print(f"{prefix}nothing to submit")
    elif c.executor["kind"] == "slurm":
        print(f"{prefix}submitted {len(sub.submitted)} run(s) as {len(sub.jobs)} array "
              f"task(s): {', '.join(sub.jobs[:5])}{' ...' if len(sub.jobs) > 5 else ''}")
    else:
        print(prefix + sub.ran_summary())


def _final_exit_status(c, args) -> tuple[int | None, Counter | None]:
    """The exit status over every run of the campaign as planned now (a goal's runs
    included) once they have ended, and their counts by class: local, they have; SLURM
    with --wait, after waiting (its counts printed); SLURM without it, None (submitted is
    enough)."""
    from ionmd.sweep.submit import wait

    if c.executor["kind"] != "slurm":
        return _wait_for_other_submissions(c)
    if not args.wait:
        return None, None
    counts = wait(c, progress=not args.no_progress)
    print("after: ", end="")
    _print_counts(counts, sum(counts.values()))
    return _exit_status_of_counts(counts), counts


def _wait_for_other_submissions(c) -> tuple[int, Counter | None]:
    """Local: this submission's runs have ended; those another submission still runs (its
    LAMMPS, its submitter) are waited for, each named first with whose process holds it;
    the exit status and the runs' counts by class. Ctrl-C stops the wait and leaves them
    running: said, with the status 130 (and no counts)."""
    from ionmd.errors import EXIT_SIGNAL_BASE
    from ionmd.sweep.submit import wait

    try:            # a Ctrl-C right after the lines below is the wait's too
        held = _held_by_others(c)
        if held:
            print(f"waiting for {len(held)} run(s) of the campaign that another process "
                  f"runs (Ctrl-C stops waiting and leaves them running):\n  "
                  + "\n  ".join(held), file=sys.stderr, flush=True)
        counts = wait(c, progress=False)
        return _exit_status_of_counts(counts), counts
    except KeyboardInterrupt:
        print("ionmd: stopped waiting (Ctrl-C); the runs named above go on under their own "
              "process: `ionmd sweep status` shows them, `ionmd sweep submit` again records "
              "them once they have ended", file=sys.stderr)
        return EXIT_SIGNAL_BASE + signal.SIGINT, None


def _held_by_others(c) -> list[str]:
    """``<run>: <whose process>`` of each run of the campaign that is queued or running
    now (after this submission's own runs ended: another submission's): its LAMMPS as its
    lock file names it (pid, host, SLURM job, since when), else as its status names it,
    and the submitter or job that claimed it."""
    from ionmd.sweep import plan_campaign
    from ionmd.protocols.run_lock import lock_holder
    from ionmd.sweep.state import LMP_LOCK, classify, read_claim
    from ionmd.sweep.submit import scheduler_jobs

    jobs = scheduler_jobs(c)
    held = []
    for run in plan_campaign(c):
        cls = classify(run.rundir, jobs)
        if cls not in ("queued", "running"):
            continue
        try:
            claim = read_claim(run.rundir)
        except IonmdError:  # a LAMMPS holding its lock, its claim unreadable: said by status
            claim = {}
        st = run.rundir.status
        holder = lock_holder(run.path / LMP_LOCK)    # its LAMMPS, as its lock names it
        who = [f"its LAMMPS, {holder}"] if holder else \
            [f"its LAMMPS, pid {st.get('pid')} on {st.get('host')}"] \
            if st.get("state") == "running" and st.get("pid") else []
        if claim.get("job_id"):
            who.append(f"claimed by {claim['job_id']}")
        held.append(f"{run.path} ({cls}: {'; '.join(who) or 'its lock is held'})")
    return held


EXIT_RULE = """\
exit status: the most serious state of the campaign's runs wins, in this order
  1  a run is damaged (its status.json, sweep.json or settings.json cannot be read:
     left alone until fixed by hand; submit says which failed or unfinished runs it
     hides), or the command's own error (a campaign it refuses)
  3  submit: a run failed (a physical failure such as fix halt, or an error: rerun
     those with --retry-failed)
  4  submit: a run is not finished (interrupted, pending, or given up on by --wait)
  0  otherwise (SLURM submit without --wait: once submitted)"""
"""The exit status of ``ionmd sweep`` as its ``--help`` lists it (docs/sweeps.md says the
same): one order, so that a damaged run's 1 is never taken for a campaign that completed."""


def _exit_status_of_counts(counts: Counter) -> int:
    """The exit status (:data:`EXIT_RULE`) of the runs counted by class: 1 where one is
    damaged, else `ionmd run`'s (:func:`ionmd.protocols.plan.exit_status`; failed-error
    and failed-physical are both failed runs)."""
    from ionmd.errors import EXIT_ERROR
    from ionmd.sweep.state import DAMAGED

    if counts[DAMAGED]:         # unreadable: said at the hand-out, an error to fix
        return EXIT_ERROR
    return _runs_exit_status(counts)


def _runs_exit_status(counts: Counter) -> int:
    """`ionmd run`'s exit status of the readable runs in ``counts`` (damaged ones left out)."""
    from ionmd.protocols.plan import exit_status
    from ionmd.sweep.state import DAMAGED

    return exit_status([{"state": "failed" if cls.startswith("failed") else cls}
                        for cls in counts.elements() if cls != DAMAGED])


def _hidden_by_damaged(counts: Counter | None) -> str:
    """Where damaged runs give the exit status 1 over failed (3) or unfinished (4) runs,
    what it hides, e.g. ``: 1 damaged, over 2 failed (3) and 1 interrupted (4)``; else
    ``""``."""
    from ionmd.errors import EXIT_OK
    from ionmd.sweep.state import DAMAGED

    if not counts or not counts[DAMAGED] or _runs_exit_status(counts) == EXIT_OK:
        return ""
    failed = sum(n for cls, n in counts.items() if cls.startswith("failed"))
    unfinished = [f"{n} {cls}" for cls, n in sorted(counts.items())
                  if n and cls not in ("completed", DAMAGED) and not cls.startswith("failed")]
    hidden = ([f"{failed} failed (3)"] if failed else []) + (
        [f"{', '.join(unfinished)} (4)"] if unfinished else [])
    return f": {counts[DAMAGED]} damaged, over {' and '.join(hidden)}"


def _pursue_goal(c, args, submitted_before: bool) -> None:
    """Rounds of the campaign's goal (ionmd.sweep.goal): local, until every series stopped;
    SLURM, one round per call (with --wait, until done). Each round that hands out runs
    says so; "nothing to submit" once at the end where neither the submission before the
    rounds (``submitted_before``) nor a round handed out any."""
    from ionmd.sweep.goal import pursue
    from ionmd.sweep.submit import submit, wait

    slurm = c.executor["kind"] == "slurm"
    if slurm and args.wait:
        wait(c, progress=not args.no_progress)      # a round reads the runs once ended
    submitted = submitted_before

    def run_round() -> bool:
        nonlocal submitted
        sub = submit(c, progress=not args.no_progress)
        if sub.submitted:
            submitted = True
            _print_submission(c, sub, prefix="goal's next round: ")
        if not slurm:
            return True
        if not args.wait:
            if sub.submitted:
                print("run `ionmd sweep submit` again when they have ended to go on")
            return False
        wait(c, progress=not args.no_progress)
        return True

    g = c.goal
    for rounds in pursue(c, run_round):
        for r in rounds:
            print(r.line(g.budget, g.unit))
    if not submitted:
        print("nothing to submit")


def print_campaign_status(campaign_file, as_json: bool = False) -> int | None:
    """The state of every run of a campaign (``ionmd sweep status``, ``ionmd status
    CAMPAIGN``): counts per class, then one line per run, then its goal's rounds (where it
    has a goal); or the rows as JSON. Runs whose files cannot be read are shown among the
    others as ``damaged`` and said again at the end: exit status 1
    (:func:`_damaged_status`). The campaign (its structure files, orderings) is read once
    for both."""
    from ionmd.sweep import load_campaign
    from ionmd.sweep.goal import goal_summary
    from ionmd.sweep.submit import campaign_status

    campaign = load_campaign(campaign_file, check_resources=False, check_new_runs=False)
    _note_added_without_goal(campaign)
    rows = campaign_status(campaign)
    if as_json:
        from ionmd import strict_json       # for jq and JavaScript: no NaN/Infinity

        print(strict_json.dumps(strict_json.nonfinite_to_null(rows), indent=1))
        return _damaged_status(rows)
    _print_counts(Counter(r["class"] for r in rows), len(rows))
    for line in status_table(rows):
        print(line)
    if campaign.goal:
        print("\n".join(goal_summary(campaign)))
    return _damaged_status(rows)


def _damaged_status(runs: list[dict]) -> int | None:
    """After every run was shown: an error (stderr) naming the runs whose files cannot be
    read (class ``damaged``, each with ``reason`` or ``why``: which file, what to do), and
    :data:`~ionmd.errors.EXIT_ERROR`; None where there are none."""
    from ionmd.errors import EXIT_ERROR
    from ionmd.sweep.state import DAMAGED

    damaged = [r for r in runs if r["class"] == DAMAGED]
    if not damaged:
        return None
    print(f"ionmd: error: {len(damaged)} run(s) cannot be read, shown as {DAMAGED} and left "
          f"alone (no result, not run):\n  "
          + "\n  ".join(str(r.get("reason") or r.get("why")) for r in damaged),
          file=sys.stderr)
    return EXIT_ERROR


STATUS_HEADER = ("state", "step", "planned", "pieces", "job", "run")


def status_table(rows: list[dict]) -> list[str]:
    """The rows of ``ionmd sweep status`` under a header, each column as wide as its widest
    cell and starting where its header word starts (a SLURM job id of 7+ digits with its
    array index and state, or a long class or step count, pushed the columns after it
    right); below a run, indented to its second column, the reason it stopped, its
    stopping rule's last check, a note and its job logs."""
    cells, notes = [], []
    for r in rows:
        job = (f"{r['job']}" + (f" ({r['job_state'].lower()})" if r.get("job_state") else "")
               if r["job"] else "-")
        cells.append((r["class"], *("?" if r[k] is None else str(r[k])    # not readable
                                    for k in ("step", "planned_steps", "pieces")),
                      job, str(r["run"])))
        notes.append([n for n in (r["reason"], r.get("stopping"), r.get("note")) if n]
                     + (["logs: " + ", ".join(r["logs"])] if r.get("logs") else []))
    lines = aligned(STATUS_HEADER, cells)       # left-aligned: the header marks each start
    indent = " " * (max(len(c[0]) for c in [STATUS_HEADER, *cells]) + 2)
    out = [lines[0]]
    for line, below in zip(lines[1:], notes):
        out += [line] + [indent + n for n in below]
    return out


def _cmd_status(args: argparse.Namespace) -> int | None:
    return print_campaign_status(args.campaign, args.json)


def _cmd_collect(args: argparse.Namespace) -> int:
    """The tables, printed; exit status 1 (after the tables) where folders at the
    campaign's planned runs' places hold runs of other settings (another model or
    structure: results.json ``other_settings``), as ``status`` refuses the campaign."""
    from ionmd.analysis.run_records import interval_level_mark, sigma_lines
    from ionmd.errors import EXIT_ERROR
    from ionmd.sweep.collect import collect
    from ionmd.sweep.collect_target import target_line

    c = _load(args, check_resources=False)
    doc = collect(c, args.output, progress=not args.no_progress)
    out = args.output or c.output / "collect"
    for row in doc["rows"]:
        # every mobile species' D, each named where there are several (a Li/Na cell)
        ds = [(k[2:], row[k]) for k in row if k.startswith("D_") and isinstance(row[k], dict)]
        parts = [f"{row['structure']} {row['model']} {row['temperature_K']:g} K:",
                 f"{row['replicas_done']}/{row['replicas_planned']} done"]
        if row["replicas_failed"]:
            parts.append(f"{row['replicas_failed']} failed ({', '.join(row['failure_modes'])})")
        for species, d in ds:
            name = f"D({species})" if len(ds) > 1 else "D"
            parts.append(f"{name} = {d['value']:.3g} [{d['ci95'][0]:.3g}, {d['ci95'][1]:.3g}]"
                         f"{interval_level_mark(d)} cm2/s")
        if row.get("sigma"):
            s = row["sigma"]
            parts.append(f"sigma = {s['value']:.3g} [{s['ci95'][0]:.3g}, {s['ci95'][1]:.3g}]"
                         f"{interval_level_mark(s)} mS/cm")
        print(" ".join(parts))
        for why in row.get("left_out", []):     # a replica the row's value is not of
            print(f"  left out: {why.replace(str(c.output) + '/', '')}")
    for key, srec in doc["structures"].items():
        runs = [r for r in doc["runs"] if f"{r['structure']}/{r['model']}" == key]
        print("\n".join(sigma_lines(key, srec, runs)))   # a fit_problem in place of numbers
        if srec.get("at_target_K"):         # the goal's quantity at its target_K
            print(target_line(key, srec["at_target_K"]))
    print(f"tables: {out}/results.csv, {out}/runs.csv (one row per run: final D interval, "
          f"hops, stop reason), {out}/results.json")
    if not doc["complete"]:
        classes = doc["classes"]
        done = sum(n for c, n in classes.items() if c in ("completed", "failed-physical"))
        rest = ", ".join(f"{n} {c}" for c, n in sorted(classes.items())
                         if c not in ("completed", "failed-physical"))
        if rest:        # else only folders of other settings: said below
            print(f"partial: {done} of {sum(classes.values())} runs analysed ({rest} not in "
                  f"the table: see `ionmd sweep status`); {partial_next_steps(classes)}")
    if doc.get("other_settings"):
        print(f"ionmd: error: {doc['other_settings']}", file=sys.stderr)
        return EXIT_ERROR
    return _damaged_status(doc["runs"]) or EXIT_OK


NEXT_STEPS = (
    (("running", "queued"), "collect again when they have ended"),
    (("interrupted", "pending", "new"), "run them with `ionmd sweep submit`, then collect "
                                         "again"),
    (("failed-error",), "ended on an error, rerun them with `ionmd sweep submit "
                        "--retry-failed`, then collect again"),
    (("damaged",), "collect again once the damaged runs' files are fixed (said below)"),
)
"""What collect's partial line asks for each kind of run not in its table: only running
or queued runs end by themselves; the others wait on a command (a damaged run on its
files' fix, its error line follows)."""


def partial_next_steps(classes: dict) -> str:
    """The partial line's tail: for each kind of run outstanding in ``classes`` (class:
    count; completed and failed-physical are in the table), what to do, e.g. ``1 running:
    collect again when they have ended; 1 failed-error: ended on an error, rerun them
    ...``."""
    said, parts = {"completed", "failed-physical"}, []
    for kinds, step in NEXT_STEPS:
        have = [f"{classes[c]} {c}" for c in kinds if classes.get(c)]
        said.update(kinds)
        if have:
            parts.append(f"{', '.join(have)}: {step}")
    other = [f"{n} {c}" for c, n in sorted(classes.items()) if c not in said and n]
    if other:               # a class of a later ionmd: status says what it is
        parts.insert(0, f"{', '.join(other)}: see `ionmd sweep status`")
    return "; ".join(parts)


def register(subparsers) -> None:
    p = subparsers.add_parser("sweep", help="campaigns: structures x models x temperatures x "
                                            "replicas, run locally or on SLURM")
    sub = p.add_subparsers(dest="sweep_command", required=True)
    for name, func, help_ in (("plan", _cmd_plan, "validate the campaign file and list its runs"),
                              ("submit", _cmd_submit, "run (local) or submit (SLURM) what is left"),
                              ("status", _cmd_status, "state of every run of the campaign"),
                              ("collect", _cmd_collect, "analyse and aggregate into one table")):
        s = sub.add_parser(name, help=help_, epilog=EXIT_RULE if name != "plan" else None,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        s.add_argument("campaign", help="campaign file (.toml or .yaml)")
        s.set_defaults(func=func)
        if name == "submit":
            s.add_argument("--retry-failed", action="store_true",
                           help="rerun, from scratch, runs that stopped on an error")
            s.add_argument("--wait", action="store_true",
                           help="SLURM: wait until no run is queued or running")
        if name in ("submit", "collect"):
            s.add_argument("--no-progress", action="store_true", help="no progress bars")
        if name == "status":
            s.add_argument("--json", action="store_true")
        if name == "collect":
            s.add_argument("-o", "--output", help="folder for results.csv/json (default: "
                                                  "<output>/collect)")
