"""Read a structure from a file, a pymatgen ``Structure``, an ASE ``Atoms`` or a
shipped example name, into a pymatgen ``Structure`` with partial occupancies kept."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Any

from pymatgen.core import Structure

from ionmd.errors import IonmdNote
from ionmd.structures.ase_atoms import structure_from_atoms
from ionmd.structures.checks import check_rounded_special_positions
from ionmd.structures.cif_blocks import structure_blocks
from ionmd.structures.cif_charges import with_type_symbol_states
from ionmd.structures.cif_checks import (check_declared_formula, has_fractional_sites,
                                         refuse_atoms_left_out)
from ionmd.structures.cif_numbers import with_ascii_minus, with_decimal_fractions
from ionmd.structures.cif_settings import with_setting_operators
from ionmd.structures.cif_site_symbols import refuse_misread_symbols, with_isotope_symbols
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
        if len(source) == 0:
            raise StructureError("the ASE Atoms object has no atoms")
        structure = structure_from_atoms(source)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_file():
            structure = _read_file(path)
        elif is_example_name(source):
            # also beside a folder of that name: ionmd run -o . writes ./Li3YCl6/, and the
            # same command again was refused as "a directory" (campaigns read it shipped)
            structure = _read_file(example_path(source), label=f"example {source!r}")
        elif path.is_dir():
            raise StructureError(f"{str(source)!r} is a directory: give the structure files "
                                 f"in it (e.g. {path / '*.cif'})")
        else:
            raise missing_structure(source)
    else:
        raise StructureError(
            f"cannot read a structure from a {type(source).__name__}; give a CIF/POSCAR "
            "path, a pymatgen Structure, an ASE Atoms or a shipped example name")
    if len(structure) == 0:
        raise StructureError(f"the structure read from {_describe(source)} has no atoms")
    return _checked(structure, _describe(source))


def is_example_name(source: Any) -> bool:
    """Whether ``source`` (not an existing file) names a shipped example: a bare name
    (``"Li3YCl6"``, any case), without a suffix or a folder, which would make it a path."""
    return (isinstance(source, str) and not _looks_like_path(source)
            and source.lower() in {n.lower() for n in example_names()})


def _looks_like_path(text: str) -> bool:
    seps = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    return any(c in text for c in seps) or Path(text).suffix != ""


def missing_structure(source: Any, looked_for: Path | None = None) -> StructureError:
    """The refusal of a structure that is neither a file nor a shipped example: a path (a
    suffix or a folder in it) is a missing file, saying where it was looked for
    (``looked_for``: the absolute path, when read relative to another folder than the
    cwd); a bare name is neither a file in the current folder nor an example. A mistyped
    ``nope.cif`` was reported as "no shipped example named 'nope.cif'"; every reader of
    structure arguments should refuse with this one message."""
    text = str(source)
    where = looked_for if looked_for is not None else Path(text).absolute()
    if isinstance(source, os.PathLike) or _looks_like_path(text):
        named = [n for n in example_names() if n.lower() == Path(text).stem.lower()]
        hint = (f"; the shipped example of that name is read as {named[0]!r}, without a "
                "suffix or folder" if named else "; check the path")
        return StructureError(f"structure file {text!r} does not exist (looked for {where})"
                              f"{hint}")
    return StructureError(f"no file {text!r} (looked for {where}) and no shipped example "
                          f"structure named {text!r}; available: {', '.join(example_names())} "
                          "(or give a CIF/POSCAR file path)")


def _is_ase_atoms(obj: Any) -> bool:
    try:
        from ase import Atoms
    except ImportError:  # pragma: no cover - ase is a dependency
        return False
    return isinstance(obj, Atoms)


def _describe(source: Any) -> str:
    return repr(str(source)) if isinstance(source, (str, os.PathLike)) else type(source).__name__


def _read_file(path, label: str | None = None) -> Structure:
    """The single structure in ``path`` (a Path or importlib Traversable)."""
    label = label or repr(str(path))
    entries = _read_entries(path, label)
    failed = [e for _, e in entries if isinstance(e, StructureError)]
    if len(failed) == len(entries):     # none to choose from: the first block's cause
        raise failed[0]
    if len(entries) > 1:
        raise StructureError(several_structures(label, entries) + "; read them all with "
                             "ionmd.structures.read_structures, or keep one per file")
    return entries[0][1]


def several_structures(label: str, entries) -> str:
    """``"'x.cif' holds 2 structures (data blocks 'A', 'B': cannot be read, ...)"``: a
    refusal's start for a command that takes one structure, naming the blocks to choose
    from (``entries``: as :func:`read_blocks` gives them, or ``(block, structure)``)."""
    blocks = [e[-2] for e in entries]
    text = f"{label} holds {len(entries)} structures"
    if any(b is None for b in blocks):
        return text
    named = [f"{b!r}" + (" (cannot be read)" if isinstance(e[-1], Exception) else "")
             for b, e in zip(blocks, entries)]
    return (f"{text} (data blocks {', '.join(named)}): keep the block you want as a file of "
            "its own (from its data_ line to the next one)")


def read_blocks(source: Any) -> list[tuple[str, str | None, Structure | StructureError]]:
    """Every structure in a file, as ``(name, data block, Structure)``, named as by
    :func:`read_structures`; the data block's name where a CIF has several (else None). A
    block that cannot be read gives its ``StructureError``, naming the block, in place of
    the Structure: the other blocks are still read.

    Raises
    ------
    StructureError
        As :func:`read_structure`, for a file that cannot be read at all.
    """
    if isinstance(source, (str, os.PathLike)) and Path(source).is_file():
        path = Path(source)
        entries = _read_entries(path, repr(str(path)))
        if len(entries) == 1:
            return [(path.stem, *entries[0])]
        return [(f"{path.stem}_{k}", *entry) for k, entry in enumerate(entries)]
    name = source if isinstance(source, str) else "structure"
    return [(name, None, read_structure(source))]


def read_structures(source: Any) -> list[tuple[str, Structure]]:
    """Every structure in a file, as ``(name, Structure)``: ``stem`` for a file with one
    structure, ``stem_k`` (k = 0, 1, ...) for several (CIF data blocks, extxyz frames).
    Non-file sources give one structure named ``"structure"`` or the example's name.

    Raises
    ------
    StructureError
        As :func:`read_structure`, also when the file holds no structure, or one of its
        CIF data blocks cannot be read (naming it; :func:`read_blocks` reads the others).
    """
    found = read_blocks(source)
    for _, _, structure in found:
        if isinstance(structure, StructureError):
            raise structure
    return [(name, structure) for name, _, structure in found]


def _read_entries(path, label: str) -> list[tuple[str | None, Structure | StructureError]]:
    """``(data block, Structure)`` of each structure in ``path``, checked
    (:func:`_checked`); a CIF of several data blocks is read block by block, a block that
    fails giving its StructureError (naming the block) and the others still read."""
    text = _read_text(path)
    blocks = structure_blocks(text) if _formats(path)[0] == "cif" else []
    if len(blocks) < 2:     # one structure block (beside publication details): alone
        text = blocks[0][1] if blocks else text
        return [(None, _checked(s, label)) for s in _read_frames(path, label, text)]
    out: list[tuple[str | None, Structure | StructureError]] = []
    for name, block_text in blocks:
        where = f"data block {name!r} of {label}"
        try:
            out += [(name, _checked(s, where)) for s in _read_frames(path, where, block_text)]
        except StructureError as exc:
            out.append((name, exc))
    return out


def unique_names(paths) -> list[str]:
    """A name per file that tells files apart: the stem where it is unique, else the stem
    with its suffix (``LiCl.cif``, ``LiCl.vasp`` -> ``LiCl_cif``, ``LiCl_vasp``), else with
    as many parent folders as needed (``mp-1/POSCAR``, ``mp-2/POSCAR`` -> ``mp-1_POSCAR``,
    ``mp-2_POSCAR``): layouts where every file has one name are common. Names never hold
    a path separator (they name output files), and a number ends a clash nothing else
    resolves."""
    files = [Path(p).resolve() for p in paths]
    distinct = sorted(set(files))                  # one file given twice keeps one name
    candidates = [_name_candidates(f) for f in distinct]
    stage = [0] * len(distinct)
    while True:
        names = [c[k] for c, k in zip(candidates, stage)]
        clash = {n for n in names if names.count(n) > 1}
        grow = [i for i, n in enumerate(names) if n in clash and stage[i] + 1 < len(candidates[i])]
        if not grow:
            break
        for i in grow:
            stage[i] += 1
    names = _numbered(names)
    by_file = dict(zip(distinct, names))
    return [by_file[f] for f in files]


def _name_candidates(path: Path) -> list[str]:
    """Names for ``path``, shortest first: stem, stem_suffix, then parent folders added
    (never the root: its '/' would put output files outside their folder)."""
    stem, suffix = path.stem, path.suffix.lstrip(".")
    names = [stem] + ([f"{stem}_{suffix}"] if suffix else [])
    folders = path.parent.parts[1:]               # without the anchor ('/', 'C:\\')
    names += ["_".join([*folders[-d:], stem]) for d in range(1, len(folders) + 1)]
    return [n.replace(os.sep, "_").replace("/", "_") for n in names]


def _numbered(names: list[str]) -> list[str]:
    """``names`` with a repeated one numbered (``x``, ``x_2``, ...)."""
    seen: set[str] = set()
    out = []
    for name in names:
        new, k = name, 2
        while new in seen:
            new, k = f"{name}_{k}", k + 1
        seen.add(new)
        out.append(new)
    return out


# ASE reads these (and pymatgen's CIF/POSCAR readers do not); other unknown names are tried
# as CIF, then POSCAR, then by ASE's own format detection
_ASE_SUFFIXES = (".xyz", ".extxyz", ".traj", ".json", ".xsf", ".pdb", ".gen", ".res",
                 ".lammps-data", ".lmp", ".data", ".in")
# LAMMPS data files: ASE's own detection takes ".data" for RuNNer's format and does not
# know ".lmp"
_LAMMPS_DATA_SUFFIXES = (".lammps-data", ".lmp", ".data")

# CIFs as published: occupancies of one position that add up to 1.002 from rounding (scaled
# to 1; a duplicated atom adds up to ~2), special positions given to three decimals (0.333:
# rounded to 1/3 rather than read as six atoms 0.004 A apart)
_CIF_OPTIONS = {"occupancy_tolerance": 1.01, "frac_tolerance": 1e-3}
_SPACE_GROUP_TAGS = ("_symmetry_space_group_name_H-M", "_space_group_name_H-M_alt",
                     "_space_group_name_Hall", "_symmetry_space_group_name_Hall")


def _formats(path) -> list[str]:
    """The formats ``path``'s name says to try, in order."""
    name = path.name.lower()
    if name.endswith(".cif"):
        return ["cif"]
    if name.endswith((".vasp", ".poscar")) or any(n in path.name.upper() for n in _POSCAR_NAMES):
        return ["poscar"]
    if name.endswith(_LAMMPS_DATA_SUFFIXES):
        return ["lammps-data"]
    if name.endswith(_ASE_SUFFIXES):
        return ["ase"]
    return ["cif", "poscar", "ase"]


