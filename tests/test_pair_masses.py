"""Per-type masses against the elements of pair_coeff: a data file whose types are Cl, Li
read with ``pair_coeff * * Li Cl`` runs without any error, with the physics of the swapped
elements; the pair style names such types (a warning: isotopes are legitimate)."""

import pytest

from contract_models import MorseEdgeModel, save_contract_model
from lammps_runner import run_lmp, write_data
from structures import licl_supercell

SWAP = "elements probably swapped"
OFF = "off the standard atomic weight"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("mass_models")
    morse = MorseEdgeModel(0.35, 1.4, 2.9, 5.0)
    return {"ClLi": save_contract_model(morse, d / "cl_li.pt", cutoff=5.0, elements=["Cl", "Li"]),
            "ClH": save_contract_model(morse, d / "cl_h.pt", cutoff=5.0, elements=["Cl", "H"])}


def run(tmp_path, body, nprocs=1, data=True):
    """The LiCl cell (type 1 = Cl 35.45, type 2 = Li 6.94 in its Masses) with ``body``;
    the output, after checking that LAMMPS finished."""
    if data:
        write_data(licl_supercell(rep=1), tmp_path / "struct.data", ["Cl", "Li"])
    head = "units metal\natom_style atomic\nread_data struct.data\n" if data else ""
    proc = run_lmp(head + body, tmp_path, nprocs=nprocs)
    return proc.stdout


def warnings(out):
    return [line for line in out.splitlines()
            if line.startswith("WARNING: pair_style ionmd") and "mass" in line]


def test_swapped_elements_warn_naming_both_once(tmp_path, models):
    """Two ranks, two runs: each swapped type is named once, with its mass, the element it
    was given and the one its mass belongs to, and the corrected pair_coeff line."""
    out = run(tmp_path, f"pair_style ionmd {models['ClLi']}\npair_coeff * * Li Cl\n"
              "run 0\nrun 0\n", nprocs=2)
    found = warnings(out)
    assert len(found) == 2, found
    assert all(SWAP in w for w in found)
    type1 = next(w for w in found if "atom type 1 " in w)
    assert "mass 35.45, the standard atomic weight of Cl (35.45)" in type1
    assert "'pair_coeff * * Li Cl' makes it Li (standard weight 6.94)" in type1
    assert "the line is 'pair_coeff * * Cl Li'" in type1
    type2 = next(w for w in found if "atom type 2 " in w)
    assert "mass 6.94, the standard atomic weight of Li" in type2 and "makes it Cl" in type2


def test_changed_masses_are_checked_again(tmp_path, models):
    out = run(tmp_path, f"pair_style ionmd {models['ClLi']}\npair_coeff * * Cl Li\nrun 0\n"
              "mass 2 35.45\nrun 0\nrun 0\n")
    found = warnings(out)
    assert len(found) == 1 and "atom type 2 " in found[0] and SWAP in found[0]
    assert "If the masses are right, the line is 'pair_coeff * * Cl Cl'" in found[0]


@pytest.mark.parametrize("masses", ["", "mass 1 35.5\nmass 2 7.0\n"], ids=["data", "rounded"])
def test_right_masses_do_not_warn(tmp_path, models, masses):
    out = run(tmp_path, f"{masses}pair_style ionmd {models['ClLi']}\npair_coeff * * Cl Li\nrun 0\n")
    assert warnings(out) == []


def test_deuterium_warns_mildly(tmp_path, models):
    """Type 2 as deuterium: off its element's weight, but the weight of no other element
    of the line: an isotope is possible, so no swap is claimed."""
    out = run(tmp_path, f"mass 2 2.014\npair_style ionmd {models['ClH']}\npair_coeff * * Cl H\n"
              "run 0\n")
    found = warnings(out)
    assert len(found) == 1
    assert "atom type 2 (H in pair_coeff) has mass 2.014, 100 % off the standard atomic weight " \
           "of H (1.008)" in found[0]
    assert "fine for an isotope" in found[0] and SWAP not in found[0]


