"""What a CIF's site symbols name, checked before pymatgen reads them: it takes each
site's element from ``_atom_site_type_symbol``, else from the label, by its first letters,
and where that fails it drops the site without an error. So an isotope typed ``7Li``
vanished (LiOD read as H2O2), a vacancy row ``Va`` became vanadium, and labels ``Sb``/
``Sc``/``Pa`` of a file that numbers its sites by letters (``Sa``, ``Clb``) became
antimony, scandium and protactinium. Hydrogen isotopes are read as pymatgen's D and T
(their mass kept); the rest is refused, naming the sites and what to write instead."""

from __future__ import annotations

import re

from ionmd.structures.errors import StructureError

# a mass number before an element, a charge after it: 2H, 7Li, 18O2-
_ISOTOPE = re.compile(r"^(\d+)([A-Z][a-z]?)((?:\d*[+-])?)$")
_HYDROGEN_ISOTOPES = {"2": "D", "3": "T"}       # pymatgen's own, with their masses
# a vacancy written as a row of its own (type symbol or, without one, label)
_VACANCY = re.compile(r"^(?:va|vac|vacancy)\d*$", flags=re.I)
# CIF's 'unknown' / 'not applicable': pymatgen drops such a row (a vacancy written '.')
_NOT_GIVEN = ("?", ".")
# pymatgen's own readings of groups and water (CifParser._parse_symbol)
_SPECIAL_READ = {"Hw": "H", "Ow": "O", "Wat": "O", "wat": "O", "OH": "", "OH2": "",
                 "NO3": "N"}
_SPECIAL = re.compile("|".join(_SPECIAL_READ))
_SITE_SYMBOL, _TYPE_SYMBOL = "_atom_site_type_symbol", "_atom_type_symbol"


def with_isotope_symbols(text: str, label: str) -> tuple[str, list[str]]:
    """``text`` with hydrogen isotopes typed by mass number (``2H``, ``3H``) written as
    pymatgen's ``D``/``T`` (which keep their masses into the run), and a note per block
    that had them.

    Raises
    ------
    StructureError
        For other isotopes (``7Li``, ``6Li``, ``18O``): pymatgen drops their sites, and
        ionmd runs each element at one standard mass, so the file must name the element.
    """
    if not re.search(r"(^|[\s'\"])\d+[A-Z]", text) or _SITE_SYMBOL not in text.lower():
        return text, []
    blocks = _blocks(text)
    if blocks is None:
        return text, []
    cif, changed, notes = blocks, False, []
    for name, block in cif.data.items():
        where = _block_label(label, name, len(cif.data))
        rows = _rows(block.data)
        others = [(r["label"], r["symbol"]) for r in rows if r["isotope"]
                  and r["isotope"] not in _HYDROGEN_ISOTOPES.values()]
        if others:
            raise StructureError(
                f"{where}: site{'s' if len(others) > 1 else ''} "
                f"{', '.join(f'{lab} (type symbol {sym!r})' for lab, sym in others[:6])}"
                f"{', ...' if len(others) > 6 else ''} {'name' if len(others) > 1 else 'names'} an isotope, which pymatgen does "
                "not read: it leaves such sites out, so the structure would miss those atoms. "
                "Write the element (e.g. Li for 7Li; the run uses its standard mass, as for "
                "every element but hydrogen's D and T, whose masses are kept: write 2H as D)")
        renamed = {}
        for key in (_SITE_SYMBOL, _TYPE_SYMBOL):
            values = block.data.get(key)
            if not isinstance(values, list):
                continue
            for i, value in enumerate(values):
                new = _hydrogen_isotope(value)
                if new:
                    renamed[value] = new
                    values[i] = new
        if renamed:
            changed = True
            notes.append((f"data block {name!r}: " if len(cif.data) > 1 else "")
                         + f"type symbol{'s' if len(renamed) > 1 else ''} "
                         f"{', '.join(f'{old} read as {new}' for old, new in renamed.items())}"
                         " (the isotope, its mass kept in the run)")
    return (str(cif) if changed else text), notes


