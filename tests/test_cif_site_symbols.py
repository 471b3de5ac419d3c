"""Site symbols pymatgen's CIF reader drops or misreads without an error (an audit of
published-style CIFs): an isotope typed ``7Li`` left its sites out (LiOD read as H2O2, an
argyrodite planned at -264 e), ``2H`` did the same to deuterium, a vacancy row ``Va``
became vanadium (LiOD with Li 0.75 + Va 0.25: Li3VH4O4), and the labels ``Sb``/``Sc``/
``Pa`` of a file numbering its sites by letters (``Lia``, ``Sa``, ``Clb``) became antimony,
scandium and protactinium. Hydrogen isotopes now read as pymatgen's D/T (mass kept into the
LAMMPS data file); the rest is refused naming the sites. References: pymatgen's own reading
of the same structure written with plain element symbols."""

from __future__ import annotations

import re
import warnings

import pytest
from pymatgen.core import Element, Structure
from ionmd.structures import StructureError, read_structure

# LiOD (P4/nmm, origin 2) written out in P1: pymatgen's reading is the reference
LIOD = """data_LiOD
_cell_length_a 3.5365
_cell_length_b 3.5365
_cell_length_c 4.3394
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'P 1'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Li1 {li} 0.75 0.25 0 {li_occ}
Li2 {li} 0.25 0.75 0 {li_occ}
{extra}O1 O{o} 0.25 0.25 0.1934 1
O2 O{o} 0.75 0.75 0.8066 1
D1 {h} 0.25 0.25 0.4137 1
D2 {h} 0.75 0.75 0.5863 1
"""

ARGYRODITE_LABELS = """data_Li6PS5Cl
_cell_length_a 9.8598(3)
_cell_length_b 9.8598(3)
_cell_length_c 9.8598(3)
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'F -4 3 m'
_symmetry_Int_Tables_number 216
{formula}loop_
_atom_site_label
{typed}_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Lia {t_Li}0.3148(3) 0.0185(3) 0.6852(3) 0.5
Pa {t_P}0.5 0.5 0.5 1
Sa {t_S}0.3799(1) 0.1201(1) 0.6201(1) 1
Sc {t_S}0.25 0.25 0.25 0.385(9)
Clc {t_Cl}0.25 0.25 0.25 0.615(9)
Sb {t_S}0 0 0 0.615(9)
Clb {t_Cl}0 0 0 0.385(9)
"""


def liod_cif(li="Li", h="D", li_occ="1", extra="", o=""):
    """LiOD's CIF text with the type symbols given (``o``: oxygen's charge, e.g. ``2-``)."""
    return LIOD.format(li=li, h=h, li_occ=li_occ, extra=extra, o=o)


def _argyrodite(typed: bool, formula: bool = False) -> str:
    return ARGYRODITE_LABELS.format(
        formula="_chemical_formula_sum 'Cl1 Li6 P1 S5'\n" if formula else "",
        typed="_atom_site_type_symbol\n" if typed else "",
        **{f"t_{el}": f"{el} " if typed else "" for el in ("Li", "P", "S", "Cl")})


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


def _pymatgen(text: str) -> Structure:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Structure.from_str(text, fmt="cif")


@pytest.mark.parametrize("isotope", ["7Li", "6Li"])
def test_a_lithium_isotope_is_refused_naming_its_site(tmp_path, isotope):
    """Was: H2O2, every Li gone, no error."""
    path = _write(tmp_path, "LiOD_7li.cif", liod_cif(li=isotope))
    with pytest.raises(StructureError, match=rf"sites Li1 \(type symbol '{isotope}'\), Li2 "
                                             rf"\(type symbol '{isotope}'\) name an isotope.*"
                                             r"Write the element \(e\.g\. Li"):
        read_structure(path)


def test_a_lithium_isotope_in_an_argyrodite_is_refused(tmp_path):
    """The audit's argy_7li.cif: typed 7Li beside charged symbols (S2-), planned as
    P4S20Cl4 at -264 e; now refused before anything else."""
    text = _argyrodite(typed=True).replace("Lia Li ", "Li1 7Li ")
    with pytest.raises(StructureError, match=r"Li1 \(type symbol '7Li'\)"):
        read_structure(_write(tmp_path, "argy_7li.cif", text))


