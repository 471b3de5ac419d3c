"""Oxidation states a CIF gives in its type symbols only. The CIF core dictionary lets
``_atom_site_type_symbol`` carry a charge (``Ni3+``, ``O2-``, ``Li+``), and published files
often give states that way alone; pymatgen's reader makes charged species only from an
``_atom_type_oxidation_number`` loop, so such a file read as uncharged and ionmd guessed
the states (LiNi0.5Mn0.5O2 with Ni3+/Mn3+ typed: Ni 2, Mn 4). The loop is written here from
the type symbols, as the file would have it; where the file has one, the loop wins."""

from __future__ import annotations

import re

# element, then the charge as number and sign (Ni3+, Mn3.5+, Li+, CIF's form) or as sign
# and number (O-2, as some programs write it)
_CHARGED_SYMBOL = re.compile(
    r"^([A-Z][a-z]?)(?:(\d+(?:\.\d+)?)?([+-])|([+-])(\d+(?:\.\d+)?))$")
_CHARGED_WORD = re.compile(r"(^|\s)[A-Z][a-z]?(\d+(\.\d+)?)?[+-]\d*(\s|$)", flags=re.M)
_SYMBOL, _STATE = "_atom_type_symbol", "_atom_type_oxidation_number"
_UNKNOWN = ("?", ".")       # CIF's 'unknown' and 'not applicable'


def type_symbol_state(symbol: str) -> float | None:
    """The oxidation state a type symbol carries (``Ni3+`` -> 3.0, ``O2-`` -> -2.0,
    ``Li+`` -> 1.0, ``O-2`` -> -2.0), or None for a symbol without a charge (``Li``,
    ``Li1``, ``Ow``) or with charge 0."""
    from pymatgen.core import Element

    m = _CHARGED_SYMBOL.match(symbol.strip())
    if not m or not Element.is_valid_symbol(m.group(1)):
        return None
    sign = m.group(3) or m.group(4)
    size = float(m.group(2) or m.group(5) or 1)
    return (size if sign == "+" else -size) or None


def with_type_symbol_states(text: str) -> tuple[str, list[str]]:
    """``text`` with the oxidation states of its charged type symbols written as an
    ``_atom_type_symbol`` / ``_atom_type_oxidation_number`` loop (every type symbol of a
    block must carry a charge: a partly charged file declares no states), and notes on the
    type symbols whose charge the file's own loop contradicts (that loop is kept).

    A block with such a loop gets rows only for the charged type symbols it lacks."""
    from pymatgen.io.cif import CifFile

    if not (re.search(r"^\s*_atom_site_type_symbol", text, flags=re.M | re.I)
            and _CHARGED_WORD.search(text)):
        return text, []
    try:
        cif = CifFile.from_str(text)
    except Exception:       # not a CIF: the readers' own errors explain it
        return text, []
    changed, notes = False, []
    for block in cif.data.values():
        sites = _site_states(block.data)
        if not sites:
            continue
        if _STATE in block.data:
            changed |= _fill_unknown_rows(block.data, sites)
            missing, contradicted = _against_loop(block.data, sites)
            notes += contradicted
            if missing:
                _add_rows(block, missing)
                changed = True
        elif all(state is not None for _, _, state in sites):
            _write_loop(block, {symbol: state for _, symbol, state in sites})
            changed = True
        elif any(state is not None for _, _, state in sites):
            notes.append(_partly_charged(sites))
    return (str(cif) if changed else text), notes


def _partly_charged(sites) -> str:
    """A note that a block's type symbols declare no states: some carry none."""
    charged = sorted({symbol for _, symbol, state in sites if state is not None})
    bare = sorted({symbol for _, symbol, state in sites if state is None})
    verb = "does" if len(bare) == 1 else "do"
    return (f"the type symbols {', '.join(charged)} carry a charge but {', '.join(bare)} "
            f"{verb} not, so the type symbols declare no oxidation states (ionmd guesses "
            "them); give every type symbol its charge (e.g. O2-), or the states in an "
            "_atom_type_oxidation_number loop")


