"""``ionmd screen --order ewald --order-model-rank N``: the structure screened is the
candidate of lowest model energy (the one ``rank_by_model`` keeps, its energies checked
against LAMMPS in test_ordering_model_rank.py), the row's ordering says so, and a resume
with another N is refused."""

import json
import warnings

import pytest

from contract_models import MorseEdgeModel, save_contract_model
from test_ordering_model_rank import CELL, MORSE, half_mg_rocksalt


@pytest.fixture(scope="module")
def mg_morse(tmp_path_factory):
    return save_contract_model(MorseEdgeModel(**MORSE), tmp_path_factory.mktemp("mgs") / "mg.pt",
                               cutoff=MORSE["rc"], elements=["Mg", "Cl"])


def _cif(tmp_path):
    """The 1x1x2 cell as the file's own (the screen orders in the smallest whole cell)."""
    from pymatgen.io.cif import CifWriter

    path = tmp_path / "mgcl2.cif"
    CifWriter(half_mg_rocksalt().make_supercell(CELL, in_place=False)).write_file(path)
    return path


def test_screen_screens_the_model_ranked_arrangement(mg_morse, tmp_path, capsys):
    from pymatgen.core import Structure

    from ionmd.cli import main
    from ionmd.screen.ordering_rank import rank_by_model
    from ionmd.structures import OrderOptions, load_structure

    path = _cif(tmp_path)
    argv = ["screen", str(path), "--model", str(mg_morse), "--species", "Mg", "--order",
            "ewald", "--order-model-rank", "4", "--spacing", "0.5", "-o", str(tmp_path / "s")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(argv)
    text = capsys.readouterr()
    assert code in (0, None), text
    (row,) = json.loads((tmp_path / "s" / "screen.json").read_text())
    loaded = load_structure(path, OrderOptions("ewald", candidates=4))
    ranked, ranking = rank_by_model(loaded, mg_morse, 4, device="cpu")
    assert ranking.chosen_rank != 1
    assert f"kept Ewald rank {ranking.chosen_rank}" in row["ordering"], row
    written = Structure.from_file(tmp_path / "s" / row["structure_file"])
    assert written.composition == ranked.structure.composition
    assert written.matches(ranked.structure.copy().remove_oxidation_states(), scale=False,
                           ltol=0.01, stol=0.01, angle_tol=0.5, primitive_cell=False)
    code = main(argv[:-5] + ["3", "--spacing", "0.5", "-o", str(tmp_path / "s")])
    text = capsys.readouterr().err
    assert code == 1 and "order_model_rank" in text, text
