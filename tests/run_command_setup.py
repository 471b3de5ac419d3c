"""Shared pieces of the tests of ``ionmd run``'s core checks: its inputs (an fcc Li/Cl
POSCAR and a Morse model), the command itself, ``run_all`` recorded instead of run, and
an environment outside any SLURM job."""

from __future__ import annotations

import os
from pathlib import Path

from ase.io import write

from protocol_setup import fcc_cell, morse_model

HAVE = len(os.sched_getaffinity(0))
SLURM = ("SLURM_JOB_CPUS_PER_NODE", "SLURM_CPUS_ON_NODE", "SLURM_JOB_NUM_NODES", "SLURM_NNODES")


def outside_slurm(monkeypatch) -> None:
    """No SLURM job variables and one OpenMP thread a rank."""
    for name in SLURM:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


def run_inputs(folder: Path) -> tuple[Path, Path]:
    """``POSCAR`` (32-atom fcc Li/Cl) and ``morse.pt`` written in ``folder``."""
    write(folder / "POSCAR", fcc_cell(), format="vasp")
    return folder / "POSCAR", morse_model(folder / "morse.pt")


def record_run_all(monkeypatch) -> list[int]:
    """run_all recorded instead of run (nothing of LAMMPS is under test here): the list
    of the rank counts it was called with, each call completing its runs."""
    import ionmd.protocols

    calls = []
    monkeypatch.setattr(ionmd.protocols, "run_all", lambda runs, nprocs, **kw:
                        calls.append(nprocs) or [{"state": "completed"} for _ in runs])
    return calls


def ionmd_run(inputs, out, *extra, supercell: str = "none"):
    """``ionmd run conductivity-nvt`` of ``inputs`` (:func:`run_inputs`) at 600 K for 2 ps
    into ``out``; its exit code."""
    from ionmd.cli import main

    structure, model = inputs
    return main(["run", "conductivity-nvt", str(structure), "--model", str(model),
                 "--temps", "600", "--time", "2ps", "--supercell", supercell,
                 "--set", "discard_ps=0.5", "--no-progress", "-o", str(out), *extra])
