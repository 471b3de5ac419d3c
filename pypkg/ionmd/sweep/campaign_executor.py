"""A campaign's ``[executor]``: where its runs go (``kind = "local"`` or ``"slurm"``) and
how each is launched, with the run's resources checked against what is there (the cores
and GPUs this process may use; a SLURM partition's nodes: :mod:`campaign_slurm`)."""

from __future__ import annotations

import os

from ionmd.cores import available_cores
from ionmd.sweep.campaign_problems import Problems, check_int, check_keys
from ionmd.sweep.campaign_resources import Resources
from ionmd.sweep.campaign_slurm import SLURM_KEYS, check_slurm_executor
from ionmd.sweep.source import Source

LOCAL_KEYS = ("kind", "cores", "launcher")


def read_executor(src: Source, errors: Problems, r: Resources, check_resources: bool) -> dict:
    """The executor table as the executors read it (kind, launcher and srun_args always
    set, a local one's cores too); ``check_resources``: compare ``r`` with this machine or
    the SLURM partition (off where the campaign is only read, e.g. on another machine)."""
    key = ("executor",)
    given = src.data.get("executor", {"kind": "local"})
    if not isinstance(given, dict):     # `executor: slurm` reads as a string, not a table
        errors.add(key, f"executor must be a table, got {given!r}: write it as "
                        f"`executor: {{kind: slurm}}` (YAML) or `[executor]` with "
                        f"`kind = \"slurm\"` (TOML), with partition etc. beside kind")
        return {"kind": "local", "launcher": "mpirun", "srun_args": []}
    table = dict(given)
    kind = table.get("kind", "local")
    if kind not in ("local", "slurm"):
        errors.add(key + ("kind",), f"unknown executor {kind!r}; use local or slurm")
        return table
    table["kind"] = kind
    check_keys(errors, table, key, LOCAL_KEYS if kind == "local" else SLURM_KEYS)
    _check_launcher(errors, table, r, check_resources)
    if kind == "local":
        _check_local(errors, table, r, check_resources)
    else:
        check_slurm_executor(errors, table, r, check_resources)
    return table


def _check_launcher(errors: Problems, table: dict, r: Resources, check_resources: bool) -> None:
    """``launcher`` and ``srun_args`` (set in ``table``, defaults filled in): srun starts
    several ranks only with the MPI's process-management interface, and only inside a
    SLURM allocation."""
    key, kind = ("executor",), table["kind"]
    # SLURM: srun for one rank; for several, the wheel's MPICH under srun needs a PMI
    # (--mpi=pmi2) and measured 7x slower than its own mpirun inside the allocation here
    launcher = table.get("launcher", "srun" if kind == "slurm" and r.ranks == 1 else "mpirun")
    if launcher not in ("mpirun", "srun"):
        errors.add(key + ("launcher",), f"launcher must be mpirun or srun (got {launcher!r})")
    table["launcher"] = launcher
    srun_args = table.get("srun_args", [])
    if not (isinstance(srun_args, list) and all(isinstance(x, str) for x in srun_args)):
        errors.add(key + ("srun_args",), "srun_args must be a list of strings, e.g. [\"--mpi=pmi2\"]")
        srun_args = []
    table["srun_args"] = srun_args
    if launcher == "srun" and r.ranks > 1 and not any(a.startswith("--mpi") for a in srun_args):
        errors.add(key + ("launcher",) if "launcher" in table else ("resources", "ranks"),
                   f"srun with ranks = {r.ranks} needs the MPI's process-management interface: "
                   f"set srun_args = [\"--mpi=pmi2\"] (or your cluster's), or launcher = "
                   f"\"mpirun\"; without it srun starts {r.ranks} independent copies of lmp")
    if kind == "local" and launcher == "srun" and check_resources \
            and "SLURM_JOB_ID" not in os.environ:
        # srun outside an allocation fails at once ("Could not establish a configuration
        # source") and every submit would record the run interrupted at step 0 again
        errors.add(key + ("launcher",), "launcher = \"srun\" with the local executor starts "
                                        "job steps of a SLURM allocation, and this shell has "
                                        "none (no SLURM_JOB_ID): use launcher = \"mpirun\", "
                                        "run `ionmd sweep submit` inside salloc, or use "
                                        "kind = \"slurm\"")


def _check_local(errors: Problems, table: dict, r: Resources, check_resources: bool) -> None:
    """The local executor's cores (set in ``table``; default: the cores available) hold a
    run, and this machine has the GPUs a run asks for (said whatever the cores: a wrong
    executor.cores must not hide a missing GPU until it is fixed)."""
    _check_local_gpus(errors, r, check_resources)
    key = ("executor",)
    # the cores this process may use (taskset, cgroups, a SLURM job's), not the machine's
    have, source = available_cores()
    cores = table.get("cores", have)
    if check_int(errors, key + ("cores",), cores, 1) is None:
        return
    if cores > have and check_resources:
        errors.add(key + ("cores",), f"executor.cores = {cores} but {source} are {have}: "
                                     f"lower executor.cores to {have} or leave it out "
                                     f"(default: the cores available)")
    elif r.cores > cores and (check_resources or "cores" in table):
        # a default of this machine's cores says nothing of the machine the campaign runs on
        has = f"{cores}" if "cores" in table else f"{cores} ({source}; executor.cores not set)"
        errors.add(("resources", "ranks"), f"each run needs ranks x threads = {r.ranks} x "
                                           f"{r.threads} = {r.cores} cores but the local "
                                           f"executor has {has}; lower ranks or threads")
    table["cores"] = cores


def _check_local_gpus(errors: Problems, r: Resources, check_resources: bool) -> None:
    """This machine has the GPUs a run asks for."""
    if r.gpus and check_resources:
        have_gpus = local_gpus()
        if r.gpus > have_gpus:
            errors.add(("resources", "gpus"), f"each run asks for {r.gpus} GPU(s) but this "
                                              f"machine has {have_gpus}; set gpus = 0")


def local_gpus() -> int:
    """The GPUs torch sees here (0 without torch or CUDA)."""
    try:
        import torch

        return torch.cuda.device_count()
    except Exception:
        return 0
