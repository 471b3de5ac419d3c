"""Which finished rows ``--top N`` sends to MD, and what the campaign says about them.

One crystal given under two names took two of the N places with the same numbers: the second
is left out, named with the first (pymatgen's StructureMatcher decides), and the next row
fills its place; where the first is a narrow cell and the second not, the narrow one is left
out instead (the crystal is then chosen by numbers that rank). A row whose numbers do not
rank against the others' is kept in its place but marked where the user acts, above its
entry in the campaign file (and on the terminal): a narrow cell's descriptors are those of a
row of the ion's images moving together (rock-salt LiCl's 2-atom primitive cell: MPE 0.51
eV, Xi 0.87, ranked first; 4.85 eV with the ion 5.5 A from its images); MD of it still
measures the material, and leaving it out would drop a structure the user asked to rank
without running it. Rows whose input deserves a look (no sound oxidation states make the
cell neutral; a VASP 4 POSCAR's elements read from its first line) are marked the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# what a row's column means for its place in the ranking (column -> the mark)
MARKS = {
    "note": ("NOT COMPARABLE: a narrow cell (periodic images in planes closer than the "
             "model's cutoff): its barriers are those of a row of images moving together, "
             "not a single ion's, and its rank is no evidence (the row's note); rescreen it "
             "with the --min-image-distance the note gives to rank it"),
    "charge_note": ("CHECK: no sound oxidation states make the screened cell neutral: it may "
                    "lack atoms of the material (the row's charge_note)"),
    "elements_from": ("CHECK: its elements were read from the VASP 4 POSCAR's first line "
                      "(the row's elements_from)"),
}


# "The same crystal": pymatgen's StructureMatcher at tolerances that tell frozen frameworks
# apart, since the descriptors are the framework's: lattice lengths within 1 %, sites within
# 0.1 (V/n)^(1/3), angles within 1 degree, no volume scaling. Other settings, origins, atom
# orders and supercells of one framework match; a strained or relaxed copy (LiCl at a =
# 5.14 and 5.2 A) is another framework (the defaults, ltol 0.2 with scaling, matched it).
SAME_CRYSTAL = {"ltol": 0.01, "stol": 0.1, "angle_tol": 1.0, "scale": False}

# Cells whose volumes per site differ by more than this cannot match at SAME_CRYSTAL's
# tolerances (lengths within 1 % change a volume by <= 3 %, angles within 1 degree of a
# Niggli cell's by a few %), so their matcher call is skipped: --top makes up to one call
# per pair of rows (16-atom cells of one formula: 20-30 ms each, 40 rows 23 s)
VOLUME_SLACK = 0.15


@dataclass
class CampaignChoice:
    """The rows ``--top N`` sends to MD (``chosen``, best first), the rows ranked among
    them that it leaves out (``left_out``: row, why) and the marks of chosen rows
    (``marks``: name -> what its rank means or what to check)."""

    chosen: list[dict] = field(default_factory=list)
    left_out: list[tuple[dict, str]] = field(default_factory=list)
    marks: dict[str, list[str]] = field(default_factory=dict)


def choose_top(ranked_rows: list[dict], top: int, outdir: Path) -> CampaignChoice:
    """Walk ``ranked_rows`` (finished rows, best first) until ``top`` distinct structures
    are chosen: a row whose structure pymatgen's ``StructureMatcher`` (:data:`SAME_CRYSTAL`,
    elements compared without oxidation states) matches to a row already chosen is left
    out, naming that row; a chosen row with a column of :data:`MARKS` gets its marks.
    ``outdir``: the screen's folder, where the rows' structure files are found."""
    choice = CampaignChoice()
    structures: dict[str, object] = {}
    keys: dict[str, tuple] = {}
    for row in ranked_rows:
        if len(choice.chosen) >= top:
            break
        twin = same_crystal_as(row, choice.chosen, outdir, structures, keys)
        if twin and not _narrow_in_place_of(twin, row, choice):
            choice.left_out.append((row, f"the same crystal as {twin}, chosen above it "
                                         "(pymatgen StructureMatcher)"))
            continue
        choice.chosen.append(row)
        marks = [mark for key, mark in MARKS.items() if row.get(key)]
        if marks:
            choice.marks[row["name"]] = marks
    return choice


def _narrow_in_place_of(twin: str, row: dict, choice: CampaignChoice) -> bool:
    """Where chosen row ``twin`` is a narrow cell (its ``note``: ranked high by its images
    moving together) and ``row``, the same crystal, is not: ``twin`` is left out for
    ``row`` (True; the caller chooses ``row``, reached while places were left, so by its
    own rank). Before, the crystal's comparable cell was left out as the duplicate and the
    campaign listed the crystal by the narrow cell's numbers, marked NOT COMPARABLE."""
    (old,) = [r for r in choice.chosen if r["name"] == twin]
    if not old.get("note") or row.get("note"):
        return False
    choice.chosen.remove(old)
    choice.marks.pop(twin, None)
    choice.left_out.append((old, f"the same crystal as {row['name']}, which is run in its "
                                 "place: this cell is narrow (its rank is no evidence, the "
                                 "row's note), that one is not (pymatgen StructureMatcher)"))
    return True


