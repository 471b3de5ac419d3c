"""The element and mass of each atom of a LAMMPS run: from its data file's masses and a
type -> element map (:func:`elements_and_masses`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ionmd.errors import AnalysisError


def _elements_from_masses(masses: np.ndarray) -> np.ndarray:
    from ionmd.lammps.echoed_input import elements_of_mass

    out, named = [], {}
    for m in masses:
        if float(m) not in named:
            near = elements_of_mass(m)
            if len(near) != 1:
                which = (f"within 0.1 amu of both {' and '.join(near)}" if near else
                         "no element's")
                raise AnalysisError(f"cannot tell the element of mass {m:.3f} amu ({which}); "
                                    f"give a type -> element map (run.json 'type_map' or "
                                    f"--type-map 1=Li,2=Cl)")
            named[float(m)] = near[0]
        out.append(named[float(m)])
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
    if has_masses:
        _refuse_masses_of_other_elements(data_file, types, masses, type_map)
    return elements, (masses if has_masses else _masses_of(elements))


def _refuse_masses_of_other_elements(data_file: Path, types: np.ndarray, masses: np.ndarray,
                                     type_map: dict[int, str]) -> None:
    """Refuse a type map that names for a type another element than the one whose mass the
    data file gives it (within 0.1 amu of that element's, more than 1 amu from the named
    one's: isotopes such as D or 6Li name no other element) where the map names that element
    for another type: types swapped (``1=Li,2=Cl`` for a file whose type 1 weighs 35.45)
    were analysed silently with each species' atoms taken for the other's (a Cl framework
    'melting', the Li's D that of the Cl), or the run itself gave one of its elements
    another's mass. A mass of an element the map does not name is a scaled mass (H at 4 amu,
    repartitioned for a longer time step, weighs He's): the map stands, the masses are the
    run's."""
    from ase.data import atomic_masses, atomic_numbers, chemical_symbols

    wrong = []
    for t in sorted(set(types.tolist())):
        m = float(masses[np.flatnonzero(types == t)[0]])
        named = type_map[t]
        if named not in atomic_numbers:
            continue                        # not an element: refused by _masses_of's message
        z = int(np.argmin(np.abs(atomic_masses[1:] - m))) + 1
        if (chemical_symbols[z] != named and abs(atomic_masses[z] - m) <= 0.1
                and abs(atomic_masses[atomic_numbers[named]] - m) > 1.0
                and chemical_symbols[z] in type_map.values()):
            wrong.append(f"type {t} weighs {m:.3f} amu there, {chemical_symbols[z]}'s mass, "
                         f"but the type map names it {named} "
                         f"({atomic_masses[atomic_numbers[named]]:.3f} amu)")
    if wrong:
        found = {t: chemical_symbols[int(np.argmin(np.abs(atomic_masses[1:] - float(
            masses[np.flatnonzero(types == t)[0]])))) + 1] for t in sorted(set(types.tolist()))}
        raise AnalysisError(f"{data_file}: {'; '.join(wrong)}: types swapped in the type map "
                            f"(--type-map, run.json 'type_map' or the logs' pair_coeff)? The "
                            f"masses say {','.join(f'{t}={e}' for t, e in found.items())}; give "
                            f"that map, or none (the elements are then read from the masses). "
                            f"Where the map is right, the run gave its atoms another element's "
                            f"mass: fix the data file's Masses (or 'mass' commands) and rerun")
