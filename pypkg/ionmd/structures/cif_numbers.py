"""Atom-site numbers as published CIFs write them and pymatgen's reader does not take:
coordinates given as fractions (``1/2``, ``-1/3``, ``2/3(1)``, as some hand-edited files and
older programs write special positions) are turned into decimals; any other value that is
no number (``0,25``, ``x+1/2``) is refused naming its line. pymatgen otherwise fails on such
a file with "Invalid CIF file with no structures!" and nothing that points at the cause.
Minus signs typeset as such (U+2212, dashes: text copied from a paper) are read as ``-``:
pymatgen drops every non-ASCII character, so ``−0.1`` was read as 0.1 and ``O2−`` as an
uncharged ``O2``."""

from __future__ import annotations

import re
from fractions import Fraction

from ionmd.structures.errors import StructureError

_FRACTION = re.compile(r"^([+-]?\d+)/(\d+)(\(\d+\))?$")
_NUMBER_TAGS = ("_atom_site_fract_x", "_atom_site_fract_y", "_atom_site_fract_z",
                "_atom_site_occupancy")
_UNKNOWN = ("?", ".")       # CIF's 'unknown' and 'not applicable': left to the reader
# the minus sign, figure dash, en dash, small and full-width hyphen-minus
_TYPESET_MINUS = re.compile("[\u2212\u2012\u2013\ufe63\uff0d]")


def with_ascii_minus(text: str) -> str:
    """``text`` with typeset minus signs and dashes written as ``-`` (CIF is ASCII; pymatgen
    drops other characters, a coordinate's sign with them)."""
    return _TYPESET_MINUS.sub("-", text)


def with_decimal_fractions(text: str, label: str) -> str:
    """``text`` as it is when every atom-site coordinate and occupancy is a number, else
    the CIF written again with fractions as decimals (17 significant digits: ``1/3`` stays
    1/3 to float precision, so symmetry copies merge as in a file with decimals).

    Raises
    ------
    StructureError
        For a value that is neither a number nor a fraction, naming the site, the value
        and its line.
    """
    from pymatgen.io.cif import CifFile, str2float

    if not re.search(r"^\s*_atom_site_(fract|occupancy)", text, flags=re.M | re.I):
        return text
    try:
        cif = CifFile.from_str(text)
    except Exception:       # not a CIF: the readers' own errors explain it
        return text
    changed = False
    for block in cif.data.values():
        labels = block.data.get("_atom_site_label")
        for tag in _NUMBER_TAGS:
            values = block.data.get(tag)
            if not isinstance(values, list):
                continue
            for k, value in enumerate(values):
                try:
                    str2float(value)
                    continue
                except (ValueError, TypeError):
                    pass
                m = _FRACTION.match(value.strip())
                if m and int(m.group(2)) > 0:
                    values[k] = repr(float(Fraction(int(m.group(1)), int(m.group(2)))))
                    changed = True
                elif value.strip() not in _UNKNOWN:
                    site = labels[k] if isinstance(labels, list) and k < len(labels) else None
                    raise StructureError(
                        f"{label}: {tag} of site {site or k + 1} is {value!r}"
                        f"{_line_of(text, value, site)}, which is no number; write it as a "
                        "decimal with a point (0.25, 0.3333), or as a fraction such as 1/3")
    return str(cif) if changed else text


def _line_of(text: str, value: str, site: str | None) -> str:
    """`` (line N)``: the first line holding ``value`` as a word (and ``site``, if known)."""
    word = re.compile(rf"(^|\s){re.escape(value)}(\s|$)")
    for n, line in enumerate(text.splitlines(), 1):
        if word.search(line) and (site is None or site in line.split()):
            return f" (line {n})"
    return ""