def same_crystal_as(row: dict, chosen: list[dict], outdir: Path,
                    structures: dict, keys: dict | None = None) -> str | None:
    """The name of the first ``chosen`` row whose structure pymatgen's StructureMatcher
    matches ``row``'s, or None. Structures are read and reduced once into ``structures``
    (name -> reduced Structure, None for a file that cannot be read now: it is matched to
    nothing), and their :func:`_bucket` once into ``keys``: a row meets the matcher only
    with rows of its bucket (pymatgen's group_structures pre-sorts by composition the same
    way; comparing formulas pair by pair, 44 us a pair, took 11.8 s CPU for 1,000 rows of
    as many formulas, 0.27 s now). Within a bucket every pair of rows may still reach the
    matcher, as in group_structures."""
    from pymatgen.analysis.structure_matcher import ElementComparator, StructureMatcher

    keys = {} if keys is None else keys
    mine = _structure_of(row, outdir, structures)
    if mine is None:
        return None
    bucket = _bucket(row["name"], mine, keys)
    # elements, not species: a written cell holds oxidation states a plain file may not
    matcher = StructureMatcher(**SAME_CRYSTAL, comparator=ElementComparator())
    for other in chosen:
        theirs = _structure_of(other, outdir, structures)
        # cells reduced once each (_reduced), not by every call; cheap misfits first
        if (theirs is not None and _bucket(other["name"], theirs, keys) == bucket
                and _volumes_may_match(mine, theirs)
                and matcher.fit(mine, theirs, skip_structure_reduction=True)):
            return other["name"]
    return None


def _bucket(name: str, structure, keys: dict) -> tuple[str, int]:
    """What two reduced cells of one crystal share exactly, formula and number of sites
    (primitive cells of one crystal), computed once per row ``name`` into ``keys``."""
    if name not in keys:
        keys[name] = (_formula(structure), len(structure))
    return keys[name]


def _volumes_may_match(a, b) -> bool:
    """Whether two cells of one bucket may be one crystal: volumes within
    :data:`VOLUME_SLACK`."""
    return abs(a.volume / b.volume - 1.0) <= VOLUME_SLACK


def _formula(structure) -> str:
    return structure.composition.element_composition.reduced_formula


def _reduced(structure):
    """The cell StructureMatcher compares (Niggli, then primitive: what its fit does to
    each cell at every call unless told it is done)."""
    return structure.get_reduced_structure(reduction_algo="niggli").get_primitive_structure()


def _structure_of(row: dict, outdir: Path, structures: dict):
    """The reduced structure a campaign would run for ``row`` (its file read and reduced
    once, :func:`_reduced`), or None."""
    from ionmd.screen.output import structure_path
    from ionmd.structures import read_structures

    name = row["name"]
    if name not in structures:
        try:
            found = read_structures(structure_path(row, outdir))
            structures[name] = _reduced(found[0][1]) if len(found) == 1 else None
        except Exception:  # noqa: BLE001 - a file gone or unreadable now: not matched
            structures[name] = None
    return structures[name]
