"""Checks of CIF files against what pymatgen's reader leaves out or misplaces without an
error: sites typed as groups, hydrogen atoms only counted, a declared formula the atoms do
not match (space-group settings: ``cif_settings``). Each check raises a ``StructureError``
that says what to change in the file."""

from __future__ import annotations

import re

from pymatgen.core import Structure

from ionmd.structures.errors import StructureError


# pymatgen reads these CIF type symbols (or labels, without type symbols) as one atom of a
# group (a nitrate as its N, a water molecule as its O) or as no atom at all (OH, OH2: the
# site is dropped); the atoms left out would be missing from the simulation
_GROUP_SYMBOLS = ("OH", "NO3", "Wat", "wat")


def refuse_atoms_left_out(messages: list[str], text: str, label: str) -> None:
    """Refuse CIFs whose atoms pymatgen leaves out without an error: sites whose symbol is a
    group (``OH2``: dropped; ``NO3``: read as one N) and hydrogen atoms the file only counts
    (``_atom_site_attached_hydrogens``), so that a hydroxide is not simulated without its
    O-H or H atoms."""
    rows = _cif_site_rows(text)
    guessed = {m.group(1) for m in map(re.compile(r"^(\S+) parsed as (\S*)$").match, messages)
               if m and (not m.group(2) or m.group(1).startswith(_GROUP_SYMBOLS))}
    if guessed:
        sites = [r["label"] for r in rows if r["symbol"] in guessed]
        raise StructureError(
            f"{label}: site{'s' if len(sites) > 1 else ''} {', '.join(sites) or '?'} (type "
            f"{', '.join(repr(g) for g in sorted(guessed))}) name{'' if len(sites) > 1 else 's'} a "
            "group of atoms, not an element; pymatgen drops such a site or reads it as one "
            "atom, so the structure would miss atoms. Give every atom its own site with its "
            "element as _atom_site_type_symbol (e.g. O for the oxygen of OH, and the H atoms)")
    hidden = [f"{r['label']} ({r['hydrogens']:g} H)" for r in rows if r["hydrogens"]]
    if hidden:
        raise StructureError(
            f"{label} counts hydrogen atoms it does not place (_atom_site_attached_hydrogens: "
            f"{', '.join(hidden[:6])}{', ...' if len(hidden) > 6 else ''}); the structure would "
            "run without them. Add the H atoms as sites (from a neutron or DFT structure)")


def has_fractional_sites(text: str) -> bool:
    """Whether any data block lists a fractional x coordinate that is a number."""
    from pymatgen.io.cif import CifFile, str2float

    try:
        blocks = CifFile.from_str(text).data.values()
    except Exception:
        return False
    for block in blocks:
        xs = block.data.get("_atom_site_fract_x", [])
        for x in xs if isinstance(xs, list) else [xs]:
            try:
                str2float(x)
                return True
            except (ValueError, TypeError):
                continue
    return False


def _cif_site_rows(text: str) -> list[dict]:
    """Each atom site row of every data block: label, symbol (type symbol, else label) and
    attached hydrogens (0 when not given); [] when the text is no CIF."""
    from pymatgen.io.cif import CifFile

    try:
        blocks = CifFile.from_str(text).data.values()
    except Exception:   # not a CIF: the readers' own errors explain it
        return []
    rows = []
    for block in blocks:
        data = block.data
        labels = data.get("_atom_site_label")
        if not isinstance(labels, list):
            continue
        symbols = data.get("_atom_site_type_symbol", labels)
        hydrogens = data.get("_atom_site_attached_hydrogens", ["0"] * len(labels))
        for lab, sym, h in zip(labels, symbols, hydrogens):
            try:
                n_h = float(re.sub(r"\(.*\)", "", h))
            except ValueError:                  # '?' or '.': unknown, none placed
                n_h = 0.0
            rows.append({"label": lab, "symbol": sym, "hydrogens": n_h})
    return rows


FORMULA_TOLERANCE = 0.05
"""Largest difference in any element's atom fraction between the atoms read from a CIF and
its ``_chemical_formula_sum``. Formulas may be rounded or nominal (Al-LLZO refined to Li6.24
but written 'La3 Li7 O12 Zr2': 0.023); what the check is for changes a fraction by more
(one O of Ca2AlNbO6's six missing: 0.06; LiMn2O4 read as Li2MnO4: 0.14; LiOH without H:
0.33)."""


def check_declared_formula(structure: Structure, text: str, label: str) -> None:
    """Refuse a CIF whose atoms disagree with the formula it declares: a file cut short, a
    site pymatgen read in another setting or under another element. Compared per element
    (isotopes as their element), in atom fractions, since the formula may be per formula
    unit or per cell. Files declaring no formula, or several (one per data block), pass."""
    from pymatgen.core import Composition, Element
    from pymatgen.io.cif import CifFile

    try:
        blocks = [b.data for b in CifFile.from_str(text).data.values()]
    except Exception:   # not parsed as the structure was: no formula to compare with
        return
    declared = {b["_chemical_formula_sum"] for b in blocks
                if isinstance(b.get("_chemical_formula_sum"), str)
                and b["_chemical_formula_sum"].strip() not in ("", "?", ".")}
    if len(declared) != 1:
        return
    (formula,) = declared
    try:
        want = Composition(formula)
    except Exception:   # a formula pymatgen cannot read: nothing to compare with
        return

    def fractions(comp) -> dict[str, float]:
        out: dict[str, float] = {}
        for el, n in comp.element_composition.items():
            if not isinstance(el, Element):     # a placeholder ('X'): refused by _checked
                return {}
            name = Element.from_Z(el.Z).symbol
            out[name] = out.get(name, 0.0) + n / comp.num_atoms
        return out

    have, need = fractions(structure.composition), fractions(want)
    if not have or not need:
        return
    worst = max(have.keys() | need.keys(), key=lambda el: abs(have.get(el, 0) - need.get(el, 0)))
    if abs(have.get(worst, 0) - need.get(worst, 0)) <= FORMULA_TOLERANCE:
        return
    read = structure.composition.element_composition.reduced_formula
    raise StructureError(
        f"{label}: the atoms read ({read}) do not match the file's _chemical_formula_sum "
        f"'{formula}' ({worst}: {100 * have.get(worst, 0):.0f} % of the atoms read, "
        f"{100 * need.get(worst, 0):.0f} % declared): sites are missing or read as another "
        "element or setting (a file cut short, an unusual type symbol or space-group symbol). "
        "Check the atom sites; if the formula line is what is wrong, correct or delete it")
