"""A CIF whose atom types carry oxidation number 0 (``_atom_type_oxidation_number``: an
intermetallic's ``Li0+ 0``, ``Si0+ 0``) declares no charges. ``ionmd run`` took the zeros
as the file's states: run.json said Li 0, Si 0, not guessed, and ``ionmd analyze`` gave
sigma_NE = 0 mS/cm (Nernst-Einstein goes as q^2). Now such a file is read as one without
states: the run records the same charges as the file without the loop, marked as the
guess. Reference: the CIF text itself (no states vs zeros) and pymatgen's only oxidation
state of Li."""

from __future__ import annotations

import contextlib
import io
import json

import pytest
from pymatgen.core import Element

from contract_models import MorseEdgeModel, save_contract_model
from ionmd.cli import main
from protocol_setup import MORSE

HEAD = """data_Li2Si
_cell_length_a 7.0
_cell_length_b 7.0
_cell_length_c 7.0
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'P 1'
loop_
_symmetry_equiv_pos_as_xyz
'x, y, z'
"""
ZERO_TYPES = """loop_
_atom_type_symbol
_atom_type_oxidation_number
Li0+ 0
Si0+ 0
"""
SITES = [("Li", 0.0, 0.0, 0.0), ("Li", 0.5, 0.5, 0.0), ("Li", 0.5, 0.0, 0.5),
         ("Li", 0.0, 0.5, 0.5), ("Si", 0.25, 0.25, 0.25), ("Si", 0.75, 0.75, 0.25)]


def cif(type_suffix: str, types: str) -> str:
    rows = "".join(f"{el}{i} {el}{type_suffix} {x} {y} {z} 1\n"
                   for i, (el, x, y, z) in enumerate(SITES))
    return (HEAD + types + "loop_\n_atom_site_label\n_atom_site_type_symbol\n"
            "_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n"
            "_atom_site_occupancy\n" + rows)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return save_contract_model(MorseEdgeModel(**MORSE), tmp_path_factory.mktemp("m") / "m.pt",
                               cutoff=MORSE["rc"], elements=["Li", "Si"])


def prepared_run_json(root, model, text: str) -> dict:
    """run.json of ``ionmd run --dry-run`` of a CIF holding ``text``."""
    root.mkdir()
    (root / "Li2Si.cif").write_text(text)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["run", "conductivity", str(root / "Li2Si.cif"), "--model", str(model),
                     "--temps", "800", "--replicas", "1", "--supercell", "none", "-o",
                     str(root / "runs"), "--dry-run"]) in (0, None)
    (run_json,) = (root / "runs").rglob("run.json")
    return json.loads(run_json.read_text())


def test_zero_oxidation_numbers_are_no_declared_charges(tmp_path, model):
    zeros = prepared_run_json(tmp_path / "zeros", model, cif("0+", ZERO_TYPES))
    plain = prepared_run_json(tmp_path / "plain", model, cif("", ""))
    assert zeros["charges"]["Li"] == Element("Li").oxidation_states[0] == 1
    assert zeros["charges"] == plain["charges"]
    assert zeros["charges_guessed"] is True and plain["charges_guessed"] is True
