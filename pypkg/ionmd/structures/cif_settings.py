"""Space-group settings of CIFs that list no symmetry operators. pymatgen builds the
operators from the symbol or number in one setting: the hexagonal one for the rhombohedral
groups and origin choice 1 for the groups with two origins, and it reads no named setting
(ICSD's 'F d -3 m Z', 'R -3 m H'; ITA's ':2', ':H': read as P1, the asymmetric unit only). A
file in the other setting read as a different crystal without an error (LiCoO2 in
rhombohedral axes, a = b = c, alpha = 33 deg: Li9Co3O36 at 42 g/cm3; LiMn2O4 in origin
choice 2 given its group number only: Li16Mn8O32 with overlapping atoms). Here each block
of a group with two settings gets the operators of its setting (spglib's table): the one
its symbol names, for a rhombohedral group the one its cell's axes are in, else origin
choice 1 (pymatgen's); a symbol naming the other setting than its cell is refused, and a
reading whose atoms overlap, or whose positions contradict the file's multiplicities where
the other origin fits them, is refused naming the origin choice that fits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ionmd.structures.errors import StructureError

RHOMBOHEDRAL_GROUPS = frozenset({146, 148, 155, 160, 161, 166, 167})
# the tags pymatgen's reader takes the operators, symbol and number from
_OPERATOR_TAGS = ("_symmetry_equiv_pos_as_xyz", "_symmetry_equiv_pos_as_xyz_",
                  "_space_group_symop_operation_xyz", "_space_group_symop_operation_xyz_")
_SYMBOL_TAGS = ("_symmetry_space_group_name_H-M", "_symmetry_space_group_name_H_M",
                "_space_group_name_H-M_alt", "_symmetry_space_group_name_h-m")
_NUMBER_TAGS = ("_space_group_IT_number", "_symmetry_Int_Tables_number")
# Hall symbols name the setting exactly ('-F 4vw 2vw 3': Fd-3m origin choice 2); pymatgen's
# reader does not read them
_HALL_TAGS = ("_space_group_name_Hall", "_symmetry_space_group_name_Hall")
_GROUP_LINE = re.compile(r"^\s*_(symmetry_space_group_name_H|space_group_name_H-M|"
                         r"space_group_name_Hall|"
                         r"space_group_IT_number|symmetry_Int_Tables_number)", flags=re.M | re.I)
_OPERATOR_LINE = re.compile(r"^\s*_(symmetry_equiv_pos_as_xyz|space_group_symop_operation_xyz)"
                            r"_?\s*$", flags=re.M | re.I)
_BLOCK_LINE = re.compile(r"^\s*data_", flags=re.M | re.I)
# a setting named after the symbol: ITA's ':1', ':2', ':H', ':R'; ICSD's 'S' (origin choice
# 1, "standard"), 'Z' (origin choice 2, at the centre of symmetry), 'H', 'R' (any case: no
# H-M symbol ends in a word s, z, h or r)
_NAMED_SETTING = re.compile(r"^(.*?)\s*(?::\s*([12HRhr])|\s([SZHRszhr]))$")
_ICSD_SETTING = {"S": "1", "Z": "2", "H": "H", "R": "R"}
# group 68's symbols from before ITA's 'e' glide (2002), which spglib's table lacks: the Hall
# numbers of origin choices 1 and 2 in their axes. pymatgen's table has them for origin
# choice 2 alone, so it reads a plain 'C c c a' in origin choice 2, and 'C c c a :2' or ICSD's
# 'C c c a Z' (by the number) in origin choice 1: Li2Cl for Li4Cl, no word
_OLD_68_SYMBOLS = {"Ccca": (322, 323), "Cccb": (324, 325), "Abaa": (326, 327),
                   "Acaa": (328, 329), "Bbcb": (330, 331), "Bbab": (332, 333)}
LENGTH_TOLERANCE = 2e-4
"""Relative difference of cell lengths taken as equal (a = b = c of rhombohedral axes);
lengths written to 4-5 digits differ by less when they are one length rounded."""
ANGLE_TOLERANCE = 0.02
"""Degrees by which cell angles taken as equal (alpha = beta = gamma, 90, 120) may differ."""
_SAME_POSITION = 1e-3       # fractional: copies closer than this are one position
_WHOLE = 0.99               # occupancies at least this are whole atoms (overlap evidence)


@dataclass(frozen=True)
class _Group:
    number: int
    settings: tuple[tuple[str, int], ...]   # ('1'/'2'/'H'/'R', Hall number) in its axes
    setting: str | None     # 'H', 'R', '1', '2' where the symbol names one
    named: str              # as the file gives it, for messages
    plain: str = "1"        # the origin a symbol naming none is read in (pymatgen's)


def with_setting_operators(text: str, label: str) -> str:
    """``text`` with the operators of its setting written into each data block that lists
    no operators and names (by H-M or Hall symbol, or number) a space group with two
    settings: the setting its symbol names (``:2``, ``Z``, ``:H``, ``H``, Hall's
    ``-F 4vw 2vw 3``...), for a rhombohedral group the
    one its cell's axes are in, else origin choice 1 (in the symbol's axes; 2 for group
    68's old symbols such as 'C c c a', as pymatgen reads them); blocks that
    pymatgen reads in that setting itself (a plain symbol or number in standard axes,
    origin choice 1 or hexagonal), and all others, as they are.

    Raises
    ------
    StructureError
        Where a block without operators names a setting other than its cell's axes, has a
        rhombohedral group with a cell in neither setting's axes, or reads in the operators
        it gets with overlapping atoms (or, for a group with two origins, with positions
        that contradict the file's multiplicities where the other origin fits them).
    """
    from pymatgen.io.cif import CifFile

    blocks = _BLOCK_LINE.split(text)[1:]
    if not _GROUP_LINE.search(text) or all(_OPERATOR_LINE.search(b) for b in blocks):
        return text         # no group named, or operators listed in every block
    try:
        cif = CifFile.from_str(text)
    except Exception:       # not a CIF: the readers' own errors explain it
        return text
    changed = False
    for block in cif.data.values():
        data = block.data
        if any(data.get(tag) for tag in _OPERATOR_TAGS):
            continue
        group = _declared_group(data)
        cell = _cell(data)
        if group is None or cell is None:
            continue
        hall = _chosen_hall(group, cell, label)
        if hall is None:
            continue
        _refuse_misfit(data, cell, group, hall, label)
        # pymatgen builds the standard setting from a plain symbol or number, and nothing
        # (P1, the asymmetric unit) from a symbol naming a setting
        if group.setting or hall != _halls_by_number()[group.number][0]:
            data["_space_group_symop_operation_xyz"] = _operators(hall)
            block.loops.append(["_space_group_symop_operation_xyz"])
            changed = True
    return str(cif) if changed else text


def _chosen_hall(group: _Group, cell, label: str) -> int | None:
    """spglib's Hall number of the setting the block is read in, for the groups with two
    settings; None for the others (and for a named setting its axes lack)."""
    settings = dict(group.settings)
    if len(settings) < 2:
        return None
    if group.number in RHOMBOHEDRAL_GROUPS:
        axes = _axes(cell)
        if axes is None:
            raise StructureError(
                f"{label} gives the rhombohedral space group {group.named} and no symmetry "
                f"operators, but its cell ({_cell_text(cell)}) is in the axes of neither of "
                "its settings (hexagonal: a = b, alpha = beta = 90, gamma = 120; rhombohedral: "
                "a = b = c, alpha = beta = gamma), so the group's operators do not apply to "
                "its coordinates. Add the operators (_space_group_symop_operation_xyz) that "
                "go with its cell, or give the cell in one of those settings")
        if group.setting in ("1", "2"):
            return None     # an origin named for a group that has none: pymatgen's reading
        if group.setting and group.setting != axes:
            raise StructureError(
                f"{label} gives its space group as {group.named}, the "
                f"{_setting_words(group.setting)}, but its cell ({_cell_text(cell)}) is in "
                f"the {_setting_words(axes)}'s axes; correct the symbol (ionmd reads a "
                "rhombohedral group in the setting its cell is in) or the cell")
        return settings[axes]
    if group.setting in ("H", "R"):
        return None     # a rhombohedral setting named for a group that has none
    # pymatgen would build origin choice 1 whatever the symbol names ('F d -3 m Z': LiMn2O4
    # read as Li2MnO4, O atoms 0.3 A apart)
    return settings.get(group.setting or group.plain)


def _refuse_misfit(data: dict, cell, group: _Group, hall: int, label: str) -> None:
    """Refuse a block whose sites, placed with the operators of ``hall``, overlap, or (for a
    group with two origins) contradict the file's multiplicities where the other origin
    fits them; naming that origin where it fits."""
    sites = _sites(data)
    overlap, counts = _misfit(sites, cell, hall)
    if overlap is None and counts is None:
        return
    setting = _choice(hall)
    other = None
    if group.number not in RHOMBOHEDRAL_GROUPS:
        other = {"1": "2", "2": "1"}[setting]
        if _misfit(sites, cell, dict(group.settings)[other]) != (None, None):
            other = None
    if overlap is None and other is None:
        return      # multiplicities alone: the file may count them another way
    found = "; ".join(words for words in (overlap, counts) if words)
    given = ", the multiplicities the file gives" if all(s["multiplicity"] for s in sites) else ""
    fit = (f"; in {_setting_words(other)} its sites fit (no overlapping atoms{given})"
           if other else "")
    icsd = {"1": "S", "2": "Z"}.get(other)
    advice = (f"name {_setting_words(other)} in the symbol (ITA's ':{other}', ICSD's "
              f"'{icsd}') or add its operators (_space_group_symop_"
              "operation_xyz), e.g. by saving the file again from VESTA" if other else
              "check the coordinates against the setting, or add the operators "
              "(_space_group_symop_operation_xyz) that go with them")
    raise StructureError(
        f"{label} lists no symmetry operators; read with those of {group.named} in "
        f"{_setting_words(setting)}, {found}: the file's setting/origin choice differs from "
        f"the one its operators assume, or a coordinate is wrong{fit}. To fix it, {advice}")


def _misfit(sites, cell, hall: int) -> tuple[str | None, str | None]:
    """(overlapping atoms, a multiplicity contradicted) of ``sites`` placed with the
    operators of ``hall``, each as words or None."""
    from ionmd.structures.checks import closest_overlap

    rotations, translations = _operations(hall)
    orbits = [_orbit(site["xyz"], rotations, translations) for site in sites]
    counts = None
    if all(site["multiplicity"] for site in sites):
        wrong = [(s, len(o)) for s, o in zip(sites, orbits) if len(o) != s["multiplicity"]]
        if wrong:
            site, n = wrong[0]
            counts = (f"site {site['label']} has {n} positions where the file gives "
                      f"{site['multiplicity']}")
    whole = [(s, o) for s, o in zip(sites, orbits) if s["occupancy"] >= _WHOLE and s["element"]]
    if not whole:
        return None, counts
    from pymatgen.core import Lattice, Structure

    names = [s["label"] for s, o in whole for _ in o]
    structure = Structure(Lattice.from_parameters(*cell),
                          [s["element"] for s, o in whole for _ in o],
                          np.vstack([o for _, o in whole]))
    pair = closest_overlap(structure)
    if pair is None:
        return None, counts
    i, j, distance, _ = pair
    which = (f"copies of site {names[i]}" if names[i] == names[j]
             else f"sites {names[i]} and {names[j]}")
    return f"{which} come {distance:.2f} A apart", counts


def _orbit(xyz: np.ndarray, rotations: np.ndarray, translations: np.ndarray) -> np.ndarray:
    """The distinct positions (fractional, in [0, 1)) of ``xyz`` under the operations."""
    images = (rotations @ xyz + translations) % 1.0
    apart = np.abs((images[:, None, :] - images[None, :, :] + 0.5) % 1.0 - 0.5).max(axis=2)
    same = apart < _SAME_POSITION
    kept, seen = [], np.zeros(len(images), dtype=bool)
    for k in range(len(images)):
        if not seen[k]:
            kept.append(k)
            seen |= same[k]
    return images[kept]


def _sites(data: dict) -> list[dict]:
    """Label, element (None where unknown), coordinates, occupancy and multiplicity (None
    where not given) of each atom site."""
    from pymatgen.core import Element
    from pymatgen.io.cif import str2float

    def column(tag, default):
        values = data.get(tag, default)
        return values if isinstance(values, list) else [values]

    labels = column("_atom_site_label", [])
    symbols = column("_atom_site_type_symbol", labels)
    occupancies = column("_atom_site_occupancy", ["1"] * len(labels))
    multiplicities = column("_atom_site_symmetry_multiplicity", ["?"] * len(labels))
    xs, ys, zs = (column(f"_atom_site_fract_{c}", []) for c in "xyz")
    sites = []
    for k, label in enumerate(labels):
        try:
            xyz = np.array([str2float(xs[k]), str2float(ys[k]), str2float(zs[k])])
        except (ValueError, TypeError, IndexError):
            continue
        try:
            occupancy = str2float(occupancies[k])
        except (ValueError, TypeError, IndexError):
            occupancy = 1.0
        try:
            multiplicity = int(str2float(multiplicities[k]))
        except (ValueError, TypeError, IndexError):
            multiplicity = None
        m = re.match(r"[A-Z][a-z]?", symbols[k]) if k < len(symbols) else None
        element = next((e for e in ((m.group(), m.group()[0]) if m else ())
                        if Element.is_valid_symbol(e)), None)
        sites.append({"label": label, "element": element, "xyz": xyz,
                      "occupancy": occupancy, "multiplicity": multiplicity})
    return sites


def _declared_group(data: dict) -> _Group | None:
    """The space group a block names (H-M symbol, Hall symbol, else number), with its
    settings in the axes the symbol names and the setting the symbol names (an H-M symbol
    naming one wins, then a Hall symbol, over another tag's plain one: 'F d -3 m' beside
    'F d -3 m :2' or '-F 4vw 2vw 3'); None where it names none that spglib's table knows."""
    from pymatgen.io.cif import str2float

    symbols = [g for g in (_symbol_group(data.get(tag)) for tag in _SYMBOL_TAGS) if g]
    halls = [g for g in (_hall_group(data.get(tag)) for tag in _HALL_TAGS) if g]
    named = [g for g in symbols + halls if g.setting]
    if named or symbols:
        return (named or symbols)[0]
    for tag in _NUMBER_TAGS:
        value = data.get(tag)
        try:
            number = int(str2float(value))
        except (ValueError, TypeError):
            continue
        if 1 <= number <= 230:
            halls = _halls_by_number()[number]
            return _Group(number, _settings(halls), None, f"number {number} ({tag})")
    return None


def _symbol_group(symbol) -> _Group | None:
    """The group an H-M symbol names (with its setting: ':2', 'Z', ':H'...), or None."""
    if not isinstance(symbol, str) or symbol.strip("'\" ") in ("", "?", "."):
        return None
    symbol = symbol.strip().strip("'\"").strip()
    m = _NAMED_SETTING.match(symbol)
    base, setting = (m.group(1), (m.group(2) or "").upper()
                     or _ICSD_SETTING[m.group(3).upper()]) if m else (symbol, None)
    halls = _symbol_halls(base)
    if halls is None and m:     # a symbol ending in H or R of its own, if any
        base, setting = symbol, None
        halls = _symbol_halls(base)
    if halls is None:
        return None
    plain = "2" if _normalized(base) in _OLD_68_SYMBOLS else "1"
    return _Group(_number(halls[0]), _settings(halls), setting, repr(symbol), plain)


def _symbol_halls(symbol: str) -> tuple[int, ...] | None:
    name = _normalized(symbol)
    return _OLD_68_SYMBOLS.get(name) or _halls_by_symbol().get(name)


def _hall_group(symbol) -> _Group | None:
    """The group and setting a Hall symbol names ('-F 4vw 2vw 3'), or None."""
    if not isinstance(symbol, str):
        return None
    hall = _halls_by_hall_symbol().get(_hall_words(symbol))
    if hall is None:
        return None
    number = _number(hall)
    others = tuple(h for h in _halls_by_number()[number] if h != hall)
    # the standard setting (origin choice 1, hexagonal) as a plain symbol: read by pymatgen
    # as before, a rhombohedral group in its cell's axes
    setting = _choice(hall) if hall != _halls_by_number()[number][0] else ""
    return _Group(number, _settings((hall, *others)),
                  setting if setting in ("1", "2", "H", "R") else None, repr(symbol.strip()))


def _hall_words(symbol: str) -> str:
    return " ".join(symbol.strip().strip("'\"").split())


@lru_cache(maxsize=1)
def _halls_by_hall_symbol() -> dict[str, int]:
    import spglib

    halls: dict[str, int] = {}
    for hall in range(1, 531):
        halls.setdefault(_hall_words(spglib.get_spacegroup_type(hall).hall_symbol), hall)
    return halls


def _cell(data: dict) -> tuple[float, ...] | None:
    from pymatgen.io.cif import str2float

    try:
        return tuple(str2float(data[f"_cell_{name}"]) for name in (
            "length_a", "length_b", "length_c", "angle_alpha", "angle_beta", "angle_gamma"))
    except (KeyError, ValueError, TypeError):
        return None


def _axes(cell) -> str | None:
    """'R' for rhombohedral axes (a = b = c, alpha = beta = gamma, not 90), 'H' for
    hexagonal ones (a = b, alpha = beta = 90, gamma = 120), else None."""
    a, b, c, alpha, beta, gamma = cell

    def same_length(*lengths):
        return max(lengths) - min(lengths) <= LENGTH_TOLERANCE * max(lengths)

    def same_angle(*angles):
        return max(angles) - min(angles) <= ANGLE_TOLERANCE

    if same_length(a, b, c) and same_angle(alpha, beta, gamma) and not same_angle(alpha, 90):
        return "R"
    if same_length(a, b) and same_angle(alpha, beta, 90) and same_angle(gamma, 120):
        return "H"
    return None


def _cell_text(cell) -> str:
    a, b, c, alpha, beta, gamma = cell
    return f"a {a:g}, b {b:g}, c {c:g} A, alpha {alpha:g}, beta {beta:g}, gamma {gamma:g} deg"


def _setting_words(setting: str) -> str:
    return {"H": "hexagonal setting", "R": "rhombohedral setting", "1": "origin choice 1",
            "2": "origin choice 2"}[setting]


def _normalized(symbol: str) -> str:
    """``symbol`` without spaces and underscores, a bar written after its digit ('F d 3- m',
    as older programs write it) written before it, as spglib's table has it."""
    return re.sub(r"(\d)-", r"-\1", re.sub(r"[\s_]", "", symbol))


@lru_cache(maxsize=1)
def _halls_by_symbol() -> dict[str, tuple[int, ...]]:
    """spglib's Hall numbers of each H-M symbol (short and full, as spglib writes them for
    each setting: 'P n m m' is 59 in axes cab, 'P 1 1 21/b' 14 with unique axis c)."""
    import spglib

    halls: dict[str, list[int]] = {}
    for hall in range(1, 531):
        t = spglib.get_spacegroup_type(hall)
        names = {_normalized(n) for n in (t.international_short, t.international_full,
                                          *t.international.split("="))}
        for name in names:
            halls.setdefault(name, []).append(hall)
    return {name: tuple(h) for name, h in halls.items()}


@lru_cache(maxsize=1)
def _halls_by_number() -> dict[int, tuple[int, ...]]:
    import spglib

    halls: dict[int, list[int]] = {}
    for hall in range(1, 531):
        halls.setdefault(spglib.get_spacegroup_type(hall).number, []).append(hall)
    return {number: tuple(h) for number, h in halls.items()}


def _settings(halls: tuple[int, ...]) -> tuple[tuple[str, int], ...]:
    """The settings of the group of ``halls`` in the axes of the first (the standard ones
    where it is among them): ('1', Hall), ('2', Hall) for the two origins, ('H', Hall),
    ('R', Hall) for a rhombohedral group; empty where the first has no such choice (a
    monoclinic cell choice, a group with one setting). Taken from all the group's Hall
    numbers, not only those the symbol names: spglib names 68's origin choice 2 in axes bca
    'B b c b', its origin choice 1 'B b e b'."""
    import spglib

    group = (*halls, *_halls_by_number()[_number(halls[0])])
    choices = [(spglib.get_spacegroup_type(h).choice, h) for h in group]
    first = choices[0][0]
    if not first or first[0] not in "12HR":
        return ()
    axes = first[1:]
    out: dict[str, int] = {}
    for choice, hall in choices:
        if choice and choice[0] in "12HR" and choice[1:] == axes:
            out.setdefault(choice[0], hall)
    return tuple(out.items())


def _number(hall: int) -> int:
    import spglib

    return spglib.get_spacegroup_type(hall).number


def _choice(hall: int) -> str:
    """'1', '2', 'H' or 'R': the setting of ``hall`` (without its axes, 'cab' of '1cab')."""
    import spglib

    return spglib.get_spacegroup_type(hall).choice[:1]


@lru_cache(maxsize=None)
def _operations(hall: int) -> tuple[np.ndarray, np.ndarray]:
    import spglib

    table = spglib.get_symmetry_from_database(hall)
    return table["rotations"].astype(float), table["translations"]


def _operators(hall: int) -> list[str]:
    """The operations of ``hall`` as CIF's xyz strings (``-y, x-y, z+1/3``)."""
    from pymatgen.core.operations import SymmOp

    rotations, translations = _operations(hall)
    return [SymmOp.from_rotation_and_translation(r, t).as_xyz_str()
            for r, t in zip(rotations, translations)]
