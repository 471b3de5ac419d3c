"""Physical distances between ions: pymatgen's ionic radii for (averaged) oxidation states
and the bond-valence floor of a pair, what ``ordering_limits``' physical floor is made of."""

from __future__ import annotations

import math


BOND_VALENCE_B = 0.37
"""The bond-valence model's softness (A): a bond of length R carries
exp((R0 - R) / b) valence units (Brown & Altermatt, Acta Cryst. B 41 (1985) 244)."""


def bond_valence_floor(a: str, b: str, valence: float) -> float | None:
    """The length (A) at which one ``a``-``b`` bond alone carries ``valence`` valence units,
    R0 - b ln(valence), with R0 from Brese & O'Keeffe's element parameters (Acta Cryst. B
    47 (1991) 192; pymatgen's ``BV_PARAMS``): P5+-O 1.10 A, Li+-O2- 1.24 A at the larger
    ion's valence (``physical_floor``). That is below the shortest bond the lower-valent
    ion allows (O2- gives at most 2 valence units: P-O 1.44 A; Li+ 1: Li-O 1.50 A), a
    margin for published files with noisy positions (OBELiX's LiGd(PO3)4 P-O 1.18 A).
    None where an element has no parameters."""
    from pymatgen.analysis.bond_valence import BV_PARAMS
    from pymatgen.core import Element

    pa, pb = BV_PARAMS.get(Element(a)), BV_PARAMS.get(Element(b))
    if pa is None or pb is None or valence <= 0:
        return None
    r1, r2, c1, c2 = pa["r"], pb["r"], pa["c"], pb["c"]
    r0 = r1 + r2 - r1 * r2 * (math.sqrt(c1) - math.sqrt(c2)) ** 2 / (c1 * r1 + c2 * r2)
    return r0 - BOND_VALENCE_B * math.log(max(valence, 1.0))


def _ionic_radii(symbols, charges: dict[str, float] | None) -> dict[str, float] | None:
    """pymatgen's ionic radius (A) of each element in its oxidation state; None where a
    state or a radius is unknown. An averaged state (mixed valence, V3.25) gets the radius
    interpolated between its whole neighbours (V3+ 0.78, V4+ 0.72 A: 0.765 A)."""
    if not charges or not set(symbols) <= set(charges):
        return None
    out = {}
    for el in symbols:
        r = _ionic_radius(el, float(charges[el]))
        if r is None:
            return None
        out[el] = r
    return out


def _ionic_radius(el: str, state: float) -> float | None:
    """Ionic radius (A) of ``el`` in ``state``; None where pymatgen has none (P3-). The
    lookup is quiet: pymatgen warns on the terminal for each state it lacks."""
    import warnings

    from pymatgen.core import Species

    def whole(n: int) -> float | None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)    # 'No ionic radius for P3-!'
            try:
                r = Species(el, n).ionic_radius
            except Exception:       # a state pymatgen has no data for
                return None
        return float(r) if r else None

    low, high = math.floor(state), math.ceil(state)
    if low == high:
        return whole(low)
    r_low, r_high = whole(low), whole(high)
    if r_low is None or r_high is None:     # one neighbour known: its radius
        return r_low if r_high is None else r_high
    return r_low + (state - low) * (r_high - r_low)
