"""The one default of how far an occupancy may be from a whole count and still count as
it, shared by every reader of it: the ordering (``OrderOptions.occ_tol``,
``order_structure``, ``integral_supercell``), the command line's ``--order-tol`` (and its
help), a campaign's ``order_tol``, and the fill of published rounding
(``checks.fill_rounded_sites``: Li 0.999 is a whole site), and the warning that says a
file's sites were read so. Its own module, free of pymatgen, so that the command line can
name both without importing pymatgen."""

from ionmd.errors import IonmdNote

OCCUPANCY_TOLERANCE = 2e-3
"""Occupancy error per site read as rounding, inclusive in every comparison (``<=``, with
1e-9 for floats: 1 - 0.998 is 0.0020000000000000018): a site summing to 1 - tol or more
is whole, and a species' count on N such sites of a cell is whole within tol x N, so a
deficit the fill reads as rounding is one the ordering would round away in any cell.
Published occupancies are rounded to three decimals (Li 0.999(3); S 0.389 + Cl 0.610),
so 2e-3 is "exact"; a doped garnet's Li 0.99 is 1 % vacancies on purpose and stays
partial."""


class RoundingNote(IonmdNote):
    """The note that sites within rounding of whole were read as whole
    (``checks.fill_rounded_sites``): a note, not a problem. The command line prints it as
    its other notes (``ionmd: note: ...``, an :class:`~ionmd.errors.IonmdNote`);
    ``LoadedStructure.rounding`` keeps its text for a Python caller, which may then
    ignore this warning."""
