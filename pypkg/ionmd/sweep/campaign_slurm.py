"""The SLURM executor's keys of a campaign (``[executor] kind = "slurm"``): partition,
account, qos, constraint, memory, runs per job, array parallelism, setup lines and extra
sbatch options, checked here and, where ``sinfo`` runs, against the partition's nodes."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

from ionmd.protocols.setting_ranges import range_problem
from ionmd.suggest import closest
from ionmd.sweep.campaign_problems import Problems, check_int, check_range
from ionmd.sweep.campaign_resources import Resources, parse_walltime

SLURM_KEYS = ("kind", "partition", "account", "qos", "runs_per_job", "array_parallelism",
              "launcher", "srun_args", "setup", "sbatch", "mem_gb", "constraint")

# sbatch options ionmd sets itself, and the campaign key that sets each
SBATCH_OWN = {"time": "resources.walltime", "t": "resources.walltime",
              "partition": "executor.partition", "p": "executor.partition",
              "account": "executor.account", "A": "executor.account", "qos": "executor.qos",
              "q": "executor.qos", "constraint": "executor.constraint", "C": "executor.constraint",
              "mem": "executor.mem_gb", "gpus": "resources.gpus", "G": "resources.gpus",
              "gpus-per-node": "resources.gpus", "gres": "resources.gpus",
              "cpus-per-task": "resources.threads", "c": "resources.threads",
              "ntasks": "resources.ranks", "n": "resources.ranks",
              "ntasks-per-node": "resources.ranks", "nodes": "resources.ranks (one node per run)",
              "N": "resources.ranks (one node per run)", "job-name": "name", "J": "name",
              "array": "executor.array_parallelism", "a": "executor.array_parallelism",
              "output": "ionmd (job logs go to <output>/.sweep/slurm)", "o": "ionmd (job logs)",
              "error": "ionmd (job logs go to <output>/.sweep/slurm)", "e": "ionmd (job logs)",
              "open-mode": "ionmd (job logs)",
              "signal": "ionmd (the walltime warning that requeues a task)"}


def check_slurm_executor(errors: Problems, table: dict, r: Resources,
                         check_resources: bool) -> None:
    """The SLURM keys of executor ``table`` (its kind, launcher and keys checked
    already); ``check_resources``: also compare ``r`` with the partition (sinfo) and the
    sbatch options with those this machine's sbatch lists (plan and submit: status and
    collect read a campaign where sbatch is missing or another one)."""
    key = ("executor",)
    for name, minimum in (("runs_per_job", 1), ("array_parallelism", 1)):
        if name in table:
            check_int(errors, key + (name,), table[name], minimum)
    job_min = r.walltime_min * runs_per_job(table)
    if "runs_per_job" in table and not range_problem("resources.walltime", r.walltime_min) \
            and range_problem("resources.walltime", job_min):
        errors.add(key + ("runs_per_job",),
                   f"a job of runs_per_job = {table['runs_per_job']} runs of walltime "
                   f"{r.walltime_min:g} min asks for {job_min:g} min (sbatch --time: the runs "
                   f"go one after the other), more than a year; lower runs_per_job")
    if "setup" in table and not (isinstance(table["setup"], list)
                                 and all(isinstance(x, str) for x in table["setup"])):
        errors.add(key + ("setup",), "setup must be a list of shell lines (e.g. module load ...)")
    if "sbatch" in table and not isinstance(table["sbatch"], dict):
        errors.add(key + ("sbatch",), "sbatch must be a table of extra sbatch options")
    elif "sbatch" in table:
        _check_sbatch_options(errors, table["sbatch"], check_resources)
    for name in ("partition", "account", "qos", "constraint"):
        if name in table and not (isinstance(table[name], str) and table[name].strip()):
            errors.add(key + (name,), f"{name} must be a non-empty string (got {table[name]!r})")
    if "mem_gb" in table:
        mem = table["mem_gb"]
        if isinstance(mem, bool) or not isinstance(mem, (int, float)) or not mem > 0:
            errors.add(key + ("mem_gb",), f"mem_gb must be a number of GB > 0 per run (got "
                                          f"{mem!r}); leave it out for the partition's default")
        else:
            check_range(errors, key + ("mem_gb",), mem)
    if check_resources:
        _check_partition(errors, table, r)
        from ionmd.sweep.slurm import walltime_problem     # (slurm.py imports campaign)

        why = walltime_problem(r.walltime_min, runs_per_job(table))
        if why:
            errors.add(("resources", "walltime"), why)


def runs_per_job(table: dict) -> int:
    """The executor's runs_per_job where it is a whole number >= 1 (else 1: said apart)."""
    n = table.get("runs_per_job", 1)
    return n if isinstance(n, int) and not isinstance(n, bool) and n >= 1 else 1


