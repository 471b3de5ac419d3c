"""``--order-model-rank``: a model that lacks an element of the cell is refused from its
metadata before it is loaded (the refusal came from the loaded model, after torch and
the file were read). Reference: the model's own recorded elements (Mg Cl) against the
structure's (Na in place of Mg)."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from contract_models import MorseEdgeModel, save_contract_model
from ionmd.errors import IonmdError

FCC = np.array([[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])


def test_a_model_without_an_element_is_refused_before_it_is_loaded(tmp_path, monkeypatch):
    import ionmd.screen.ordering_rank as ordering_rank
    from ionmd.structures import OrderOptions, load_structure

    model = save_contract_model(MorseEdgeModel(d0=0.3, alpha=1.5, r0=3.6, rc=6.0),
                                tmp_path / "mg.pt", cutoff=6.0, elements=["Mg", "Cl"])
    half_na = Structure(Lattice.cubic(5.6), [{"Na": 0.5}] * 4 + ["Cl"] * 4,
                        np.vstack([FCC, (FCC + 0.5) % 1]))
    loaded = load_structure(half_na, OrderOptions("ewald", supercell="1x1x2", candidates=3))
    assert len(loaded.candidates) == 3

    def no_loading(*args, **kwargs):
        raise AssertionError("the model was loaded before its elements were checked")

    monkeypatch.setattr(ordering_rank, "ModelRunner", no_loading)
    with pytest.raises(IonmdError) as err:
        ordering_rank.rank_by_model(loaded, model, 3, device="cpu")
    assert "does not know Na" in str(err.value) and "Mg Cl" in str(err.value)
