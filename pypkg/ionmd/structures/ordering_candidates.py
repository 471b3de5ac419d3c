"""The N lowest-Ewald arrangements of a disordered cell, one per symmetry class: the
candidates a model re-ranks (``order_structure(..., candidates=N)``; the ranking itself
calls the model, so it lives above this layer, in ``ionmd.screen.ordering_rank``).

pymatgen's ``EwaldMinimizer`` lists every arrangement, symmetry-equivalent ones too: the
100 lowest of Li3InCl6 (7 cells, 140 atoms) held 6 distinct Ewald energies, of Li3YCl6
(30 atoms) 8. Equal Ewald energy does not make two arrangements equivalent (Cl and Br
have the same charge: every arrangement of a Cl/Br site has the same Ewald energy), so
arrangements are told apart by symmetry: each one is mapped by every space-group
operation of the disordered cell (spglib, the sites' occupancies as their types) and the
smallest image is its label. Mirror images count as one arrangement, as they are one
physically: a model that is not parity invariant gives them slightly different energies
(SevenNet-0: Li3YCl6's two mirror-image lowest-Ewald arrangements 3.2e-4 eV apart in 30
atoms), and counted apart they were ranked by that artifact alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pymatgen.core import Structure

DRAWS_PER_CANDIDATE = 25
"""Arrangements asked of the Ewald minimizer per distinct candidate wanted (the 1000
lowest of Li3InCl6's 7-cell ordering held 38 symmetry-distinct Ewald energies, 26 each)."""

MAX_DRAWS = 5000
"""At most this many arrangements are asked of the minimizer (1000 took 24 s for
Li3InCl6's 140-atom cell; its cost grows with the number asked)."""

SYMPREC = 1e-3
"""spglib tolerance (A) of the operations that label equivalent arrangements: an operation
missed only costs a duplicate model evaluation, one found loosely maps arrangements whose
energies differ by as little as the positions do."""


@dataclass
class Candidate:
    """One arrangement a model may re-rank."""

    structure: Structure
    ewald_energy: float
    """Ewald energy, eV (the same charges as the Ewald ordering's)."""
    ewald_rank: int
    """1 = the lowest-Ewald distinct arrangement (the one ``--order ewald`` keeps)."""
    close_pairs: str = ""
    """Its pairs closer than the default rule, as ``OrderedCell.close_pairs`` words them
    (``""``: none)."""


def draws_to_ask(candidates: int, default: int) -> int:
    """How many arrangements to ask of the minimizer for ``candidates`` distinct ones."""
    return min(MAX_DRAWS, max(default, candidates * DRAWS_PER_CANDIDATE))


def kept_by_rule(draws: list, limits) -> list:
    """The ``(energy, draw)`` of ``draws`` that keep the pair rule the Ewald ordering kept:
    ``limits``, else (no draw keeps it) its ionic floor."""
    for rule in (limits, limits.relax()):
        if rule is None:
            continue
        kept = [(e, d) for e, d in draws if rule.first_clash(d) is None]
        if kept:
            return kept
    return []


def distinct_candidates(big: Structure, draws: list, n: int,
                        close_pairs=None) -> list[Candidate]:
    """The ``n`` lowest of ``draws`` (``(energy, species per site of big)``, lowest first),
    one per symmetry class of the disordered cell ``big``, as ordered structures;
    ``close_pairs(draw)`` words each one's close pairs (None: not worded)."""
    from ionmd.structures.ordering_search import _ordered

    if not draws:
        return []
    codes, _ = _encode([d for _, d in draws])
    perms = _site_permutations(big)
    seen, out = set(), []
    for (energy, draw), row in zip(draws, codes):
        key = _canonical(row, perms)
        if key in seen:
            continue
        seen.add(key)
        out.append(Candidate(_ordered(big, draw), energy, len(out) + 1,
                             close_pairs(draw) if close_pairs else ""))
        if len(out) == n:
            break
    return out


def _encode(draws: list) -> tuple[np.ndarray, list]:
    labels = sorted({sp for d in draws for sp in d})
    index = {sp: k for k, sp in enumerate(labels)}
    return np.array([[index[sp] for sp in d] for d in draws], dtype=np.int16), labels


def _canonical(row: np.ndarray, perms: np.ndarray) -> bytes:
    """The smallest image of one arrangement under the operations ``perms``."""
    images = np.empty((len(perms), len(row)), dtype=row.dtype)
    images[np.arange(len(perms))[:, None], perms] = row       # site i -> perms[:, i]
    order = np.lexsort(images.T[::-1])
    return images[order[0]].tobytes()


def _site_permutations(big: Structure) -> np.ndarray:
    """``perms[k, i]``: the site that space-group operation k maps site i onto (identity
    included), from spglib on ``big`` with each site's occupancy as its type."""
    import spglib

    kinds: dict[str, int] = {}
    types = [kinds.setdefault(str(sorted(site.species.as_dict().items())), len(kinds))
             for site in big]
    frac = big.frac_coords % 1.0
    sym = spglib.get_symmetry((big.lattice.matrix, frac, types), symprec=SYMPREC)
    identity = np.arange(len(big))[None, :]
    if sym is None:
        return identity
    matrix = big.lattice.matrix
    perms = [identity[0]]
    for r, t in zip(sym["rotations"], sym["translations"]):
        moved = frac @ r.T + t
        diff = moved[:, None, :] - frac[None, :, :]
        diff -= np.rint(diff)
        dist = np.linalg.norm(diff @ matrix, axis=2)
        target = dist.argmin(axis=1)
        if dist[np.arange(len(big)), target].max() > 10 * SYMPREC or \
                len(set(target.tolist())) != len(big):
            continue                                    # not a clean permutation: skip it
        perms.append(target)
    return np.unique(np.array(perms), axis=0)


__all__ = ["Candidate", "DRAWS_PER_CANDIDATE", "MAX_DRAWS", "distinct_candidates",
           "draws_to_ask", "kept_by_rule"]