def _read_frames(path, label: str | None = None, text: str | None = None) -> list[Structure]:
    """Parse ``path`` (or ``text``, one of its CIF data blocks) as CIF (every data block)
    or POSCAR with pymatgen, or with ASE for the formats only ASE reads (every frame)."""
    label = label or repr(str(path))
    text = _read_text(path) if text is None else text
    if not text.strip():
        raise StructureError(f"{label} is empty; give a CIF or POSCAR file with a structure in it")
    formats = _formats(path)
    errors, state_notes = [], []
    cif_text = ascii_text = text
    if "cif" in formats:
        # coordinates written as fractions (1/2) read as decimals, typeset minus signs (from
        # a paper: -0.1 and O2- as printed) as '-'; other non-numbers refused
        ascii_text = with_ascii_minus(text)
        cif_text = with_decimal_fractions(ascii_text, label)
        # isotopes typed by mass number (2H, 7Li), which pymatgen drops: D/T kept, the rest
        # refused; then rows it would misread (a vacancy 'Va' as V, labels 'Sb' of a file
        # numbering its sites by letters as antimony) refused
        cif_text, isotope_notes = with_isotope_symbols(cif_text, label)
        refuse_misread_symbols(cif_text, label)
        # oxidation states given as type symbols (Ni3+) only, which pymatgen ignores
        cif_text, state_notes = with_type_symbol_states(cif_text)
        state_notes = isotope_notes + state_notes
        # a rhombohedral group in rhombohedral axes, which pymatgen reads as hexagonal
        cif_text = with_setting_operators(cif_text, label)
    for fmt in formats:
        with warnings.catch_warnings(record=True) as caught:
            # pymatgen warns about rounded occupancies etc.; kept to explain a failure
            warnings.simplefilter("always")
            try:
                frames = _parse(path, cif_text if fmt == "cif" else text, fmt, label)
            except StructureError:
                raise
            except Exception as exc:  # pymatgen/ASE raise ValueError, IndexError, ... on bad input
                errors.append(f"{fmt}: {type(exc).__name__}: {exc}")
                frames = []
        _refuse_what_the_readers_guessed(caught, text, label)
        if fmt == "cif" and len(frames) == 1:
            # the text as parsed: a lone typeset minus (a table's 'not given') dropped by
            # pymatgen left a loop row one value short, a ValueError from zip()
            try:
                check_declared_formula(frames[0], ascii_text, label)
            except StructureError:      # special positions to two decimals: say so
                check_rounded_special_positions(frames[0], label)
                raise
        if frames:
            for note in state_notes if fmt == "cif" else []:
                warnings.warn(f"{label}: {note}", IonmdNote, stacklevel=4)
            return frames
        if not errors or not errors[-1].startswith(fmt):
            errors.append(f"{fmt}: no structure in the file")
    if formats == ["cif"] and "_atom_site_" in text and "_cell_length_a" not in text:
        raise StructureError(f"{label} has no unit cell (_cell_length_a/b/c, _cell_angle_alpha/"
                             "beta/gamma); give a CIF of a periodic crystal")
    lower = text.lower()
    if formats == ["cif"] and "_atom_site_cartn_x" in lower and "_atom_site_fract_x" not in lower:
        raise StructureError(f"{label} gives atom positions only as Cartesian coordinates "
                             "(_atom_site_Cartn_x/y/z), which pymatgen does not read; save it "
                             "with fractional coordinates (_atom_site_fract_x/y/z), e.g. from VESTA")
    if formats == ["cif"] and "_cell_length_a" in text and not has_fractional_sites(text):
        raise StructureError(f"{label} has a unit cell but no atom positions (no "
                             "_atom_site_fract_x/y/z rows with numbers in any data block); give "
                             "the CIF of the structure itself")
    formats = [f.upper() if f != "ase" else "any format ASE reads" for f in formats]
    raise StructureError(
        f"cannot read {label} as {' or '.join(formats)} ({'; '.join(errors)}); give a valid "
        "CIF (*.cif) or POSCAR/CONTCAR (*.vasp) file")


