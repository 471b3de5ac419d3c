"""Deliberate vacancies are not rounding: a site of Li 0.99 (1 % vacancies, as in a doped
garnet) keeps its vacancies under --order random and is refused unordered, where a
rounding bound of 0.01 filled it (Li4 Cl4, a warning only); sums within the ordering's
own tolerance (0.999, 0.998) are still whole, though not past a stricter --order-tol, and
filling keeps a Structure's charge."""

import warnings

import pytest
from pymatgen.core import Lattice, Structure

from ionmd.structures.checks import fill_rounded_sites
from ionmd.structures.errors import StructureError
from ionmd.structures.load import OrderOptions, load_structure
from test_structure_rounding_and_conversion import LICL


def _cif(tmp_path, li):
    path = tmp_path / f"LiCl_{li}.cif"
    path.write_text(LICL.format(li=li))
    return path


def test_li_099_ordered_keeps_its_vacancies(tmp_path):
    """Li/Cl of the ordered cell is the file's 0.99 within the cell's one-atom rounding."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)    # no 'read as whole' note either
        got = load_structure(_cif(tmp_path, "0.99"), OrderOptions(method="random"))
    li, cl = got.structure.composition["Li"], got.structure.composition["Cl"]
    assert li < cl
    assert li / cl == pytest.approx(0.99, abs=1 / cl)


def test_li_099_unordered_refused_naming_the_site(tmp_path):
    with pytest.raises(StructureError, match="partially occupied sites.*Li1: Li 0.99"):
        load_structure(_cif(tmp_path, "0.99"))


@pytest.mark.parametrize("li", ["0.999", "0.998"])
def test_sums_within_ordering_tolerance_are_whole(tmp_path, li):
    with pytest.warns(UserWarning, match=f"{li} read as whole"):
        got = load_structure(_cif(tmp_path, li))
    assert got.structure.composition.reduced_formula == "LiCl"
    assert got.structure.is_ordered


def test_filling_keeps_the_structure_charge():
    """A charged cell (charge=1) stays charged; Structure.from_sites reset it to None."""
    cell = Structure(Lattice.cubic(4.0), [{"Li": 0.999}, "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]],
                     charge=1.0)
    filled, _ = fill_rounded_sites(cell)
    assert filled.is_ordered
    assert filled.charge == cell.charge == 1.0


def test_a_stricter_order_tolerance_keeps_li_0999_vacancies(tmp_path):
    """--order-tol 5e-4 (below 0.999's 1e-3 deficit) asks the ordering to keep them: the
    ordered cell's Li/Cl is 0.999 within one atom, as the ordering alone gives it, where
    the fixed 2e-3 fill read the site as whole (Li4 Cl4)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        got = load_structure(_cif(tmp_path, "0.999"),
                             OrderOptions(method="random", occ_tol=5e-4))
    li, cl = got.structure.composition["Li"], got.structure.composition["Cl"]
    assert li < cl
    assert li / cl == pytest.approx(0.999, abs=1 / cl)
