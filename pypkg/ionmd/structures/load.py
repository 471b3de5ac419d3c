"""The one way every command turns a structure file into cells a model can run on: read
(every structure in the file), refuse or order partial occupancies, refuse overlapping
atoms. ``ionmd run``, ``bench``, ``screen`` and campaigns all go through here, so a
disordered CIF is never simulated as ASE or pymatgen happen to read it."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pymatgen.core import Structure

from ionmd.structures.checks import (check_ordered, check_overlaps,
                                     check_rounded_special_positions, fill_rounded_sites)
from ionmd.structures.errors import StructureError
from ionmd.structures.io import read_blocks, several_structures
from ionmd.structures.occupancy_tolerance import OCCUPANCY_TOLERANCE, RoundingNote

ORDER_METHODS = ("ewald", "random")


@dataclass(frozen=True)
class OrderOptions:
    """How to treat partially occupied sites.

    Attributes
    ----------
    method
        None (refuse such files), ``"ewald"`` or ``"random"``.
    seed
        Seed of ``"random"``.
    occ_tol
        Occupancy rounding allowed (see ``order_structure``; default
        :data:`~ionmd.structures.occupancy_tolerance.OCCUPANCY_TOLERANCE`).
    min_distance
        See ``order_structure`` (None: its default rule; 0: none).
    supercell
        The cell the structure will run in: a protocol's ``supercell`` (``"2x2x2"``
        repetitions of the file's cell, ``"8A"``, or None). Partial occupancies are ordered
        in that cell (``"8A"``: enlarged further if the occupancies need it), so that the
        protocol does not repeat an already enlarged ordered cell again.
    candidates
        With ``"ewald"``: keep this many lowest-Ewald arrangements (one per symmetry class,
        ``LoadedStructure.candidates``) for a model to re-rank
        (``ionmd.screen.ordering_rank.rank_by_model``; ``--order-model-rank``); 1: none.
    """

    method: str | None = None
    seed: int = 0
    occ_tol: float = OCCUPANCY_TOLERANCE
    min_distance: float | None = None
    supercell: str | None = None
    candidates: int = 1

    def __post_init__(self):
        if self.method not in (None, *ORDER_METHODS):
            raise StructureError(f"unknown ordering method {self.method!r}; use "
                                 f"{' or '.join(ORDER_METHODS)}")
        if self.candidates > 1 and self.method != "ewald":
            # the one wording for the command line and a campaign's line (both come here)
            raise StructureError(
                f"re-ranking {self.candidates} arrangements by the model takes the lowest-"
                f"Ewald ones, but the ordering was {self.method or 'none'}: give --order "
                f"ewald with --order-model-rank {self.candidates} (a campaign: order = "
                f"\"ewald\" with order_model_rank = {self.candidates})")


@dataclass
class LoadedStructure:
    """An ordered, checked cell and where it came from."""

    name: str
    structure: Structure
    ordering: str | None = None
    """How partial occupancies were ordered (None: the file was ordered)."""
    in_run_cell: bool = False
    """The structure is already the cell of ``OrderOptions.supercell`` (it was ordered in
    it, or built as a supercell other than repetitions of the file's cell): the protocol
    must not repeat it again."""
    supercell: str | None = None
    """How a minimum-width supercell was built where it is not a repetition of the file's
    cell (fewer atoms than repeating it), e.g. ``"[[-1, 1, 1], [1, -1, 1], [1, 1, -1]] x
    the cell: 4 cells (repeating it: 2x2x2, 8 cells), widths >= 9.86 A"``."""
    rounded_away: dict[str, float] = field(default_factory=dict)
    """Elements of the file that rounding its occupancies within ``OrderOptions.occ_tol``
    left out of the ordered cell, with their amount per cell of the file (Li 0.04 of a
    perovskite at 0.15), and ``"vacancy"``: the vacancies of sites that rounding filled
    fully (Li 0.96 on 24d at 0.05: 0.96 vacancies per cell); empty where none was, or the
    file was ordered."""
    rounding: str = ""
    """The note on sites within rounding of whole read as whole (``"occupancies adding up
    to 0.999 read as whole sites (Li1: Li 0.999): published rounding, ..."``:
    ``checks.fill_rounded_sites``), for a Python caller to print or record; empty where
    none was. It is also issued once as a
    :class:`~ionmd.structures.occupancy_tolerance.RoundingNote` warning, which the command
    line prints as ``ionmd: note: ...`` (a caller that prints this text may ignore it)."""
    candidates: list = field(default_factory=list)
    """With ``OrderOptions.candidates`` > 1: the lowest-Ewald arrangements
    (``ordering_candidates.Candidate``, lowest first, oxidation states kept as
    ``structure``'s) a model re-ranks; empty otherwise."""
    candidates_searched: int = 0
    """How many arrangements (symmetry-equivalent ones included) ``candidates`` came from."""
    candidates_kept: int = 0
    """How many of those keep the pair rule (``candidates`` are classes of these)."""


@dataclass
class LoadFailure:
    """A structure of a file that could not be loaded (``load_structures(...,
    keep_failures=True)``): its CIF data block (None where the
    file has one), the error (naming the block), and the structure as read where reading
    worked (ordering or the checks failed), else None."""

    name: str
    block: str | None
    error: Exception
    structure: Structure | None = None


def load_structures(source: Any, order: OrderOptions | None = None, *,
                    keep_failures: bool = False) -> list:
    """Every structure of ``source`` (see ``read_structures``), ordered and checked:
    ``LoadedStructure`` each.

    With ``keep_failures``, each on its own: one that fails (a CIF data block that cannot
    be read, ordered or checked) is its :class:`LoadFailure` in the list, and the others
    still load (a screen reports it and goes on).

    Raises
    ------
    StructureError
        For an unreadable file, partial occupancies without ``order.method`` (naming the
        sites), occupancies that cannot be ordered, or atoms on top of each other: of any
        structure, naming its data block where the file has several (with
        ``keep_failures``, only for a file that cannot be read at all).
    """
    order = order or OrderOptions()
    items = read_blocks(source)
    out: list = []
    for name, block, structure in items:
        if isinstance(structure, Exception):
            failure = LoadFailure(name, block, structure)
        else:
            try:
                out.append(_load_one(source, name, block, structure, order, len(items)))
                continue
            except Exception as exc:  # noqa: BLE001 - this structure's, the rest go on
                failure = LoadFailure(name, block, exc, structure)
        if not keep_failures:
            raise failure.error
        out.append(failure)
    return out


def _label(source: Any) -> str:
    return (repr(str(source)) if isinstance(source, str) or hasattr(source, "__fspath__")
            else type(source).__name__)


def _load_one(source: Any, name: str, block: str | None, structure: Structure,
              order: OrderOptions, n_items: int) -> LoadedStructure:
    """One structure of ``source`` ordered and checked (``n_items``: how many the file
    holds, to name this one in messages)."""
    label = _label(source)
    is_file = isinstance(source, str) or hasattr(source, "__fspath__")
    where = (label if n_items == 1 else f"data block {block!r} of {label}" if block is not None
             else f"{label} (structure {name})")
    what = Path(source).name if is_file and n_items == 1 else name
    ordering, rounded_away, candidates, searched, kept = None, {}, [], 0, 0
    # 0.999 as 1.001: rounding; not beyond a stricter --order-tol (5e-4 keeps Li 0.999's
    # vacancies: Li667 Cl668)
    structure, rounding = fill_rounded_sites(structure, min(OCCUPANCY_TOLERANCE,
                                                            order.occ_tol))
    if rounding:
        warnings.warn(f"{where}: {rounding}", RoundingNote, stacklevel=3)
    if structure.is_ordered:
        check_overlaps(structure, where)    # atoms numbered as in the file
    else:   # not read as split positions, whose refusal says to round occupancies
        check_rounded_special_positions(structure, where)
    if not structure.is_ordered and order.method is None:
        check_ordered(structure, where)     # raises, naming the sites
    shape = None
    if structure.is_ordered:
        structure, shape = _compact_supercell(structure, order.supercell)
    else:       # ordered in a cell whose size the occupancies set (compact there)
        try:
            structure, ordering, rounded_away, candidates, searched, kept = _order(
                structure, order, what)
        except StructureError as exc:
            if block is None or n_items == 1:
                raise
            raise StructureError(f"{where}: {exc}") from exc
        check_overlaps(structure, where)
    in_run_cell = shape is not None or (ordering is not None and order.supercell is not None)
    return LoadedStructure(name, structure, ordering, in_run_cell=in_run_cell,
                           supercell=shape, rounded_away=rounded_away, rounding=rounding,
                           candidates=candidates, candidates_searched=searched,
                           candidates_kept=kept)


def _compact_supercell(structure: Structure, spec) -> tuple[Structure, str | None]:
    """For a minimum-width setting (``"8A"``): the supercell of fewest cells that reaches
    the width where repeating the file's cell along a, b, c needs more (a skewed or
    primitive cell: ``supercell_shape.min_width_matrix``), and how it was built; else
    ``structure`` as it is and None. Explicit repetitions (``"2x2x2"``) are kept as given."""
    import numpy as np

    from ionmd.structures.supercell import (check_run_atoms, min_width_of, min_width_supercell,
                                            supercell_structure)
    from ionmd.structures.supercell_shape import min_width_matrix

    width = min_width_of(spec)
    if width is None:
        return structure, None
    plain = min_width_supercell(structure.lattice, width)
    matrix = min_width_matrix(structure.lattice.matrix, width)
    if np.array_equal(matrix, np.diag(plain)):
        return structure, None
    n = round(abs(np.linalg.det(matrix)))
    check_run_atoms(n * len(structure), f"supercell {spec!r}: {n} copies of the "
                    f"{len(structure)}-atom cell")
    # pymatgen's make_supercell from numpy arrays: 941,192 atoms of LiCl loaded in 17 s, not 59
    big = supercell_structure(structure, matrix)
    from ionmd.structures.geometry import perpendicular_widths

    widths = perpendicular_widths(big.lattice)
    return big, (f"{matrix.tolist()} x the cell: {n} cell{'s' if n > 1 else ''} (repeating it: "
                 f"{'x'.join(map(str, plain))}, {int(np.prod(plain))} cells), widths "
                 f"{', '.join(f'{w:.2f}' for w in widths)} A")


def load_structure(source: Any, order: OrderOptions | None = None) -> LoadedStructure:
    """The single structure of ``source``, ordered and checked (see ``load_structures``).

    Raises
    ------
    StructureError
        As ``load_structures``; for a file of several structures, naming its data blocks
        (whether each can be read) and how to keep one, before any is ordered."""
    items = read_blocks(source)
    failed = [s for _, _, s in items if isinstance(s, Exception)]
    if len(failed) == len(items):       # none to choose from: the first block's cause
        raise failed[0]
    if len(items) > 1:
        raise StructureError(several_structures(_label(source), items) + "; this command "
                             "takes one structure per file (or screen them all)")
    name, block, structure = items[0]
    return _load_one(source, name, block, structure, order or OrderOptions(), 1)


def _order(structure: Structure, order: OrderOptions,
           name: str) -> tuple[Structure, str, dict[str, float], list, int, int]:
    from ionmd.structures.charges import (declared_oxidation_states, declares_site_states,
                                          with_site_states)
    from ionmd.structures.ordering import net_charge_note, order_structure, supercell_text

    seed = order.seed if order.method == "random" else None
    cell = order_structure(structure, order.method, seed=seed, occ_tol=order.occ_tol,
                           min_distance=order.min_distance, candidates=order.candidates,
                           **_ordering_cell(order.supercell))
    declared = declared_oxidation_states(structure)

    def with_states(ordered: Structure) -> Structure:
        if declared:    # kept, as for an ordered file: run.json's charges are the file's
            ordered.add_oxidation_state_by_element(declared)
        elif declares_site_states(structure):   # mixed valence (Fe2+/Fe3+): kept per site
            ordered = with_site_states(structure, ordered, seed or 0)
        return ordered

    isotopes = _isotopes_of(structure)
    cell.structure = _with_isotopes(with_states(cell.structure), isotopes)
    for candidate in cell.candidates:       # as the run's cell would be, if chosen
        candidate.structure = _with_isotopes(with_states(candidate.structure), isotopes)
    gone = _rounded_away(structure, cell.structure)
    filled = _vacancies_filled(cell)
    if filled:
        gone["vacancy"] = filled
    text = (f"{order.method} ordering of {name}, supercell {supercell_text(cell.supercell)}"
            + (f", seed {seed}" if seed is not None else "")
            + (f", occupancies rounded within {order.occ_tol:g}"
               if order.occ_tol > OCCUPANCY_TOLERANCE else "")
            + _rounded_away_note(gone, order.occ_tol)
            + (f", {cell.merged}" if cell.merged else "")
            + (f", min distance {cell.min_distance}" if cell.min_distance else "")
            + (f"; {cell.close_pairs}" if cell.close_pairs else "")
            + net_charge_note(structure, cell)
            + (f"; Ewald charges guessed: {cell.guess_note}" if cell.guess_note
               and not declares_site_states(structure) else ""))
    return (cell.structure, text, gone, cell.candidates, cell.candidates_searched,
            cell.candidates_kept)


def _isotopes_of(structure: Structure) -> dict[str, str]:
    """Element symbol -> isotope (``{"H": "D"}``) for the elements ``structure`` holds only
    as one of pymatgen's isotopes (D, T: ``Element("D").symbol`` is ``"H"``). The ordering
    rebuilds species from element symbols, and adding oxidation states by element does too:
    a deuteride's D ran at hydrogen's mass, 1.008 instead of 2.014."""
    names: dict[str, set[str]] = {}
    for sp in structure.composition:
        element = getattr(sp, "element", sp)
        names.setdefault(element.symbol, set()).add(element.name)
    return {symbol: next(iter(found)) for symbol, found in names.items()
            if len(found) == 1 and next(iter(found)) != symbol}


def _with_isotopes(ordered: Structure, isotopes: dict[str, str]) -> Structure:
    """``ordered`` with the elements of ``isotopes`` as those isotopes again, oxidation
    states kept (in place; returned)."""
    if not isotopes:
        return ordered
    from pymatgen.core import Element, Species

    mapping = {}
    for sp in ordered.composition:
        element = getattr(sp, "element", sp)
        if element.symbol in isotopes and element.name == element.symbol:
            state = getattr(sp, "oxi_state", None)
            name = isotopes[element.symbol]
            mapping[sp] = Species(name, state) if state is not None else Element(name)
    if mapping:
        ordered.replace_species(mapping)
    return ordered


def _rounded_away(parent: Structure, ordered: Structure) -> dict[str, float]:
    """Elements of ``parent`` missing from ``ordered``, with their amount per cell of
    ``parent`` (a 0.1 Zr share of a Ti site rounded away at occ_tol 0.15)."""
    have = {el.symbol for el in ordered.composition.elements}
    amounts = parent.composition.element_composition.get_el_amt_dict()
    return {el: amounts[el] for el in sorted(amounts) if el not in have}


def _vacancies_filled(cell) -> float:
    """Vacancies per cell of the file on the site groups whose rounding left none (each
    group's key names its shares: ``"Li:0.96 vacancy:0.04"``)."""
    from ionmd.structures.ordering import VACANCY

    filled = 0.0
    for key, counts in cell.site_counts.items():
        shares = dict(part.rsplit(":", 1) for part in key.split())
        if VACANCY in shares and counts.get(VACANCY) == 0:
            filled += float(shares[VACANCY]) * counts["sites"] / cell.cells
    return filled


def _rounded_away_note(gone: dict[str, float], occ_tol: float) -> str:
    """The ordering line's naming of what rounding left out: the cell is then another
    material."""
    if not gone:
        return ""
    listed = ", ".join(f"{el} ({n:.3g} per cell of the file)" if el != "vacancy" else
                       f"vacancies ({n:.3g} per cell of the file: those sites filled)"
                       for el, n in gone.items())
    return (f", rounding left out {listed}: give a smaller --order-tol than {occ_tol:g} "
            f"to keep {'it' if list(gone) != ['vacancy'] and len(gone) == 1 else 'them'}")


def _ordering_cell(spec: str | None) -> dict:
    """``order_structure``'s cell arguments for a protocol's supercell setting: explicit
    repetitions exactly (refused, naming the sites, where they leave occupancies
    fractional), a minimum width as the smallest cell that reaches it."""
    from ionmd.structures.supercell import is_no_supercell, min_width_of, parse_supercell

    if is_no_supercell(spec):
        return {}
    width = min_width_of(spec)
    return {"min_width": width} if width is not None else {"supercell": parse_supercell(spec)}