def test_deuterium_typed_2H_reads_as_D_with_its_mass_in_the_data_file(tmp_path):
    """Was: Li2O2 (the D sites dropped). Now as the file written with D, whose mass 2.014
    reaches the LAMMPS data file."""
    from ionmd.lammps.data_file import write_data
    from ionmd.protocols.prepare import as_atoms

    path = _write(tmp_path, "LiOD_2h.cif", liod_cif(h="2H"))
    with pytest.warns(UserWarning, match=r"type symbol 2H read as D"):
        structure = read_structure(path)
    assert structure.composition == _pymatgen(liod_cif(h="D")).composition
    data = tmp_path / "data.lmp"
    write_data(as_atoms(structure), data, ["Li", "O", "H"])
    masses = {line.split("#")[1].strip(): float(line.split()[1])
              for line in data.read_text().split("Masses")[1].split("Atoms")[0].splitlines()
              if "#" in line}
    assert masses["H"] == pytest.approx(float(Element("D").atomic_mass), abs=1e-6)
    assert masses["Li"] == pytest.approx(float(Element("Li").atomic_mass), abs=0.01)


@pytest.mark.parametrize("symbol", ["Va", "Vac"])
def test_a_vacancy_row_is_refused_saying_how_to_write_one(tmp_path, symbol):
    """Was: the Va row read as vanadium (Li1.5 V0.5 H2 O2 per cell), no error."""
    text = liod_cif(li_occ="0.75", extra=f"Va1 {symbol} 0.75 0.25 0 0.25\n")
    with pytest.raises(StructureError, match=rf"site Va1 \(type symbol '{symbol}'\) is a "
                                             r"vacancy.*vanadium.*occupancies of a position "
                                             r"leave below 1"):
        read_structure(_write(tmp_path, "LiOD_va.cif", text))
    # written as the message says (the row deleted), it reads as pymatgen reads it
    fixed = read_structure(_write(tmp_path, "LiOD_fixed.cif", liod_cif(li_occ="0.75")))
    assert fixed.composition == _pymatgen(liod_cif(li_occ="0.75")).composition


def test_a_vacancy_row_with_a_formula_line_names_the_row(tmp_path):
    """With _chemical_formula_sum the file was refused as 'V: 17 % of the atoms read, 0 %
    declared', without the cause."""
    text = liod_cif(li_occ="0.75", extra="Va1 Va 0.75 0.25 0 0.25\n").replace(
        "_cell_length_a", "_chemical_formula_sum 'D1 Li1 O1'\n_cell_length_a")
    with pytest.raises(StructureError, match=r"Va1 \(type symbol 'Va'\) is a vacancy"):
        read_structure(_write(tmp_path, "LiOD_va_formula.cif", text))


@pytest.mark.parametrize("formula", [False, True])
def test_letter_numbered_labels_read_as_other_elements_are_refused(tmp_path, formula):
    """Without type symbols: was Li24 Pa4 Sc1.54 Sb2.46 S16 Cl4 (without a formula line:
    no error; with one: a mismatch that did not say why). Now refused naming Pa, Sb, Sc;
    with the type symbols added, as the message says, it reads as pymatgen reads that."""
    path = _write(tmp_path, "labels.cif", _argyrodite(typed=False, formula=formula))
    with pytest.raises(StructureError) as err:
        read_structure(path)
    message = str(err.value)
    assert "_atom_site_type_symbol" in message
    assert {"Pa", "Sb", "Sc"} <= set(re.findall(r"\b(\w+) \(read as", message))
    typed = _argyrodite(typed=True, formula=formula)
    fixed = read_structure(_write(tmp_path, "typed.cif", typed))
    assert fixed.composition == _pymatgen(typed).composition
    assert fixed.composition.reduced_composition == \
        _pymatgen(typed).composition.reduced_composition
    assert {el.symbol for el in fixed.composition.elements} == {"Li", "P", "S", "Cl"}


def test_element_labels_without_type_symbols_still_read(tmp_path):
    """Labels that are elements and numbers (Li1, Sb1: antimony) are not letter-numbered:
    read as pymatgen reads them."""
    text = re.sub(r"^(\w+) \w+ ", r"\1 ", liod_cif().replace("_atom_site_type_symbol\n", ""),
                  flags=re.M).replace("\nO", "\nSb")
    structure = read_structure(_write(tmp_path, "plain.cif", text))
    assert structure.composition == _pymatgen(text).composition
    assert "Sb" in {el.symbol for el in structure.composition.elements}
