"""From a structure and a model file to what a run needs: an ASE ``Atoms`` in the
requested supercell, the element (= LAMMPS type) order shared by the data file and
``pair_coeff``, and early checks with messages that say how to fix the problem."""

from __future__ import annotations

from pathlib import Path

from ase import Atoms

from ionmd.errors import IonmdError
from ionmd.lammps.data_file import lammps_triclinic
from ionmd.protocols.presets import Protocol

MAX_TIMESTEP_FS = 5.0
MAX_TIMESTEP_H_FS = 0.5
"""Longest time step for a structure with hydrogen: AQVolt26 (Methods, AIMD) runs 2 fs
"with the exception of 0.5 fs for hydrogen-containing materials" (an O-H / N-H stretch
has a period of ~9 fs: 1-2 fs steps sample it with 5-9 points and do not conserve
energy)."""
COUPLES = ("auto", "iso", "aniso", "tri")


def as_atoms(structure) -> Atoms:
    """ASE ``Atoms`` from ``Atoms`` or a pymatgen ``Structure`` (a copy)."""
    if isinstance(structure, Atoms):
        return structure.copy()
    if type(structure).__name__ in ("Structure", "IStructure"):
        from pymatgen.io.ase import AseAtomsAdaptor

        atoms = AseAtomsAdaptor.get_atoms(structure)
        if structure.is_ordered:      # isotopes (D): ASE would give them the element's mass
            _set_isotope_masses(atoms, structure)
        return atoms
    raise IonmdError(f"cannot use a {type(structure).__name__} as a structure; pass an ASE "
                     f"Atoms or a pymatgen Structure (or a file path to `ionmd run`)")


def _set_isotope_masses(atoms: Atoms, structure) -> None:
    """Give the isotopes of ``structure`` (deuterium: 2.014, not hydrogen's 1.008) their
    mass in ``atoms``; other atoms keep ASE's standard masses. LAMMPS types here are per
    element, so one element in two isotopes is refused."""
    from pymatgen.core import Element

    masses = atoms.get_masses()
    for i, site in enumerate(structure):
        mass = float(site.specie.atomic_mass)
        if abs(mass - float(Element(site.specie.symbol).atomic_mass)) > 0.01:
            masses[i] = mass
    by_element: dict[str, set] = {}
    for symbol, mass in zip(atoms.get_chemical_symbols(), masses):
        by_element.setdefault(symbol, set()).add(round(mass, 4))
    mixed = sorted(el for el, found in by_element.items() if len(found) > 1)
    if mixed:
        raise IonmdError(f"the structure holds {mixed[0]} atoms of different masses "
                         f"({', '.join(map(str, sorted(by_element[mixed[0]])))}: isotopes, e.g. "
                         "H and D); a LAMMPS type here is one element, so give one isotope per "
                         "element")
    atoms.set_masses(masses)


def oxidation_states(structure) -> dict[str, float]:
    """Oxidation state of each element, for Nernst-Einstein conductivities (``run.json``
    ``charges``): those a pymatgen ``Structure`` carries, else pymatgen's most likely guess
    (``ionmd.structures.guess_oxidation_states``); ``{}`` when there is none (then
    ``ionmd analyze --charges`` must give them)."""
    from ionmd.structures import guess_oxidation_states

    if type(structure).__name__ in ("Structure", "IStructure"):
        known = {}
        for site in structure:
            for sp in site.species:
                if getattr(sp, "oxi_state", None) is not None:
                    known[sp.symbol] = float(sp.oxi_state)
        if known and set(known) == {el.symbol for el in structure.composition.elements}:
            return known
    return guess_oxidation_states(as_atoms(structure).get_chemical_formula())


def repeats_for(atoms: Atoms, supercell: str | None) -> tuple[int, int, int]:
    """Repeats of the cell for a protocol's ``supercell``: ``"2x2x2"`` as given, ``"8A"`` so
    that every perpendicular width reaches 8 A, ``None`` for (1, 1, 1)
    (``ionmd.structures.supercell_repeats``)."""
    from ionmd.structures import supercell_repeats

    return supercell_repeats(atoms.cell.array, supercell)