def refuse_misread_symbols(text: str, label: str) -> None:
    """Refuse rows pymatgen would read as another element or drop: a vacancy written as a
    row (``Va``, ``Vac``: vanadium), a symbol that names no element (the site dropped),
    and, in a block without ``_atom_site_type_symbol``, labels that number sites by
    letters where such a letter makes another element (``Sa``, ``Sb``, ``Sc``: S,
    antimony, scandium)."""
    cif = _blocks(text) if "_atom_site_" in text.lower() else None
    if cif is None:
        return
    for name, block in cif.data.items():
        where = _block_label(label, name, len(cif.data))
        rows = _rows(block.data)
        # a label (no type symbols) Va, Va1 is a vacancy only beside the atoms of its
        # position: alone it is vanadium (V site a), as pymatgen reads it; beside them in
        # a file that letters its sites it may be V site a too (_untyped_va_reading)
        shared = _shared_positions(block.data)
        readings = {k: "vacancy" if r["typed"] else _untyped_va_reading(r, rows)
                    for k, r in enumerate(rows) if _VACANCY.match(r["symbol"])
                    and (r["typed"] or k in shared)}
        either = [rows[k] for k, how in readings.items() if how == "either"]
        if either:
            shown = [r["label"] for r in rows if _suffixed(r) and r not in either]
            raise StructureError(
                f"{where}: {_sites(either)} {'share their positions' if len(either) > 1 else 'shares its position'}"
                " with other atoms, and in this file's labels that number sites by letters "
                f"({', '.join(shown[:4])}) {'they are' if len(either) > 1 else 'it is'} "
                "either a vacancy written as a row or vanadium site a; pymatgen reads "
                "vanadium (V). Add _atom_site_type_symbol with each site's element (V where "
                "it is vanadium), or delete the row if it is a vacancy (a vacancy is what the "
                "occupancies of a position leave below 1)")
        vacancies = [rows[k] for k, how in readings.items() if how == "vacancy"]
        if vacancies:
            raise StructureError(
                f"{where}: {_sites(vacancies)} {'are vacancies' if len(vacancies) > 1 else 'is a vacancy'}"
                " written as atoms, which pymatgen reads as vanadium (V). Delete "
                f"{'those rows' if len(vacancies) > 1 else 'that row'}: a vacancy is what the "
                "occupancies of a position leave below 1 (Li 0.75 alone on it: 0.25 vacant)")
        unread = [r for r in rows if r["element"] is None and r["symbol"] not in _NOT_GIVEN]
        if unread:
            raise StructureError(
                f"{where}: {_sites(unread)} name{'s' if len(unread) == 1 else ''} no element "
                "pymatgen reads, so it would leave them out and the structure would miss "
                "those atoms. Give each site its element as _atom_site_type_symbol (e.g. Li)")
        if not any(r["typed"] for r in rows):
            _refuse_letter_labels(rows, where)


def _refuse_letter_labels(rows: list[dict], where: str) -> None:
    """Labels that number sites by letters (``Lia``, ``Sa``, ``Clb``: an element and a
    lowercase letter pymatgen drops) make the labels whose letter pymatgen reads as part of
    another element ambiguous: ``Sb`` is S site b where the file has ``Sa`` or the letter
    b elsewhere, and pymatgen reads antimony. A label whose tail after its two letters is
    none the lettered labels have (``Na1`` beside ``Oa``, ``Ob``) is not written in their
    scheme, so only its own element's letters (``Sa`` beside ``Sc1``) make it ambiguous:
    NaNbO3 labelled Na1, Nb1, Oa, Ob, Oc was refused as 'N site a'."""
    suffixes, bases, tails = set(), set(), set()
    for r in rows:
        if _suffixed(r):
            suffixes.add(_letters(r["symbol"])[len(r["element"])])
            bases.add(r["element"])
            tails.add(r["symbol"][len(r["element"]) + 1:])     # Oa: '', Sa1: '1'
    tails = {re.sub(r"\d+", "1", t) for t in tails}
    if not suffixes:
        return
    ambiguous = []
    for r in rows:
        element, letters = r["element"], _letters(r["symbol"])
        if element and len(element) == 2 and letters == element and _is_element(element[0]) \
                and (element[0] in bases
                     # D, T (pymatgen's hydrogen isotopes): a site of theirs only where
                     # the file letters their sites (Da, Db): Ta beside Lia is tantalum
                     or (element[0] not in _HYDROGEN_ISOTOPES.values()
                         and element[1] in suffixes
                         and re.sub(r"\d+", "1", r["symbol"][2:]) in tails)):
            ambiguous.append(f"{r['label']} (read as {element}, or {element[0]} site "
                             f"{element[1]})")
    if ambiguous:
        shown = [r["label"] for r in rows if _suffixed(r)]
        raise StructureError(
            f"{where} has no _atom_site_type_symbol, so pymatgen takes each element from the "
            f"site label, and its labels number sites by letters ({', '.join(shown[:4])}), "
            f"which makes {', '.join(ambiguous)} ambiguous. Add _atom_site_type_symbol with "
            "each site's element (e.g. S for Sb if it is a sulfur site)")


def _untyped_va_reading(row: dict, rows: list[dict]) -> str | None:
    """What a label ``Va``/``Va1`` (no type symbols) beside the atoms of its position is:
    None (vanadium, as pymatgen reads it) where the file letters other vanadium sites
    (``Vb`` beside it: ``Va`` is V site a of a V/Ti mixed site), ``"either"`` where other
    labels number sites by letters with its tail (``Lia``, ``Tia``, ``Oa`` beside ``Va``),
    else ``"vacancy"`` (``Li1 0.75`` + ``Va1 0.25``)."""
    m = re.fullmatch(r"va(\d*)", row["symbol"], flags=re.I)
    if not m:                       # Vac, Vacancy: no element's site
        return "vacancy"
    lettered = [r for r in rows if r is not row and _suffixed(r)
                and not _VACANCY.match(r["symbol"])]
    if any(r["element"] == "V" for r in lettered):
        return None
    tails = {re.sub(r"\d+", "1", r["symbol"][len(r["element"]) + 1:]) for r in lettered}
    return "either" if re.sub(r"\d+", "1", m.group(1)) in tails else "vacancy"