def _read_text(path) -> str:
    """The file's text: UTF-8 whatever the locale, else Windows-1252 (a file saved as 'ANSI'
    from text copied out of a paper, whose en dash 0x96 is a minus sign: replaced by U+FFFD
    it was dropped with the sign, -0.1 read as 0.1)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _refuse_what_the_readers_guessed(caught, text: str, label: str) -> None:
    """pymatgen reads some incomplete files by guessing, and only warns (a POSCAR without
    element names becomes H, He, ...: :func:`_read_poscar`); a CIF whose space-group symbol it cannot parse and
    that lists no symmetry operators becomes P1 (only the asymmetric unit). Those would
    run as the wrong crystal, so they are refused here, with what to add."""
    overfull = _overfull_sites(caught)
    if overfull:
        duplicated = max(overfull) >= 1.5
        sums = ", ".join(str(x) for x in overfull)
        raise StructureError(
            f"{label} puts more than one atom on one site (occupancies add up to {sums})"
            + (": a duplicated atom in the file. Remove the duplicates (one atom, or "
               "occupancies summing to at most 1, per position)" if duplicated else
               ", beyond the 1 % that rounding explains; correct the occupancies of that "
               "position so that they add up to at most 1"))
    messages = [str(w.message) for w in caught]
    refuse_atoms_left_out(messages, text, label)
    if any("Defaulting to P1" in m for m in messages):
        symbol = _declared_space_group(text)
        if symbol and symbol.strip("'\"").replace(" ", "").upper() != "P1":
            raise StructureError(
                f"{label} lists no symmetry operators and pymatgen cannot interpret its "
                f"space group {symbol}, so only the listed atoms (the asymmetric unit) would "
                "be used. Add _space_group_IT_number, or the operators "
                "(_space_group_symop_operation_xyz), e.g. by saving the file again from VESTA")


def _declared_space_group(text: str) -> str | None:
    for tag in _SPACE_GROUP_TAGS:
        m = re.search(rf"^\s*{re.escape(tag)}\s+(.+?)\s*$", text, flags=re.M | re.I)
        if m:
            return m.group(1)
    return None


def _parse(path, text: str, fmt: str, label: str = "") -> list[Structure]:
    if fmt == "cif":
        from pymatgen.io.cif import CifParser

        # as Structure.from_str(fmt="cif"), but every data block, not only the first
        return CifParser.from_str(text, **_CIF_OPTIONS).parse_structures(primitive=False)
    if fmt == "poscar":
        return [_read_poscar(text, label or repr(str(path)))]
    from ase.io import read

    if fmt == "lammps-data":
        if not re.search(r"^\s*Masses\s*(#.*)?$", text, flags=re.M):
            raise StructureError(
                f"{str(path)!r} is a LAMMPS data file without a Masses section, so its atom "
                "types name no elements; add the section (ASE and ionmd read each type's "
                "element from its mass), or give a CIF or POSCAR")
        frames = read(str(path), format="lammps-data", units="metal", index=":")
    else:
        frames = read(str(path), index=":")
    for atoms in frames:
        if atoms.cell.rank < 3:
            raise StructureError(f"{str(path)!r} has no periodic cell (its lattice vectors are "
                                 "missing or zero); give a file with the unit cell, e.g. "
                                 "extended XYZ with Lattice=\"...\", CIF or POSCAR")
    return [structure_from_atoms(atoms, repr(str(path))) for atoms in frames]


# pymatgen's warning for a VASP 4 POSCAR (no line of element symbols), whose atoms it then
# names H, He, Li... in the order of the counts
_NO_ELEMENTS = "Elements in POSCAR cannot be determined"
# one word of a POSCAR's first line read as elements: symbols with optional amounts
# ("Li", "Li2", "LiCl", "Li3YCl6")
_FORMULA_WORD = re.compile(r"(?:[A-Z][a-z]?(?:\d+(?:\.\d*)?)?)+")
_SYMBOL_AMOUNT = re.compile(r"([A-Z][a-z]?)(\d+(?:\.\d*)?)?")


def _read_poscar(text: str, label: str) -> Structure:
    """A POSCAR. A VASP 4 one (no line of element symbols) takes its elements from its
    first line where that line lists one element per count, in order ("Li Cl", as ASE
    writes and reads it), or is a formula whose amounts say which count is which ("Li3 Y1
    Cl6" above "3 1 6"); ``structure.properties["elements_from"]`` says so.
    Refused, saying what to add, where the first line does not (pymatgen named the atoms
    H, He, Li..., a different crystal, and only warned)."""
    from pymatgen.io.vasp.inputs import Poscar

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        structure = Structure.from_str(text, fmt="poscar")
    if not any(_NO_ELEMENTS in str(w.message) for w in caught):
        _warn_again(caught)
        return structure
    symbols, note = _first_line_elements(text, label)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        structure = Poscar.from_str(text, default_names=symbols, read_velocities=False).structure
    _warn_again(w for w in caught if "would be overwritten" not in str(w.message))
    structure.properties["elements_from"] = note
    return structure


def _warn_again(caught) -> None:
    """Warnings recorded around a reader, issued again to the caller's record (which
    :func:`_refuse_what_the_readers_guessed` reads)."""
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _first_line_elements(text: str, label: str) -> tuple[list[str], str]:
    """The element symbols a VASP 4 POSCAR's first line gives, one per count of its counts
    line, and a note of where they came from.

    Raises
    ------
    StructureError
        Where the first line is not element symbols (a comment), names another number of
        elements than the counts, or is a formula whose amounts do not tell which count
        is which element (:func:`_refuse_unordered_formula`).
    """
    lines = text.lstrip("\n").splitlines()
    first, counts = lines[0].strip(), [int(c) for c in lines[5].split("!")[0].split()]
    words = first.split()
    refusal = (f"{label} names no elements (a VASP 4 POSCAR without the line of element "
               f"symbols above the counts {' '.join(map(str, counts))}, and its first line "
               f"{first!r} ")
    advice = ("): add that line (e.g. 'Li Cl'), one symbol per count in their order, above "
              "the line of counts")
    parts = [_SYMBOL_AMOUNT.findall(w) for w in words if _FORMULA_WORD.fullmatch(w)]
    pairs = [pair for part in parts for pair in part]
    if not words or len(parts) < len(words) or not all(
            _is_element(symbol) for symbol, _ in pairs):
        raise StructureError(refusal + "is not element symbols" + advice)
    symbols = [symbol for symbol, _ in pairs]
    if len(symbols) != len(counts):
        raise StructureError(refusal + f"names {len(symbols)} elements "
                             f"({' '.join(symbols)}) for {len(counts)} counts" + advice)
    if any(len(part) > 1 or amount for part in parts for _, amount in part):
        _refuse_unordered_formula(symbols, [float(a or 1) for _, a in pairs], counts,
                                  refusal, advice)
    note = (f"elements from the first line {first!r} (VASP 4 POSCAR, no line of element "
            f"symbols; VASP takes their order from the POTCAR, here from that line): "
            f"{', '.join(f'{s} {c}' for s, c in zip(symbols, counts))}")
    return symbols, note


def _refuse_unordered_formula(symbols: list[str], amounts: list[float], counts: list[int],
                              refusal: str, advice: str) -> None:
    """Refuse a first line that is a formula (``Li4 Cl4``, ``LiCl``) unless its amounts say
    which count is which element. A formula's order is its writer's, not the counts':
    pymatgen's VASP 4 comment is the formula by electronegativity (``Li4 Cl4`` above counts
    ``4 4`` of Cl, then Li). Its amounts tell them apart where they are in the counts'
    proportions and no two are equal (two equal ones match the counts in either order).
    A list of bare symbols (``Li Cl``, ASE's VASP 4 output) names the counts one by one,
    in their order, and is taken as it is."""
    given = " ".join(f"{s}{a:g}" for s, a in zip(symbols, amounts))
    ratios = [c / a for c, a in zip(counts, amounts)]
    if max(ratios) - min(ratios) > 1e-6 * max(ratios):
        raise StructureError(refusal + f"gives the amounts {given}, not in the proportions of "
                             "the counts, so perhaps in another order" + advice)
    same = [s for s, a in zip(symbols, amounts) if amounts.count(a) > 1]
    if same:
        raise StructureError(
            refusal + f"is a formula ({given}) whose order need not be the counts' (pymatgen "
            f"writes its formula in its own order), and {' and '.join(same)} have equal "
            "amounts, so which count is which cannot be told" + advice)


def _is_element(symbol: str) -> bool:
    from pymatgen.core.periodic_table import Element

    return Element.is_valid_symbol(symbol)


def _overfull_sites(caught) -> list[float]:
    """The sums of pymatgen's warning for positions whose occupancies add up to more than
    its tolerance (it then drops the whole block and reports "no structures"); sums within
    the tolerance were scaled to 1."""
    for w in caught:
        m = re.search(r"Some occupancies \(\[([^\]]*)\]\) sum to > 1", str(w.message))
        if m:
            sums = [float(x) for x in re.findall(r"[0-9]+(?:\.[0-9]*)?", m.group(1))]
            over = [x for x in sums if x > _CIF_OPTIONS["occupancy_tolerance"]]
            if over:
                return over
    return []


def _checked(structure: Structure, label: str) -> Structure:
    """Refuse placeholder species (CIF type symbol ``X``, ASE atomic number 0)."""
    from pymatgen.core.periodic_table import DummySpecies

    for i, site in enumerate(structure):
        for sp in site.species:
            if isinstance(sp, DummySpecies) or getattr(sp, "Z", 1) == 0:
                symbol = re.sub(r"[0-9.+-]+$", "", getattr(sp, "symbol", str(sp))) or "X"
                raise StructureError(
                    f"{label}: site {i} ({site.label or symbol}) has the unknown element "
                    f"symbol {symbol!r}; give a chemical element (e.g. Li, Cl) for every atom")
    return structure