def run_cell(protocol, structure, in_run_cell: bool = False) -> Atoms:
    """The cell every run of ``protocol`` starts from: ``structure`` repeated by the
    protocol's ``supercell``, or as it is where ``in_run_cell`` (a disordered file ordered
    in that supercell already, ``ionmd.structures.LoadedStructure.in_run_cell``)."""
    atoms = as_atoms(structure)
    return atoms if in_run_cell else atoms.repeat(repeats_for(atoms, protocol.supercell))


def model_elements(model: str | Path) -> list[str]:
    """Elements a model file knows (from its ionmd metadata)."""
    from ionmd.export import read_metadata

    return read_metadata(model)["elements"].split()


def element_order(atoms: Atoms, model: str | Path) -> list[str]:
    """LAMMPS type order: the structure's elements in the model's order.

    Raises
    ------
    IonmdError
        If the structure has elements the model lacks.
    """
    known = model_elements(model)
    present = set(atoms.get_chemical_symbols())
    missing = sorted(present - set(known))
    if missing:
        raise IonmdError(f"the structure contains {', '.join(missing)}, which model {model} does "
                         f"not know (it knows {' '.join(known)}); use a model trained on these "
                         f"elements")
    return [el for el in known if el in present]


def check_protocol(p: Protocol) -> None:
    """Refuse settings that cannot work, before anything is written.

    Raises
    ------
    IonmdError
        Naming the parameter and what to change.
    """
    if p.family not in ("md", "ev"):
        raise IonmdError(f"protocol family {p.family!r} unknown; use md or ev")
    if p.family == "ev":
        if not 0 < p.max_strain < 1 or p.n_points < 5:
            raise IonmdError(f"E-V scan needs 0 < max_strain < 1 and n_points >= 5 (got "
                             f"{p.max_strain}, {p.n_points})")
        return
    if p.ensemble not in ("nvt", "npt"):
        raise IonmdError(f"ensemble {p.ensemble!r} unknown; use nvt or npt")
    if p.thermostat not in ("nose-hoover", "berendsen"):
        raise IonmdError(f"thermostat {p.thermostat!r} unknown; use nose-hoover or berendsen")
    if p.ensemble == "npt" and p.couple not in COUPLES:
        raise IonmdError(f"couple {p.couple!r} unknown; use {', '.join(COUPLES)} (auto: tri "
                         f"for a triclinic cell, aniso for an orthogonal one)")
    if p.ensemble == "npt" and p.thermostat == "berendsen" and p.couple == "tri":
        raise IonmdError("couple tri needs fix npt: LAMMPS's fix press/berendsen barostats "
                         "only the cell lengths (iso or aniso); set thermostat=nose-hoover")
    if not 0 < p.timestep_fs <= MAX_TIMESTEP_FS:
        raise IonmdError(f"time step {p.timestep_fs} fs cannot work: it must be > 0 and "
                         f"<= {MAX_TIMESTEP_FS} fs (1-2 fs is usual for Li conductors)")
    if not p.temperatures or min(p.temperatures) <= 0:
        raise IonmdError(f"temperatures must be > 0 K (got {p.temperatures})")
    if p.temperature_end is not None and p.temperature_end <= 0:
        raise IonmdError(f"temperature_end must be > 0 K (got {p.temperature_end})")
    if p.tdamp_fs < 10 * p.timestep_fs or (p.ensemble == "npt" and p.pdamp_fs < 10 * p.timestep_fs):
        raise IonmdError(f"thermostat/barostat damping ({p.tdamp_fs}/{p.pdamp_fs} fs) must be at "
                         f"least 10 time steps ({10 * p.timestep_fs} fs)")
    for name in ("dump_every", "thermo_every", "restart_every", "halt_check_every", "replicas"):
        if getattr(p, name) < 1:
            raise IonmdError(f"{name} must be >= 1 (got {getattr(p, name)})")
    if p.restart_every % p.dump_every:
        raise IonmdError(f"restart_every ({p.restart_every}) must be a multiple of dump_every "
                         f"({p.dump_every}) so that a resumed run continues the frame grid")
    for temp in p.temperatures:
        duration, discard = p.schedule(temp)
        steps = p.steps(temp)
        if duration <= 0 or steps < p.dump_every:
            raise IonmdError(f"duration {duration} ps at {temp:g} K is {steps} steps of "
                             f"{p.timestep_fs} fs: too short for one frame every {p.dump_every} "
                             f"steps; lengthen the run or dump more often")
        if discard < 0 or discard >= duration:
            raise IonmdError(f"at {temp:g} K the run lasts {duration} ps but {discard} ps are "
                             f"discarded: nothing would be left to analyse; set duration_ps > "
                             f"discard_ps (e.g. --time {discard + 100:g}ps)")
    from ionmd.protocols.stopping import check_stopping

    check_stopping(p)


