"""ionmd run ev-scan --order-model-rank: a scan refused because its folder holds another
cell (another N kept another arrangement) leaves the ranking of the cell the folder holds
as it was. Before, ordering_rank.json was written before the scan's folder was checked
(a10aa41 did so for the MD protocols only): after the refusal it described a cell no run
has. Reference: the first command's own record."""

from __future__ import annotations

import json
import warnings

import pytest

from contract_models import MorseEdgeModel, save_contract_model
from test_ordering_model_rank import MORSE, _cif


@pytest.fixture
def mg_morse(tmp_path):
    """The Morse model of test_ordering_model_rank: it prefers Mg near Mg, Ewald does not."""
    return save_contract_model(MorseEdgeModel(**MORSE), tmp_path / "mg.pt",
                               cutoff=MORSE["rc"], elements=["Mg", "Cl"])


def _run(path, model, n, out, capsys):
    from ionmd.cli import main

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["run", "ev-scan", str(path), "--model", str(model), "--dry-run",
                     "--supercell", "1x1x2", "--order", "ewald", "--order-model-rank",
                     str(n), "-o", str(out)])
    return code, capsys.readouterr()


def test_a_refused_scan_leaves_the_ranking_of_the_folders_cell(mg_morse, tmp_path, capsys):
    path, out = _cif(tmp_path), tmp_path / "runs"
    code, text = _run(path, mg_morse, 4, out, capsys)
    assert code in (0, None), text
    record_file = out / "mgcl" / "mg" / "ev-scan" / "ordering_rank.json"
    first = json.loads(record_file.read_text())
    # the premise: 2 candidates cannot keep the cell the first command kept
    assert first["candidates_asked"] == 4 and first["chosen_ewald_rank"] > 2, first

    code, text = _run(path, mg_morse, 2, out, capsys)       # keeps rank 2: another cell
    assert code == 1 and "exists with other settings" in text.err, text
    assert json.loads(record_file.read_text()) == first