def _as_list(value) -> list[str]:
    return value if isinstance(value, list) else [value]


def _site_states(data: dict) -> list[tuple[str, str, float | None]]:
    """(label, type symbol, state or None) of each atom site with a type symbol."""
    if "_atom_site_type_symbol" not in data:
        return []
    symbols = _as_list(data["_atom_site_type_symbol"])
    labels = _as_list(data.get("_atom_site_label", symbols))
    return [(label, symbol, type_symbol_state(symbol)) for label, symbol in zip(labels, symbols)]


def _fill_unknown_rows(data: dict, sites) -> bool:
    """Write the type symbols' states into the loop's rows whose state is unknown ('?',
    '.'): pymatgen drops every state of a loop holding a '?' and reads '.' as 0. Whether
    any row was filled."""
    by_symbol = {symbol: state for _, symbol, state in sites if state is not None}
    symbols, values = _as_list(data.get(_SYMBOL, [])), _as_list(data[_STATE])
    filled = [f"{by_symbol[symbol]:g}" if value.strip() in _UNKNOWN and symbol in by_symbol
              else value for symbol, value in zip(symbols, values)]
    if filled == values:
        return False
    filled += values[len(filled):]
    data[_STATE] = filled if isinstance(data[_STATE], list) else filled[0]
    return True


def _loop_states(data: dict) -> dict[str, float]:
    """The file's loop as pymatgen looks states up: by type symbol, then by element."""
    from pymatgen.io.cif import str2float

    states: dict[str, float] = {}
    for symbol, value in zip(_as_list(data.get(_SYMBOL, [])), _as_list(data[_STATE])):
        if value.strip() in _UNKNOWN:
            continue
        try:
            state = str2float(value)
        except (ValueError, TypeError):     # '?' or '.': no state given
            continue
        states[symbol] = state
        element = re.match(r"[A-Z][a-z]?", symbol)
        if element:
            states.setdefault(element.group(), state)
    return states


def _against_loop(data: dict, sites) -> tuple[dict[str, float], list[str]]:
    """Charged type symbols the file's loop does not cover (symbol -> state), and a note
    for each it contradicts."""
    loop = _loop_states(data)
    missing: dict[str, float] = {}
    notes = []
    for label, symbol, state in sites:
        if state is None:
            continue
        element = re.match(r"[A-Z][a-z]?", symbol).group()
        given = loop.get(symbol, loop.get(element))
        if given is None:
            missing[symbol] = state
        elif abs(given - state) > 1e-6:
            notes.append(f"site {label}: its type symbol {symbol} says {state:+g}, the "
                         f"file's _atom_type_oxidation_number {given:+g}; {given:+g} is used "
                         "(correct whichever is wrong)")
    return missing, list(dict.fromkeys(notes))


def _write_loop(block, states: dict[str, float]) -> None:
    block.data[_SYMBOL] = list(states)
    block.data[_STATE] = [f"{v:g}" for v in states.values()]
    block.loops = [loop for loop in block.loops if _SYMBOL not in loop] + [[_SYMBOL, _STATE]]
    # an _atom_type loop without states (scattering factors only): replaced by this one
    for key in [k for k in block.data if k.startswith("_atom_type_")
                and k not in (_SYMBOL, _STATE)]:
        del block.data[key]


def _add_rows(block, missing: dict[str, float]) -> None:
    """Rows for ``missing`` appended to the file's ``_atom_type`` loop (other columns ?)."""
    loop = next((keys for keys in block.loops if _STATE in keys), [_SYMBOL, _STATE])
    for key in loop:
        values = _as_list(block.data.get(key, []))
        if key == _SYMBOL:
            values += list(missing)
        elif key == _STATE:
            values += [f"{v:g}" for v in missing.values()]
        else:
            values += ["?"] * len(missing)
        block.data[key] = values
    if loop not in block.loops:
        block.loops.append(loop)
