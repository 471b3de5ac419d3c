"""An explicit supercell that cannot be ordered is refused with the options that do order
it: argyrodite's S/Cl 0.385 / 0.615 on 4a/4c gives 12.32 Cl per 4 sites in 2x2x2, not
whole at the default 2e-3 per site; the refusal names `--order-tol 0.01` (which orders
2x2x2, neutral) and a larger supercell, and each named way is checked here by doing it."""

from __future__ import annotations

import re
import warnings

import pytest

from ionmd.structures import OrderOptions, StructureError, load_structures

ARGYRODITE = """data_Li6PS5Cl_asym
_cell_length_a 9.8598(3)
_cell_length_b 9.8598(3)
_cell_length_c 9.8598(3)
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'F -4 3 m'
_symmetry_Int_Tables_number 216
loop_
_atom_type_symbol
_atom_type_oxidation_number
Li1+ 1
P5+ 5
S2- -2
Cl1- -1
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Li1 Li1+ 0.3148(3) 0.0185(3) 0.6852(3) 0.5
P1 P5+ 0.5 0.5 0.5 1
S1 S2- 0.3799(1) 0.1201(1) 0.6201(1) 1
S2 S2- 0.25 0.25 0.25 0.385(9)
Cl2 Cl1- 0.25 0.25 0.25 0.615(9)
S3 S2- 0 0 0 0.615(9)
Cl1 Cl1- 0 0 0 0.385(9)
"""


@pytest.fixture(scope="module")
def cif(tmp_path_factory):
    path = tmp_path_factory.mktemp("argy") / "argyrodite_asym.cif"
    path.write_text(ARGYRODITE)
    return path


def _load(cif, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_structures(str(cif), OrderOptions(method="random", seed=0, **options))[0]


@pytest.fixture(scope="module")
def refusal(cif) -> str:
    with pytest.raises(StructureError) as err:
        _load(cif, supercell="2x2x2")
    return str(err.value)


def test_refusal_names_the_rounding_that_orders_the_asked_cell(refusal, cif):
    m = re.search(r"`--order-tol ([0-9.]+)`[^;]*orders it in 2x2x2", refusal)
    assert m, refusal
    assert "order_tol = " in refusal
    entry = _load(cif, supercell="2x2x2", occ_tol=float(m.group(1)))
    s = entry.structure
    # 8 cells: 4 Li 48h half filled = 24 Li per cell; 4 P; 16 S1 + the 4a/4c S; Cl the rest
    counts = {el.symbol: int(n) for el, n in s.composition.element_composition.items()}
    assert counts == {"Li": 192, "P": 32, "S": 160, "Cl": 32}
    assert s.lattice.a == pytest.approx(2 * 9.8598)
    charge = counts["Li"] + 5 * counts["P"] - 2 * counts["S"] - counts["Cl"]
    assert charge == 0


def test_refusal_names_a_supercell_that_is_whole_at_the_asked_rounding(refusal):
    m = re.search(r"choose supercell (\d+)x(\d+)x(\d+) \((\d+) cells", refusal)
    assert m, refusal
    reps = [int(x) for x in m.groups()[:3]]
    assert all(r >= 2 for r in reps) and reps[0] * reps[1] * reps[2] == int(m.group(4))
    # independent of ionmd: every species count on the 4a and 4c sites whole within
    # 2e-3 per site in that many cells, and the rounded counts neutral (Cl total whole)
    n = int(m.group(4))
    for f in (0.385, 0.615):
        count = 4 * n * f
        assert abs(count - round(count)) <= 2e-3 * 4 * n
    assert round(4 * n * 0.385) + round(4 * n * 0.615) == 4 * n
