"""Read a structure from a file, a pymatgen ``Structure``, an ASE ``Atoms`` or a
shipped example name, into a pymatgen ``Structure`` with partial occupancies kept."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from pymatgen.core import Structure

from ionmd.structures.errors import StructureError
from ionmd.structures.examples import example_names, example_path

_POSCAR_NAMES = ("POSCAR", "CONTCAR")


def read_structure(source: Any) -> Structure:
    """Return ``source`` as a pymatgen ``Structure`` (a copy; never the caller's object).

    Parameters
    ----------
    source
        A path to a CIF or POSCAR/CONTCAR file (``*.cif``, ``*.vasp``, ``*.poscar``,
        or a name containing ``POSCAR``/``CONTCAR``; other names are tried as CIF,
        then POSCAR), a pymatgen ``Structure``, an ASE ``Atoms``, or the name of a
        shipped example (see ``example_names()``, e.g. ``"Li3YCl6"``).

    Returns
    -------
    pymatgen.core.Structure
        Partially occupied sites stay partially occupied; order them with
        ``ionmd.structures.order_structure``.

    Raises
    ------
    StructureError
        For a missing or unreadable file, an unknown example name, an unsupported
        object type, or a structure without atoms.
    """
    if isinstance(source, Structure):
        structure = source.copy()
    elif _is_ase_atoms(source):
        from pymatgen.io.ase import AseAtomsAdaptor
        if len(source) == 0:
            raise StructureError("the ASE Atoms object has no atoms")
        structure = AseAtomsAdaptor.get_structure(source)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_file():
            structure = _read_file(path)
        elif isinstance(source, str) and os.sep not in source and "." not in source.removesuffix(".cif"):
            structure = _read_file(example_path(source), label=f"example {source!r}")
        else:
            raise StructureError(
                f"structure file {str(source)!r} does not exist (shipped examples: "
                f"{', '.join(example_names())})")
    else:
        raise StructureError(
            f"cannot read a structure from a {type(source).__name__}; give a CIF/POSCAR "
            "path, a pymatgen Structure, an ASE Atoms or a shipped example name")
    if len(structure) == 0:
        raise StructureError(f"the structure read from {_describe(source)} has no atoms")
    return structure


def _is_ase_atoms(obj: Any) -> bool:
    try:
        from ase import Atoms
    except ImportError:  # pragma: no cover - ase is a dependency
        return False
    return isinstance(obj, Atoms)


def _describe(source: Any) -> str:
    return repr(str(source)) if isinstance(source, (str, os.PathLike)) else type(source).__name__


def _read_file(path, label: str | None = None) -> Structure:
    """Parse ``path`` (a Path or importlib Traversable) as CIF or POSCAR."""
    label = label or repr(str(path))
    name = path.name
    text = path.read_text()
    if name.lower().endswith(".cif"):
        formats = ["cif"]
    elif name.lower().endswith((".vasp", ".poscar")) or any(n in name.upper() for n in _POSCAR_NAMES):
        formats = ["poscar"]
    else:
        formats = ["cif", "poscar"]
    errors = []
    for fmt in formats:
        try:
            with warnings.catch_warnings():
                # pymatgen warns about rounded occupancies etc.; its errors carry the content
                warnings.simplefilter("ignore")
                structure = Structure.from_str(text, fmt=fmt)
        except Exception as exc:  # pymatgen raises ValueError, IndexError, ... on bad input
            errors.append(f"{fmt}: {type(exc).__name__}: {exc}")
            continue
        return structure
    raise StructureError(
        f"cannot read {label} as {' or '.join(f.upper() for f in formats)} "
        f"({'; '.join(errors)}); give a valid CIF (*.cif) or POSCAR/CONTCAR (*.vasp) file")
