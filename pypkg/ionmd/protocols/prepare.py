"""From a structure and a model file to what a run needs: an ASE ``Atoms`` in the
requested supercell, the element (= LAMMPS type) order shared by the data file and
``pair_coeff``. The checks of settings and cells live in :mod:`ionmd.protocols.checks`."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from ase import Atoms

from ionmd.errors import IonmdError
from ionmd.protocols.presets import Protocol
from ionmd.structures.supercell import check_run_atoms


def as_atoms(structure) -> Atoms:
    """ASE ``Atoms`` from ``Atoms`` or a pymatgen ``Structure`` (a copy).

    Raises
    ------
    IonmdError
        For a ``Structure`` with partially occupied sites (named: order it first), one
        element in two masses (H and D), or another type of object.
    """
    if isinstance(structure, Atoms):
        return structure.copy()
    if type(structure).__name__ in ("Structure", "IStructure"):
        return _pymatgen_atoms(structure)
    raise IonmdError(f"cannot use a {type(structure).__name__} as a structure; pass an ASE "
                     f"Atoms or a pymatgen Structure (or a file path to `ionmd run`)")


def _pymatgen_atoms(structure) -> Atoms:
    """The ordered ``structure`` as ``Atoms``: numbers, positions, cell, pbc as pymatgen's
    ``AseAtomsAdaptor`` gives them, masses ASE's standard ones except an isotope's own (D:
    2.014, where ASE would give hydrogen's 1.008); site properties are not carried (a run
    uses none). From arrays: the adaptor and a per-site mass lookup took 35-39 s of an
    ``ionmd run`` of 941,192 atoms, this 2 s. Sites within rounding of whole (0.999:
    ``ionmd.structures.checks.fill_rounded_sites``) count as whole, with a warning."""
    species, index = _species_index(structure)
    masses = [_mass(sp) for sp in species]
    _refuse_two_masses(species, masses)
    frac = structure.frac_coords
    matrix = structure.lattice.matrix
    # einsum as pymatgen's site.coords (np.dot of one row): positions equal to the bit
    return Atoms(numbers=np.array([sp.Z for sp in species])[index],
                 positions=np.einsum("ij,jk->ik", frac, matrix), cell=matrix,
                 pbc=structure.lattice.pbc, masses=np.array(masses)[index])


def _species_index(structure) -> tuple[list, np.ndarray]:
    """The distinct species of an ordered pymatgen ``structure`` and each site's index into
    them (one pass over the sites); partially occupied sites refused, naming them."""
    kinds: dict = {}
    index = np.fromiter((kinds.setdefault(site.species, len(kinds)) for site in structure),
                        dtype=np.int64, count=len(structure))
    if all(len(occupancy) == 1 and occupancy.num_atoms == 1 for occupancy in kinds):
        return [next(iter(occupancy)) for occupancy in kinds], index
    import warnings

    from ionmd.structures.checks import PYTHON_ORDER_ADVICE, check_ordered, fill_rounded_sites
    from ionmd.structures.occupancy_tolerance import RoundingNote

    filled, note = fill_rounded_sites(structure)
    check_ordered(filled, "the structure (a pymatgen Structure)", PYTHON_ORDER_ADVICE)
    warnings.warn(f"the structure: {note}", RoundingNote, stacklevel=2)
    return _species_index(filled)


def _formula(structure) -> str:
    """The chemical formula of ``structure`` (``Atoms`` or pymatgen ``Structure``), without
    converting a large pymatgen cell to ``Atoms`` (run_cell does that once)."""
    if isinstance(structure, Atoms) or type(structure).__name__ not in ("Structure",
                                                                        "IStructure"):
        return as_atoms(structure).get_chemical_formula()
    species, index = _species_index(structure)
    counts = np.bincount(index, minlength=len(species))
    return Atoms(numbers=np.repeat([sp.Z for sp in species], counts)).get_chemical_formula()


def _mass(species) -> float:
    """ASE's standard mass of ``species``' element, or the isotope's own (D: 2.014)."""
    from ase.data import atomic_masses
    from pymatgen.core import Element

    mass = float(species.atomic_mass)
    if abs(mass - float(Element(species.symbol).atomic_mass)) > 0.01:
        return mass
    return float(atomic_masses[species.Z])


def _refuse_two_masses(species, masses) -> None:
    """LAMMPS types here are per element: one element in two isotopes is refused."""
    from ase.data import chemical_symbols

    by_element: dict[str, set] = {}     # by Z: D is hydrogen's LAMMPS type
    for sp, mass in zip(species, masses):
        by_element.setdefault(chemical_symbols[sp.Z], set()).add(round(mass, 4))
    mixed = sorted(el for el, found in by_element.items() if len(found) > 1)
    if mixed:
        raise IonmdError(f"the structure holds {mixed[0]} atoms of different masses "
                         f"({', '.join(map(str, sorted(by_element[mixed[0]])))}: isotopes, e.g. "
                         "H and D); a LAMMPS type here is one element, so give one isotope per "
                         "element")


def oxidation_states(structure) -> dict[str, float]:
    """Oxidation state of each element, for Nernst-Einstein conductivities (``run.json``
    ``charges``): :func:`run_charges` without where they come from."""
    return run_charges(structure)[0]


