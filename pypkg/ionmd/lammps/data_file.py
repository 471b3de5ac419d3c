"""LAMMPS data files: written for runs (:func:`write_data`, every command's one writer) and
read as analysis reads them: the columns of the Atoms section (from its ``Atoms # <style>``
line, or given) and the box of the header."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ionmd.errors import AnalysisError

# LAMMPS's box is triclinic when any tilt is above float noise: ASE's own rule (squared
# tilts over squared lengths > 1e-8) wrote a 17x1x1 cell with beta = 89.97 deg as an
# orthogonal box, 0.004 A off in its distances
SKEW_TOLERANCE = 1e-24


def lammps_triclinic(atoms) -> bool:
    """Whether LAMMPS gets a triclinic box for ``atoms`` (an ASE ``Atoms``): the data file
    (:func:`write_data`) has an ``xy xz yz`` line exactly when a tilt of the cell in
    LAMMPS's frame is above float noise (``SKEW_TOLERANCE``)."""
    from ase.calculators.lammps import Prism

    return bool(Prism(atoms.cell.array, tolerance=SKEW_TOLERANCE).is_skewed())


def write_data(atoms, path: Path, elements: list[str]) -> None:
    """LAMMPS data file (``atom_style atomic``) of ``atoms`` with types in ``elements`` order
    and masses, so that ``pair_coeff * * <elements>`` matches it; triclinic where
    :func:`lammps_triclinic` says so."""
    from ase.io import write

    write(path, atoms, format="lammps-data", specorder=elements, masses=True, atom_style="atomic",
          force_skew=lammps_triclinic(atoms))


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