def sbatch_long_options() -> set[str] | None:
    """The long options ``sbatch --help`` lists (None without sbatch)."""
    if not shutil.which("sbatch"):
        return None
    found = set()
    for flag in ("--help", "--usage"):
        try:
            res = subprocess.run(["sbatch", flag], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        found |= set(re.findall(r"--([A-Za-z][A-Za-z0-9-]*)", res.stdout + res.stderr))
    return found or None


def _check_sbatch_options(errors: Problems, table: dict, check_resources: bool) -> None:
    """Extra sbatch options: not one ionmd sets itself (the campaign key for it is named),
    and (``check_resources``, when sbatch runs here) not a misspelling of one sbatch lists
    (``--help``, ``--usage``; an option close to none of them, e.g. ``hint``, which sbatch
    knows without listing it, is left to sbatch)."""
    known = sbatch_long_options() if check_resources else None
    for k, v in table.items():
        key = ("executor", "sbatch", k)
        name = str(k).lstrip("-")
        flag = name if len(name) == 1 else name.replace("_", "-")
        if flag in SBATCH_OWN:
            errors.add(key, f"sbatch option {k!r} is set by ionmd from {SBATCH_OWN[flag]}; "
                            f"set it there (or leave it out)")
        elif known is not None and len(flag) > 1 and (near := closest(flag, sorted(known))):
            errors.add(key, f"sbatch has no option --{flag} (`sbatch --help`); did you mean "
                            f"--{near}?")
        elif isinstance(v, (dict, list)):
            errors.add(key, f"sbatch option {k!r} must be a string, number or true (got {v!r})")


def _partitions() -> dict[str, dict] | str:
    """What ``sinfo`` says of each partition: the most CPUs and memory (MB) of its nodes,
    its time limit, the generic resources of its nodes (sinfo gives a row per kind of
    node: GPU nodes beside CPU-only ones) and whether it is the default; where sinfo is
    missing or fails, why (a sentence)."""
    if not shutil.which("sinfo"):
        return "`sinfo` not found on PATH"
    try:
        # --exact: a row per node configuration; grouped, nodes of other sizes read as
        # the smallest one's with a '+' ("2+", "1+"), so a partition's largest node was lost
        res = subprocess.run(["sinfo", "--noheader", "--exact", "--format=%P|%c|%l|%G|%m"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"sinfo did not run ({exc})"
    if res.returncode:
        said = " ".join(res.stderr.split()) or "no message"
        return f"sinfo failed (exit {res.returncode}: {said})"
    parts = {}
    for row in res.stdout.split("\n"):
        if row.strip():
            name, cpus, limit, gres, mem = row.split("|")
            default = name.endswith("*")
            name = name.rstrip("*")
            cpus = int(re.sub(r"\D.*", "", cpus) or 0)
            mem = int(re.sub(r"\D.*", "", mem) or 0)
            p = parts.setdefault(name, {"cpus": 0, "limit": limit, "default": default, "gres": [],
                                        "mem_mb": 0})
            p["cpus"] = max(p["cpus"], cpus)
            p["mem_mb"] = max(p["mem_mb"], mem)
            if gres not in p["gres"]:
                p["gres"].append(gres)
    return parts


def _check_partition(errors: Problems, table: dict, r: Resources) -> None:
    """Compare the resources with what ``sinfo`` says of the partition (when sinfo runs;
    not where ``partition`` is no name: that is said apart)."""
    given = table.get("partition")
    if "partition" in table and not (isinstance(given, str) and given.strip()):
        return
    parts = _partitions()
    if not isinstance(parts, dict):     # a laptop, or slurmctld down: said, not refused
        print(f"ionmd: note: {parts or 'sinfo gave no partitions'}: the partition"
              f"{' ' + repr(given) if given else ''}, the cores, memory and GPUs of its nodes "
              f"and its time limit were not checked against the runs' resources; plan again "
              f"where sinfo answers (the cluster's login node)", file=sys.stderr)
        return
    want = table.get("partition") or next((n for n, p in parts.items() if p["default"]), None)
    key = ("executor", "partition")
    if want not in parts:
        errors.add(key, f"SLURM partition {want!r} does not exist here; partitions: {', '.join(parts)}")
        return
    p = parts[want]
    if r.cores > p["cpus"] > 0:      # a run is one job on one node
        errors.add(("resources", "ranks"), f"each run needs ranks x threads = {r.cores} cores on "
                                           f"one node but the nodes of partition {want!r} have "
                                           f"{p['cpus']}")
    _check_time_limit(errors, table, r, want, p["limit"])
    mem = table.get("mem_gb")
    if isinstance(mem, (int, float)) and not isinstance(mem, bool) and mem > 0 and \
            mem * 1024 > p["mem_mb"] > 0:
        errors.add(("executor", "mem_gb"), f"mem_gb = {mem:g} per run but the nodes of partition "
                                           f"{want!r} " + _node_memory(p["mem_mb"]))
    if r.gpus and not any("gpu" in gres for gres in p["gres"]):
        errors.add(("resources", "gpus"), f"runs ask for {r.gpus} GPU(s) but partition {want!r} "
                                          f"has no GPU resources (gres {', '.join(p['gres'])!r})")


UNSET_REAL_MEMORY_MB = 1
"""What sinfo reports for a node whose slurm.conf line sets no RealMemory (SLURM's
default: 1 MB), where no job may ask for more."""


def _node_memory(mem_mb: int) -> str:
    """What the nodes' memory (``sinfo %m``, MB) is, for the mem_gb refusal: a node with
    no RealMemory set in slurm.conf reports 1 MB, said as such (before: "0.000977 GB")."""
    if mem_mb == UNSET_REAL_MEMORY_MB:
        return ("declare no memory: sinfo gives 1 MB, SLURM's default where slurm.conf sets no "
                "RealMemory for the node, and SLURM refuses a job asking for more; leave "
                "mem_gb out, or ask the cluster's admins to set the nodes' "
                "RealMemory")
    return f"have {mem_mb / 1024:.3g} GB (sinfo)"


def _check_time_limit(errors: Problems, table: dict, r: Resources, name: str, text: str) -> None:
    """A job (runs_per_job runs) within partition ``name``'s time limit ``text`` as sinfo
    prints it; none where sinfo prints no limit, or one ionmd cannot read."""
    try:
        limit = parse_walltime(text)
    except ValueError:      # "infinite", "n/a", or a format of a newer SLURM
        return
    per_job = runs_per_job(table)
    if r.walltime_min * per_job > limit and per_job > 1:
        # a job runs its runs_per_job runs one after the other: sbatch --time is their sum
        errors.add(("executor", "runs_per_job"),
                   f"a job of runs_per_job = {per_job} runs of walltime {r.walltime_min:g} "
                   f"min asks for {r.walltime_min * per_job:g} min, more than the time "
                   f"limit of partition {name!r} ({text}; such a job waits in the "
                   f"queue for ever, PartitionTimeLimit): lower runs_per_job to "
                   f"{max(1, int(limit // r.walltime_min))} or the walltime")
    elif r.walltime_min > limit:
        errors.add(("resources", "walltime"), f"walltime {r.walltime_min:g} min exceeds the "
                                              f"time limit of partition {name!r} ({text})")