def run_charges(structure) -> tuple[dict[str, float], bool]:
    """The charges a run of ``structure`` records (``run.json`` ``charges``) and whether
    they are ionmd's guess (``charges_guessed``): those a pymatgen ``Structure`` carries
    (:func:`_given_oxidation_states`: the file declared them, not guessed), else the guess
    (``ionmd.structures.transport_charges``: the formal states, or where none fit, the
    alkali and alkaline-earth ions' own); ``({}, False)`` when there is none (then ``ionmd
    analyze --charges`` must give them). The flag lets the analysis say, of an alloy's
    formal Li+, that the charges were guessed and how to give others."""
    from ionmd.structures import transport_charges

    if type(structure).__name__ in ("Structure", "IStructure"):
        given = _given_oxidation_states(structure)
        if given:
            return given, False
    guess = transport_charges(_formula(structure))
    return guess, bool(guess)


def _given_oxidation_states(structure) -> dict[str, float]:
    """Each element's oxidation state as the species of a pymatgen ``Structure`` give it,
    averaged over its atoms (occupancies): a mixed-valence element (magnetite's Fe2+ and
    2 Fe3+) is Fe 8/3, as the guess has it, so that the charges stay neutral where the
    file's are; before, the last site's state stood (Fe 2 or Fe 3 by the order of the
    sites). ``{}`` unless every atom has a nonzero state: a file that leaves an element
    at 0 (an intermetallic's CIF types ``Li0+ 0``, ``Si0+ 0``) declares none, as
    ``ionmd.structures.charges.declared_oxidation_states`` reads it; taken as declared,
    Li 0 gave sigma_NE = 0 and was not called a guess."""
    charge: dict[str, float] = {}
    amount: dict[str, float] = {}
    for species, n in structure.composition.items():
        oxi = getattr(species, "oxi_state", None)
        if not oxi:
            return {}
        charge[species.symbol] = charge.get(species.symbol, 0.0) + n * float(oxi)
        amount[species.symbol] = amount.get(species.symbol, 0.0) + n
    return {el: charge[el] / amount[el] for el in charge}


def repeats_for(atoms: Atoms, supercell: str | None) -> tuple[int, int, int]:
    """Repeats of the cell for a protocol's ``supercell``: ``"2x2x2"`` as given, ``"8A"`` so
    that every perpendicular width reaches 8 A, ``None`` for (1, 1, 1)
    (``ionmd.structures.supercell_repeats``)."""
    from ionmd.structures import supercell_repeats

    return supercell_repeats(atoms.cell.array, supercell)


def run_cell(protocol, structure, in_run_cell: bool = False) -> Atoms:
    """The cell every run of ``protocol`` starts from: ``structure`` repeated by the
    protocol's ``supercell``, or as it is where ``in_run_cell`` (a disordered file ordered
    in that supercell already, ``ionmd.structures.LoadedStructure.in_run_cell``).

    Raises
    ------
    IonmdError
        If the structure has no three-dimensional cell, or the run cell would hold more
        than :data:`ionmd.protocols.setting_ranges.MAX_RUN_ATOMS` atoms (counted from the
        repetitions, before any is made).
    """
    if in_run_cell:     # counted before a large pymatgen cell is converted
        check_run_atoms(len(structure), f"supercell {protocol.supercell!r}, built as the "
                                          "structure was loaded")
    atoms = as_atoms(structure)
    _check_cell_volume(atoms)
    if in_run_cell:
        return atoms
    repeats = repeats_for(atoms, protocol.supercell)
    usual = math.prod(repeats_for(atoms, "8A")) * len(atoms)
    check_run_atoms(len(atoms) * math.prod(repeats),
                      f"supercell {protocol.supercell!r}: {'x'.join(map(str, repeats))} copies "
                      f"of the {len(atoms)}-atom cell", f"8A: {usual:,} atoms here")
    return atoms.repeat(repeats)


def _check_cell_volume(atoms: Atoms) -> None:
    """Refuse a cell LAMMPS's periodic box cannot be made of (no cell, or flat): ASE's
    Prism raised ``LinAlgError: Singular matrix`` on it."""
    volume = abs(atoms.cell.volume)
    lengths = atoms.cell.lengths()
    if not volume > 1e-6 * max(lengths.prod(), 1e-300):
        raise IonmdError(f"the structure's cell (lengths {', '.join(f'{x:g}' for x in lengths)} "
                         f"A, volume {volume:g} A^3) is not three-dimensional; MD runs in a "
                         "periodic box: give a crystal with its lattice (CIF, POSCAR, or "
                         "extxyz with Lattice=...)")


def model_elements(model: str | Path) -> list[str]:
    """Elements a model file knows (from its ionmd metadata)."""
    from ionmd.export import read_metadata

    return read_metadata(model)["elements"].split()


def element_order(atoms: Atoms, model: str | Path, name: str = "structure") -> list[str]:
    """LAMMPS type order: the structure's elements in the model's order.

    Raises
    ------
    IonmdError
        If the structure (called ``name``) has elements the model lacks.
    """
    from ionmd.protocols.checks import unknown_elements

    known = model_elements(model)
    present = set(atoms.get_chemical_symbols())
    why = unknown_elements(present, known, repr(name), str(model))
    if why:
        raise IonmdError(why)
    return [el for el in known if el in present]


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
