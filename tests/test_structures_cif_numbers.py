"""CIF coordinates written as fractions (``1/2``, ``2/3``) read as the same file written with
decimals does (pymatgen's own reader on that file is the reference); any other value that
is no number is refused naming its line."""

from __future__ import annotations

import re
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from pymatgen.io.cif import CifParser

from ionmd.structures import StructureError, read_structure
from ionmd.structures.examples import example_path

FILES = Path(__file__).parent / "fixtures" / "published_cifs"
DECIMAL = re.compile(r"(?<=\s)(-?\d*\.\d+)(\(\d+\))?(?=\s)")


def _as_fractions(text: str) -> tuple[str, int]:
    """``text`` with every atom-site decimal that is k/2, k/3, k/4 or k/6 (to its printed
    precision) written as that fraction, as hand-written files give special positions."""
    out, n = [], 0
    in_sites = False
    for line in text.splitlines(keepends=True):
        if line.strip().startswith("_atom_site_fract"):
            in_sites = True
        elif in_sites and line.strip().startswith(("loop_", "_atom_site_aniso", "_atom_type")):
            in_sites = False
        if in_sites and not line.strip().startswith("_"):
            def frac(m):
                nonlocal n
                x = float(m.group(1))
                f = Fraction(x).limit_denominator(6)
                if f.denominator > 1 and abs(float(f) - x) < 1e-6:
                    n += 1
                    return f"{f.numerator}/{f.denominator}"
                return m.group(0)
            line = DECIMAL.sub(frac, line)
        out.append(line)
    return "".join(out), n


def _pymatgen(text: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CifParser.from_str(text, occupancy_tolerance=1.01,
                                  frac_tolerance=1e-3).parse_structures(primitive=False)[0]


@pytest.mark.parametrize("path", [FILES / "ICSD59959.cif", FILES / "Cod_2100513.cif",
                                  example_path("Li3YCl6")], ids=lambda p: Path(p).name)
def test_fraction_coordinates_read_as_the_decimal_file(path, tmp_path):
    text = Path(path).read_text()
    written, n = _as_fractions(text)
    assert n >= 3, "the file must have special positions to write as fractions"
    assert "1/2" in written or "1/3" in written
    target = tmp_path / "fractions.cif"
    target.write_text(written)
    with pytest.raises(ValueError):         # what users got: pymatgen's generic error
        CifParser.from_str(written).parse_structures(primitive=False)
    got, want = read_structure(target), _pymatgen(text)
    assert len(got) == len(want) and got.composition == want.composition
    for site in want:       # every site of the decimal file, same species, same place
        d = got.lattice.get_all_distances(got.frac_coords, [site.frac_coords])[:, 0]
        k = int(np.argmin(d))
        assert d[k] < 1e-3 and got[k].species == site.species


@pytest.mark.parametrize("value", ["0,5", "x+1/2", "1/0"])
def test_coordinate_that_is_no_number_is_refused_naming_its_line(value, tmp_path):
    text = (FILES / "ICSD59959.cif").read_text()
    lines = text.splitlines()
    row = next(i for i, line in enumerate(lines)
               if line.split()[:1] == ["K1"] and len(line.split()) > 4)
    parts = lines[row].split()
    assert parts[4] == ".5"                 # K1's _atom_site_fract_x
    parts[4] = value
    lines[row] = " ".join(parts)
    target = tmp_path / "bad.cif"
    target.write_text("\n".join(lines) + "\n")
    with pytest.raises(StructureError, match=rf"K1 is '{re.escape(value)}' \(line {row + 1}\)"):
        read_structure(target)