def _suffixed(row: dict) -> bool:
    """Whether pymatgen reads a row's element from its label's first letters and drops a
    lowercase letter after them (``Lia``, ``Sa``, ``Clb``; not groups such as ``Wat``)."""
    letters, element = _letters(row["symbol"]), row["element"]
    return bool(element) and not _SPECIAL.match(row["symbol"]) and len(letters) > len(
        element) and letters.startswith(element) and letters[len(element)].islower()


def _sites(rows: list[dict]) -> str:
    names = [f"{r['label']} ({'type symbol' if r['typed'] else 'label'} {r['symbol']!r})"
             for r in rows[:6]]
    return f"site{'s' if len(rows) > 1 else ''} {', '.join(names)}" + (
        ", ..." if len(rows) > 6 else "")


def _blocks(text: str):
    from pymatgen.io.cif import CifFile

    try:
        return CifFile.from_str(text)
    except Exception:       # not a CIF: the readers' own errors explain it
        return None


def _block_label(label: str, name: str, n_blocks: int) -> str:
    return f"data block {name!r} of {label}" if n_blocks > 1 else label


def _rows(data: dict) -> list[dict]:
    """Each atom site row: label, the symbol pymatgen reads (type symbol, else label),
    whether it was a type symbol, the element pymatgen takes from it (None: dropped) and
    the isotope's symbol (D, or Li for 7Li) where the symbol is one."""
    labels = _as_list(data.get("_atom_site_label"))
    if not labels:
        return []
    typed = data.get(_SITE_SYMBOL) is not None
    symbols = _as_list(data[_SITE_SYMBOL]) if typed else labels
    rows = []
    for lab, sym in zip(labels, symbols):
        iso = _ISOTOPE.match(sym.strip())
        # the isotope's symbol without the charge: 2H+ (a charged deuteron) is D, read
        # as 2H is, not an isotope pymatgen drops
        isotope = (_HYDROGEN_ISOTOPES.get(iso.group(1)) if iso.group(2) == "H" else None
                   ) or iso.group(2) if iso and _is_element(iso.group(2)) else None
        rows.append({"label": lab, "symbol": sym.strip(), "typed": typed,
                     "element": _pymatgen_element(sym.strip()), "isotope": isotope})
    return rows


def _shared_positions(data: dict) -> set[int]:
    """Rows whose fractional position (uncertainties dropped) another row has too."""
    columns = [_as_list(data.get(f"_atom_site_fract_{axis}")) for axis in "xyz"]
    seen: dict[tuple, list[int]] = {}
    for k, xyz in enumerate(zip(*columns)):
        try:
            key = tuple(round(float(re.sub(r"\(\d+\)$", "", v.strip())) % 1.0, 3) % 1.0
                        for v in xyz)
        except ValueError:      # '?' or '.': no position to share
            continue
        seen.setdefault(key, []).append(k)
    return {k for rows in seen.values() if len(rows) > 1 for k in rows}


def _as_list(value) -> list[str]:
    """A CIF item as a list (a loop of one row, or a single item, may be a plain str)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _hydrogen_isotope(symbol: str) -> str | None:
    """``D``/``T`` (with the symbol's charge) for ``2H``/``3H``, else None."""
    m = _ISOTOPE.match(symbol.strip())
    if m and m.group(2) == "H" and m.group(1) in _HYDROGEN_ISOTOPES:
        return _HYDROGEN_ISOTOPES[m.group(1)] + m.group(3)
    return None


def _pymatgen_element(symbol: str) -> str | None:
    """The element pymatgen's CIF reader takes from a symbol (``CifParser._parse_symbol``:
    two letters if they are an element, else the first), None where it takes none and
    drops the site; groups (OH, NO3) are ``cif_checks``'s."""
    if not symbol:
        return None
    special = _SPECIAL.match(symbol)
    if special:             # a group: read (or dropped) as such, refused by cif_checks
        return _SPECIAL_READ[special.group()] or special.group()
    if _is_element(symbol[:2].title()):
        return symbol[:2].title()
    if _is_element(symbol[0].upper()):
        return symbol[0].upper()
    m = re.match(r"w?[A-Z][a-z]*", symbol)
    return m.group() if m else None


def _letters(symbol: str) -> str:
    m = re.match(r"[A-Za-z]+", symbol)
    return m.group() if m else ""


def _is_element(symbol: str) -> bool:
    from pymatgen.core.periodic_table import Element

    return Element.is_valid_symbol(symbol)
