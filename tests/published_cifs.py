"""References for the CIFs of tests/fixtures/published_cifs/ (see its README.md):
pymatgen's own reading of a file, and the oxidation states of the end members a
composition is a mixture of."""

from __future__ import annotations

import warnings
from pathlib import Path

from pymatgen.core import Composition, Structure
from pymatgen.io.cif import CifParser

FILES = Path(__file__).parent / "fixtures" / "published_cifs"


def pymatgen_structure(path) -> Structure:
    """The first structure of ``path`` as pymatgen reads it (not ionmd's reader), its
    warnings about published files' rounding silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CifParser(str(path)).parse_structures(primitive=False)[0]


def end_member_states(formulas) -> dict[str, float]:
    """Element -> oxidation state: pymatgen's likeliest guess for each end-member formula
    (Li7La3Zr2O12, Al2O3 for Al-doped LLZO), later formulas adding their elements."""
    out = {}
    for formula in formulas:
        out.update(Composition(formula).oxi_state_guesses()[0])
    return {str(el): float(v) for el, v in out.items()}
