"""An ASE ``Atoms`` as a pymatgen ``Structure``, with the partial occupancies ASE's CIF
reader keeps beside the atoms.

``ase.io.read`` of a CIF with partially occupied or mixed sites gives one atom per site,
named after its dominant species, and the occupancies in ``atoms.info["occupancy"]``
(keyed by the CIF row, ``atoms.arrays["spacegroup_kinds"]`` mapping each atom to its
row). pymatgen's ``AseAtomsAdaptor`` ignores them, so the shipped Li3YCl6 read by ASE
became Li12Y5Cl18 with every partial site filled (cell charge +9, Y pairs 2.99 A apart),
silently. Here each site keeps its species and occupancies, as pymatgen reads the file.
"""

from __future__ import annotations

from ionmd.structures.errors import StructureError

_KINDS = "spacegroup_kinds"


def structure_from_atoms(atoms, label: str = "the ASE Atoms object"):
    """``atoms`` as a pymatgen ``Structure``; a site that ASE read with an occupancy below
    1 or several species keeps them (refused when they cannot be told per atom)."""
    from pymatgen.io.ase import AseAtomsAdaptor

    structure = AseAtomsAdaptor.get_structure(atoms)
    occupancy = atoms.info.get("occupancy") if isinstance(atoms.info, dict) else None
    if not occupancy:
        return structure
    per_atom = _site_occupancies(atoms, occupancy, label)
    if all(len(occ) == 1 and abs(next(iter(occ.values())) - 1.0) < 1e-12 for occ in per_atom):
        return structure
    for i, occ in enumerate(per_atom):
        structure.replace(i, dict(occ), properties=structure[i].properties)
    return structure


def _site_occupancies(atoms, occupancy: dict, label: str) -> list[dict[str, float]]:
    if _KINDS in atoms.arrays:
        keys = [str(int(k)) for k in atoms.arrays[_KINDS]]
    elif len(occupancy) == len(atoms):      # ASE's reader without symmetry: one per atom
        keys = [str(i) for i in range(len(atoms))]
    else:
        keys = None
    missing = None if keys is None else [k for k in keys if k not in occupancy]
    if keys is None or missing:
        raise StructureError(
            f"{label} carries partial occupancies (atoms.info['occupancy'], "
            f"{len(occupancy)} entries) that cannot be matched to its {len(atoms)} atoms "
            "(no 'spacegroup_kinds' array, as after ase.io.read of a CIF); give the CIF "
            "file itself, or a pymatgen Structure, so that the partial sites are kept")
    out = []
    for i, key in enumerate(keys):
        occ = {str(el): float(x) for el, x in occupancy[key].items()}
        if atoms[i].symbol not in occ:
            raise StructureError(
                f"{label}: atom {i} is {atoms[i].symbol} but its occupancy entry "
                f"(atoms.info['occupancy'][{key!r}] = {occupancy[key]}) names "
                f"{', '.join(occ)}: the occupancies no longer match the atoms (edited "
                "after reading?); give the CIF file itself or a pymatgen Structure")
        out.append(occ)
    return out