def data_file_triclinic(path: Path) -> bool:
    """Whether a LAMMPS data file declares a triclinic box (an ``xy xz yz`` header line,
    LAMMPS's own rule: a box is triclinic when that line is there, even with zero tilts)."""
    with open(path) as fh:
        for line in fh:
            words = line.split("#")[0].split()
            if words[-3:] == ["xy", "xz", "yz"]:
                return True
            if words and words[0] in ("Masses", "Atoms", "Velocities", "Pair"):
                return False
    return False


def resolve_couple(p: Protocol, triclinic: bool) -> str:
    """The LAMMPS coupling keyword of the barostat (and ``fix box/relax``): ``auto`` is
    ``tri`` on a triclinic box under ``fix npt`` (all six stress components relaxed;
    ``aniso`` would keep the cell angles fixed, see :class:`Protocol`), ``aniso``
    otherwise (an orthogonal box, or ``fix press/berendsen``, which has no ``tri``)."""
    if p.couple != "auto":
        return p.couple
    return "tri" if triclinic and p.thermostat == "nose-hoover" else "aniso"


def check_cell(p: Protocol, atoms: Atoms) -> None:
    """Refuse a protocol that cannot run on this cell (before anything is written).

    Raises
    ------
    IonmdError
        A time step too long for hydrogen (:data:`MAX_TIMESTEP_H_FS`), a Berendsen barostat
        on a triclinic cell (LAMMPS: "Cannot use fix press/berendsen with triclinic box"),
        or ``couple tri`` on an orthogonal one (LAMMPS: "Cannot specify Pxy/Pxz/Pyz in
        fix npt with non-triclinic box").
    """
    if p.family != "md":
        return
    if "H" in set(atoms.get_chemical_symbols()) and p.timestep_fs > MAX_TIMESTEP_H_FS:
        raise IonmdError(f"the structure contains hydrogen: a {p.timestep_fs:g} fs time step "
                         f"is too long for its vibrations; set timestep_fs={MAX_TIMESTEP_H_FS:g} "
                         f"(AQVolt26 uses 0.5 fs for hydrogen-containing materials)")
    if p.ensemble != "npt":
        return
    triclinic = lammps_triclinic(atoms)
    if triclinic and p.thermostat == "berendsen":
        raise IonmdError("the run cell is triclinic and LAMMPS's Berendsen barostat (fix "
                         "press/berendsen) cannot change a triclinic box; use "
                         "thermostat=nose-hoover (fix npt, couple auto = tri) or "
                         "ensemble=nvt for this structure")
    if not triclinic and p.couple == "tri":
        raise IonmdError("couple tri needs a triclinic cell (LAMMPS refuses Pxy/Pxz/Pyz on an "
                         "orthogonal box); use couple=auto or aniso")
