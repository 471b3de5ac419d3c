"""The element and mass of each atom of a LAMMPS run: from its data file's masses and a
type -> element map (:func:`elements_and_masses`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ionmd.errors import AnalysisError


def _elements_from_masses(masses: np.ndarray) -> np.ndarray:
    from ase.data import atomic_masses, chemical_symbols

    out = []
    for m in masses:
        z = int(np.argmin(np.abs(atomic_masses[1:] - m))) + 1
        if abs(atomic_masses[z] - m) > 0.1:
            raise AnalysisError(f"cannot tell the element of mass {m:.3f} amu; give a type -> "
                                f"element map (run.json 'type_map' or --type-map 1=Li,2=Cl)")
        out.append(chemical_symbols[z])
    return np.array(out)


def _masses_of(elements: np.ndarray) -> np.ndarray:
    from ase.data import atomic_masses, atomic_numbers

    unknown = sorted(set(elements.tolist()) - set(atomic_numbers))
    if unknown:
        raise AnalysisError(f"type map names {unknown}, not chemical elements; give element "
                            f"symbols, e.g. --type-map 1=Li,2=Cl")
    return np.array([atomic_masses[atomic_numbers[e]] for e in elements])


def elements_and_masses(data_file: Path, types: np.ndarray, masses: np.ndarray,
                        type_map: dict[int, str] | None) -> tuple[np.ndarray, np.ndarray]:
    """Element and mass of each atom: elements from the type map (else from the masses),
    masses from the data file (else, without a Masses section, from the type map's
    elements).

    Raises
    ------
    AnalysisError
        If the type map misses a type, or neither masses nor a type map are given.
    """
    has_masses = bool(np.all(np.isfinite(masses) & (masses > 0)))
    if not type_map:
        if not has_masses:
            raise AnalysisError(f"{data_file} has no Masses section: give a type -> element map "
                                f"(run.json 'type_map' or --type-map 1=Li,2=Cl)")
        return _elements_from_masses(masses), masses
    missing = sorted(set(types.tolist()) - set(type_map))
    if missing:
        raise AnalysisError(f"type map {type_map} has no element for LAMMPS types {missing}")
    elements = np.array([type_map[t] for t in types])
    return elements, (masses if has_masses else _masses_of(elements))