def test_null_types_are_not_checked_and_hybrid_line_is_named(tmp_path, models):
    """Under hybrid/overlay, the NULL type (Li mass) is skipped; type 1 (Cl mass, given Li)
    is the weight of no other element of the line, so the warning is the mild one, saying
    whose weight it is."""
    out = run(tmp_path, f"pair_style hybrid/overlay ionmd {models['ClLi']} zero 5.0\n"
              "pair_coeff * * ionmd Li NULL\npair_coeff * * zero\nrun 0\n")
    found = warnings(out)
    assert len(found) == 1 and "atom type 1 (Li in pair_coeff)" in found[0]
    assert "it is the weight of Cl (35.45)" in found[0]
    assert "'pair_coeff * * ionmd Li NULL'" in found[0]


def test_per_atom_masses_are_not_checked(tmp_path, models):
    """atom_style sphere keeps per-atom masses (no per-type masses to compare): no crash,
    no warning, even with the masses swapped."""
    body = f"""units metal
atom_style sphere
lattice fcc 5.14
region box block 0 1 0 1 0 1
create_box 2 box
create_atoms 1 box
lattice fcc 5.14 origin 0.5 0 0
create_atoms 2 box
set type 1 mass 6.94
set type 2 mass 35.45
pair_style ionmd {models['ClLi']}
pair_coeff * * Cl Li
run 0
"""
    out = run(tmp_path, body, data=False)
    assert "Loop time" in out and warnings(out) == []


def test_no_corrected_line_where_a_mass_matches_no_element_of_the_line(tmp_path, models):
    out = run(tmp_path, f"mass 2 2.014\npair_style ionmd {models['ClLi']}\npair_coeff * * Li Cl\n"
              "run 0\n")
    found = warnings(out)
    assert len(found) == 2
    type1 = next(w for w in found if "atom type 1 " in w)
    assert SWAP in type1 and "Give each type its element in pair_coeff" in type1
    type2 = next(w for w in found if "atom type 2 " in w)
    assert SWAP not in type2 and "atom type 2 (Cl in pair_coeff) has mass 2.014" in type2


LABELS = "the atom type labels contradict pair_coeff"


def test_type_labels_that_contradict_pair_coeff_are_an_error(tmp_path, models):
    """A data file's type labels Cl, Li (what LAMMPS prints for them) read with
    `pair_coeff * * Li Cl`: the labels say which element each type is, so the run stops,
    naming both types and the line that matches the labels."""
    proc = run_lmp(f"units metal\natom_style atomic\nread_data struct.data\n"
                   f"labelmap atom 1 Cl 2 Li\npair_style ionmd {models['ClLi']}\n"
                   "pair_coeff * * Li Cl\nrun 0\n", _data(tmp_path), check=False)
    assert proc.returncode != 0
    assert LABELS in proc.stdout
    assert "type 1 is labelled Cl but pair_coeff makes it Li" in proc.stdout
    assert "type 2 is labelled Li but pair_coeff makes it Cl" in proc.stdout
    assert "the line is 'pair_coeff * * Cl Li'" in proc.stdout


@pytest.mark.parametrize("labels", ["labelmap atom 1 Cl 2 Li", "labelmap atom 1 anion 2 Li_fast"],
                         ids=["elements", "other_names"])
def test_type_labels_that_agree_or_are_no_element_run(tmp_path, models, labels):
    """Labels equal to the pair_coeff elements, or names that are no element symbol (only
    an element symbol says which element a type is), run as before; under hybrid a NULL
    type's label is another style's business."""
    out = run(tmp_path, f"{labels}\npair_style ionmd {models['ClLi']}\npair_coeff * * Cl Li\nrun 0\n")
    assert "Loop time" in out and LABELS not in out
    (tmp_path / "hybrid").mkdir()
    out = run(tmp_path / "hybrid", f"labelmap atom 1 Cl 2 H\npair_style hybrid/overlay ionmd "
              f"{models['ClLi']} zero 5.0\npair_coeff * * ionmd Cl NULL\npair_coeff * * zero\nrun 0\n")
    assert "Loop time" in out and LABELS not in out


def _data(tmp_path):
    write_data(licl_supercell(rep=1), tmp_path / "struct.data", ["Cl", "Li"])
    return tmp_path
