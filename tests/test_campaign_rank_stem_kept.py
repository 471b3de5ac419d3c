"""A campaign structure named by its folders because a second file of its stem was added
keeps its stem where its runs are (keep_structure_folders), also with ``order_model_rank``:
its runs start from the cell a model kept, which need not be the lowest-Ewald one
(``s.cell``). With rank 2 kept, adding ``other/mgcl2.cif`` renamed the first ``mgcl2`` to
``c_mgcl2`` (rank 1 kept: ``mgcl2``), away from its runs, which the campaign then no
longer planned. Reference: the run folders the first plan wrote, and the name the same
campaign keeps when the model prefers the lowest-Ewald arrangement."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest

import test_campaign_model_rank as rank_test
from contract_models import MorseEdgeModel, save_contract_model


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stem_model")
    return save_contract_model(MorseEdgeModel(**rank_test.MORSE), folder / "a.pt",
                               cutoff=rank_test.MORSE["rc"], elements=["Mg", "Cl"], tag="a")


@pytest.mark.parametrize("kept", [2, 1])
def test_a_ranked_structure_keeps_its_stem_beside_a_second_file(tmp_path, model, monkeypatch,
                                                                 kept):
    import ionmd.screen.ordering_rank as ordering_rank
    from ionmd.sweep import load_campaign, plan_campaign

    def energies(runner, structures, max_nodes=None):   # the model prefers Ewald rank `kept`
        out = np.zeros(len(structures))
        out[kept - 1] = -1.0
        return out

    monkeypatch.setattr(ordering_rank, "structure_energies", energies)
    path = rank_test._campaign(tmp_path / "c", {"a": model}, 3, names=("a",))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = plan_campaign(load_campaign(path), create=True)
        assert {r.structure for r in first} == {"mgcl2"}
        (tmp_path / "c" / "other").mkdir()
        shutil.copy(tmp_path / "c" / "mgcl2.cif", tmp_path / "c" / "other" / "mgcl2.cif")
        path.write_text(path.read_text().replace(
            'structures = ["mgcl2.cif"]', 'structures = ["mgcl2.cif", "other/mgcl2.cif"]'))
        campaign = load_campaign(path)
    names = {str(s.source).split("/c/")[1]: s.name for s in campaign.structures}
    assert names["mgcl2.cif"] == "mgcl2", names             # where its runs are
    again = plan_campaign(campaign, create=False)
    assert {r.rundir.path for r in again if r.structure == "mgcl2"} == {
        r.rundir.path for r in first}
