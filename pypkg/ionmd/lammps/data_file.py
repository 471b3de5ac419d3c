"""LAMMPS data files: written for runs (:func:`write_data`, every command's one writer) and
read as analysis reads them: the columns of the Atoms section (from its ``Atoms # <style>``
line, or given) and the box of the header."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ionmd.errors import AnalysisError, IonmdError

# LAMMPS's box is triclinic when any tilt is above float noise: ASE's own rule (squared
# tilts over squared lengths > 1e-8) wrote a 17x1x1 cell with beta = 89.97 deg as an
# orthogonal box, 0.004 A off in its distances
SKEW_TOLERANCE = 1e-24


def lammps_prism(atoms):
    """ASE's ``Prism`` of ``atoms``'s cell in LAMMPS's frame (a along x, b in the xy plane)
    with its tilts reduced into LAMMPS's limits, |xy|, |xz| <= lx/2 and |yz| <= ly/2 (b
    and c shortened by whole cell vectors: the same lattice). A box beyond them (a cell
    written with skewed vectors, a+2b for b) stopped ``fix npt`` at its first step ("Fix
    npt has tilted box too far in one step") and LAMMPS warned that it runs
    inefficiently. Periodic in x, y and z, as every ionmd input (``boundary p p p``).

    A left-handed cell (negative determinant: some CIF and POSCAR files, supercell
    matrices of negative determinant) is taken by its vectors reversed, -a -b -c, the
    same lattice right-handed: LAMMPS's box is right-handed, and ASE rotated a left-handed
    cell into it by a reflection, so LAMMPS ran the mirror image of the crystal, whose
    energy an eSEN model (invariant under rotations, not reflections) gives otherwise."""
    from ase.calculators.lammps import Prism

    cell = np.asarray(atoms.cell.array, dtype=float)
    if np.linalg.det(cell) < 0:
        cell = -cell
    return Prism(cell, pbc=True, reduce_cell=True, tolerance=SKEW_TOLERANCE)


def lammps_triclinic(atoms) -> bool:
    """Whether LAMMPS gets a triclinic box for ``atoms`` (an ASE ``Atoms``): the data file
    (:func:`write_data`) has an ``xy xz yz`` line exactly when a tilt of the reduced cell
    in LAMMPS's frame (:func:`lammps_prism`) is above float noise (``SKEW_TOLERANCE``)."""
    return bool(lammps_prism(atoms).is_skewed())


def write_data(atoms, path: Path, elements: list[str]) -> None:
    """LAMMPS data file (``atom_style atomic``) of ``atoms`` with types in ``elements`` order
    and masses, so that ``pair_coeff * * <elements>`` matches it; the box of
    :func:`lammps_prism`, triclinic where :func:`lammps_triclinic` says so.

    The text ASE's ``write_lammps_data`` wrote for it (same numbers, same columns; the
    title says ionmd), written from numpy arrays in blocks: ASE formats one atom per
    Python call (6-10 s for a million atoms, here 2-3 s).

    Types come from the chemical symbols only: an Atoms read from a LAMMPS data file
    carries that file's ``type`` column, which ASE would have written instead (Li as type
    2 = Cl of a file written in Cl Li order, under Masses saying type 1 = Li).

    Raises
    ------
    IonmdError
        If an element of ``atoms`` is not in ``elements``, or one element has atoms of
        different masses (a type has one mass).
    """
    from ase.calculators.lammps import convert

    masses = atoms.get_masses()
    types = _types(atoms.numbers, masses, elements)
    prism = lammps_prism(atoms)
    xhi, yhi, zhi, xy, xz, yz = convert(prism.get_lammps_prism(), "distance", "ASE", "metal")
    positions = convert(prism.vector_to_lammps(atoms.positions), "distance", "ASE", "metal")
    with open(path, "w") as fh:
        fh.write(f"(written by ionmd)\n\n{len(atoms)} atoms\n{len(elements)} atom types\n\n")
        fh.write(f"0.0 {xhi:23.17g}  xlo xhi\n0.0 {yhi:23.17g}  ylo yhi\n"
                 f"0.0 {zhi:23.17g}  zlo zhi\n")
        if prism.is_skewed():
            fh.write(f"{xy:23.17g} {xz:23.17g} {yz:23.17g}  xy xz yz\n")
        fh.write("\nMasses\n\n")
        for k, element in enumerate(elements):
            mass = convert(_type_mass(element, types == k + 1, masses), "mass", "ASE", "metal")
            fh.write(f"{k + 1} {mass:23.17g} # {element}\n")
        fh.write("\nAtoms # atomic\n\n")
        _write_atom_lines(fh, types, positions)


_LINES_PER_BLOCK = 100_000
_ATOM_LINE = "%6d %3d %23.17g %23.17g %23.17g\n"


def _write_atom_lines(fh, types: np.ndarray, positions: np.ndarray) -> None:
    """``id type x y z`` lines, ids from 1, in blocks (a block's lines as Python values:
    tens of MB, not a million atoms' worth)."""
    for start in range(0, len(types), _LINES_PER_BLOCK):
        stop = min(start + _LINES_PER_BLOCK, len(types))
        block = positions[start:stop]
        columns = (range(start + 1, stop + 1), types[start:stop].tolist(),
                   block[:, 0].tolist(), block[:, 1].tolist(), block[:, 2].tolist())
        fh.write("".join(map(_ATOM_LINE.__mod__, zip(*columns))))


def _type_mass(element: str, of_type: np.ndarray, masses: np.ndarray) -> float:
    """The mass of a type: its first atom's, or the element's standard one where the cell
    has none of it."""
    from ase.data import atomic_masses, atomic_numbers

    first = np.flatnonzero(of_type)
    return float(masses[first[0]]) if len(first) else float(atomic_masses[atomic_numbers[element]])


def _types(numbers: np.ndarray, masses: np.ndarray, elements: list[str]) -> np.ndarray:
    """Each atom's LAMMPS type (1 + its element's place in ``elements``), refusing atoms a
    type list cannot write: an element missing from ``elements`` (ASE's ``ValueError: 'X'
    is not in list``) or one element in two masses (ASE writes the first atom's for all)."""
    from ase.data import atomic_numbers, chemical_symbols

    present = np.unique(numbers)
    missing = sorted(chemical_symbols[z] for z in present
                     if chemical_symbols[z] not in elements)
    if missing:
        raise IonmdError(f"the cell holds {' '.join(missing)}, which the LAMMPS types "
                         f"({' '.join(elements)}) lack; give every element of the cell in "
                         "the type list (the model's order)")
    type_of = np.zeros(max(present.max(), max(atomic_numbers[e] for e in elements)) + 1, int)
    for k, element in enumerate(elements):
        type_of[atomic_numbers[element]] = k + 1
    for z in present:
        found = np.unique(masses[numbers == z])
        if np.ptp(found) <= 1e-6 * found.max():
            continue
        raise IonmdError(f"the cell holds {chemical_symbols[z]} atoms of different masses "
                         f"({', '.join(f'{m:.4f}' for m in found)}); a LAMMPS type is one "
                         "element with one mass: give one mass per element (one isotope)")
    return type_of[numbers]


#: Columns (in MDAnalysis's names) of the Atoms section of the atom styles a data file may
#: name in its ``Atoms # <style>`` line (LAMMPS's write_data and ASE write it).
ATOM_STYLE_COLUMNS = {
    "atomic": "id type x y z",
    "charge": "id type q x y z",
    "full": "id resid type q x y z",
    "molecular": "id resid type x y z",
    "bond": "id resid type x y z",
    "angle": "id resid type x y z",
}
DEFAULT_ATOM_STYLE = ATOM_STYLE_COLUMNS["atomic"]


def _header_words(path: Path):
    """Words of each line of a data file's header (title skipped, ``# ...`` comments
    stripped), up to its first section: header lines start with a number, sections don't."""
    with open(path) as fh:
        fh.readline()  # the title line, whatever it says
        for line in fh:
            words = line.partition("#")[0].split()
            if words and not _is_number(words[0]):
                return
            yield words


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def data_atom_style(path: str | Path) -> str | None:
    """The atom style named by a data file's ``Atoms # <style>`` line; None without one."""
    with open(path) as fh:
        for line in fh:
            head, _, comment = line.partition("#")
            if head.split() == ["Atoms"]:
                return comment.split()[0] if comment.split() else None
    return None


def _key_columns(atom_style: str) -> dict[str, int]:
    words = atom_style.split()
    return {c: words.index(c) for c in ("id", "resid", "type", "x", "y", "z") if c in words}


def resolve_atom_style(data_file: str | Path, given: str | None) -> str:
    """The Atoms columns to read ``data_file`` with: those of the style its ``Atoms #``
    line names, else ``given``, else ``id type x y z``.

    Raises
    ------
    AnalysisError
        If ``given`` puts id, molecule, type or x y z in other columns than the named
        style (a molecule ID would be read as the type), or the named style is not one of
        :data:`ATOM_STYLE_COLUMNS` and no columns are given.
    """
    named = data_atom_style(data_file)
    if named is None:
        return given or DEFAULT_ATOM_STYLE
    columns = ATOM_STYLE_COLUMNS.get(named)
    if columns is None:
        if given:
            return given
        raise AnalysisError(f"{data_file}: ionmd does not know the columns of 'Atoms # {named}'; "
                            f"give them with --atom-style (run.json 'atom_style'), e.g. "
                            f"'id type x y z'")
    if given and _key_columns(given) != _key_columns(columns):
        raise AnalysisError(f"atom style {given!r} contradicts {data_file}, whose Atoms section "
                            f"is '# {named}' ({columns!r}); drop --atom-style (and run.json "
                            f"'atom_style') or give {columns!r}")
    return columns


def data_box_centre(path: Path) -> np.ndarray:
    """Centre of the ``xlo xhi``/``ylo yhi``/``zlo zhi`` bounds in a LAMMPS data file."""
    centre = {}
    for words in _header_words(path):
        if len(words) >= 4 and words[2] in ("xlo", "ylo", "zlo"):
            centre[words[2]] = 0.5 * (float(words[0]) + float(words[1]))
    if len(centre) != 3:
        raise AnalysisError(f"{path}: no xlo/ylo/zlo box lines in the header")
    return np.array([centre["xlo"], centre["ylo"], centre["zlo"]])
