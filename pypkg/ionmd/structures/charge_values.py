"""The check of a charges mapping a user gives (a campaign's ``[analysis] charges``,
``ionmd analyze --charges``): each charge the oxidation state of an element, in elementary
charges. Nernst-Einstein sigma goes with q^2 and the framework check with q's sign, so a
NaN, an infinity or ``true`` (read as 1) gave a NaN or a silently wrong sigma, found only
after the whole campaign had run.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from numbers import Real

from ionmd.errors import IonmdError
from ionmd.suggest import did_you_mean

# the largest |formal oxidation state| of any element (RuO4, OsO4: +8; pymatgen's
# Element.oxidation_states span -4..+8): a larger charge is a typo or another unit
MAX_CHARGE = 8.0
# below this a charge is no oxidation state but a value in coulombs (1.602e-19 for +1)
MIN_CHARGE = 1e-3
EXAMPLE = "e.g. Li = 1, Cl = -1"


def _element_symbols() -> list[str]:
    from ase.data import chemical_symbols

    return chemical_symbols[1:]         # [0] is "X", ASE's dummy atom


def charge_problems(charges: Mapping, mobile: Iterable[str] = ()) -> list[tuple[object, str]]:
    """``(element, problem)`` for each entry of ``charges`` that cannot be an element's
    charge (``element`` as the mapping spells it): a key that is no element symbol, a value
    that is no finite real number (true/false are not), one beyond +-:data:`MAX_CHARGE` or
    below :data:`MIN_CHARGE` in size (coulombs), and a charge of 0 for a ``mobile`` species
    (its sigma would be 0). Empty where all is well; ``(None, problem)`` where ``charges``
    is no mapping at all (a run.json's ``"charges": "auto"``, a campaign's spelling)."""
    if not isinstance(charges, Mapping):
        return [(None, f"charges must map each element to its charge ({EXAMPLE}), got "
                       f"{charges!r}")]
    symbols = _element_symbols()
    mobile = set(mobile)
    problems = []
    for element, q in charges.items():
        if element not in symbols:
            near = did_you_mean(element, symbols)
            problems.append((element, f"{element!r} is not an element symbol (give each "
                                      f"element's charge: {EXAMPLE}){near}"))
        why = _value_problem(element, q, element in mobile)
        if why:
            problems.append((element, why))
    return problems


def _value_problem(element, q, is_mobile: bool) -> str | None:
    """What is wrong with ``q`` as the charge of ``element`` (None if nothing)."""
    if isinstance(q, bool):         # TOML/YAML true, which float() reads as 1
        return (f"the charge of {element} is {str(q).lower()}: give a number of elementary "
                f"charges ({EXAMPLE})")
    if not isinstance(q, Real):
        return f"the charge of {element} is {q!r}, no number: give a number ({EXAMPLE})"
    if not math.isfinite(q):
        return (f"the charge of {element} is {q!r}: give a finite number ({EXAMPLE}); a NaN "
                f"or infinite charge makes sigma NaN or infinite")
    if abs(q) > MAX_CHARGE:
        return (f"the charge of {element} is {q:g}, beyond the +-{MAX_CHARGE:g} of any "
                f"element's oxidation state: give it in elementary charges ({EXAMPLE})")
    if 0 < abs(q) < MIN_CHARGE:
        return (f"the charge of {element} is {q:g}: give it in elementary charges ({EXAMPLE}), "
                f"not in coulombs")
    if q == 0 and is_mobile:
        # a metal's or alloy's user may want D only: auto's charges (transport_charges)
        # leave D as it is and give an alloy a formal Li+ whose sigma its note calls formal
        return (f"the charge of the mobile species {element} is 0, so its sigma would be 0 "
                f"(Nernst-Einstein goes with q^2): give its oxidation state; or, for a metal "
                f"or alloy where you want D alone, leave the charges out (auto): D does not "
                f"depend on them, and the sigma beside it is then a formal one (an alloy's "
                f"formal states, Li+ in LiAl, so noted; a pure metal none, D alone)")
    return None


def net_charge_problem(charges: Mapping[str, float], counts: Mapping[str, float]) -> str | None:
    """What is wrong where ``charges`` (checked: :func:`charge_problems`) give every element
    of a run cell (``counts``: element -> its atoms) and leave the cell charged beyond
    :data:`~ionmd.structures.charges_states.CHARGED_REFINEMENT` of its charge of one sign:
    the charges are then no oxidation states of its atoms. The run cell holds whole atoms,
    a partially occupied site's share already in their number; a charge given as
    occupancy x state (Li = 0.5 for a half-occupied Li site) counts the occupancy twice
    (sigma goes with q^2: 1/4 of Li+'s). None where all is well; or where an element of
    the cell has no charge given, or 0 (a framework left out by the user's choice: no
    set of oxidation states to count), or the cell is of one element (a metal: its
    charges are formal, said by its notes); or where every charge is a known oxidation
    state of its element (:func:`_is_known_state`): the cell is then of mixed valence given
    one formal state (a half-delithiated Li0.5CoO2 with the Co = 3 of LiCoO2, one table
    for a delithiation series: -12.5 %), which sigma does not see (it takes the mobile
    ions' charges alone), where an occupancy counted twice gives a charge no element has
    (Li 0.5, Mg 1, O -1, La 1.5)."""
    from ionmd.structures.charges_states import CHARGED_REFINEMENT

    if len(counts) < 2 or any(not charges.get(el) for el in counts):
        return None
    signed = [n * float(charges[el]) for el, n in counts.items()]
    net = sum(signed)
    scale = max(sum(q for q in signed if q > 0), -sum(q for q in signed if q < 0))
    if scale == 0 or abs(net) <= CHARGED_REFINEMENT * scale:
        return None
    if all(_is_known_state(el, float(charges[el])) for el in counts):
        return None
    cell = " ".join(f"{n:g} {el}" for el, n in counts.items())
    given = ", ".join(f"{el} = {float(charges[el]):g}" for el in counts)
    return (f"{given} leave the run cell ({cell}) a net charge of {net:+g} e, "
            f"{100 * abs(net) / scale:.0f} % of its {scale:g} e of one sign: give each "
            f"element's oxidation state per atom. The run cell holds whole atoms (a partially "
            f"occupied site's share is already in their number), so a half-occupied Li site "
            f"is Li = 1, not 0.5: occupancy x charge counts the occupancy twice")


def _is_known_state(element: str, charge: float) -> bool:
    """Whether ``charge`` is one of ``element``'s oxidation states in ICSD's statistics
    (pymatgen's, as the charge guess takes them: ``charges_states``)."""
    from ionmd.structures.charges_states import element_states

    return any(abs(charge - state) <= 1e-6 for state in element_states(element))


def checked_charges(charges: Mapping | None, mobile: Iterable[str] = (),
                    what: str = "--charges",
                    counts: Mapping[str, float] | None = None) -> dict[str, float] | None:
    """``charges`` as floats where :func:`charge_problems` finds nothing, nor, given the run
    cell's ``counts`` (element -> atoms), :func:`net_charge_problem` (None stays None).

    Raises
    ------
    IonmdError
        Naming ``what`` and every problem, if any.
    """
    if charges is None:
        return None
    problems = [why for _, why in charge_problems(charges, mobile)]
    if not problems and counts is not None:
        problems = [why for why in [net_charge_problem(charges, counts)] if why]
    if problems:
        raise IonmdError(f"{what}: " + "; ".join(problems))
    return {str(k): float(v) for k, v in charges.items()}
