"""``ionmd run ... --order-model-rank N``: the run cell's own checks (here a mobile species
the cell does not hold) refuse before any candidate's model energy is computed; the
ranking took minutes on real cells before the same refusal came."""

from __future__ import annotations

import numpy as np
from pymatgen.core import Lattice, Structure

from contract_models import MorseEdgeModel, save_contract_model
from ionmd.cli import main

FCC = np.array([[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])


def test_a_cell_without_the_mobile_species_is_refused_before_the_ranking(tmp_path, monkeypatch,
                                                                         capsys):
    import ionmd.screen.ordering_rank as ordering_rank

    model = save_contract_model(MorseEdgeModel(d0=0.3, alpha=1.5, r0=3.6, rc=6.0),
                                tmp_path / "nacl.pt", cutoff=6.0, elements=["Na", "Cl"])
    half_na = Structure(Lattice.cubic(5.6), [{"Na": 0.5}] * 4 + ["Cl"] * 4,
                        np.vstack([FCC, (FCC + 0.5) % 1]))
    half_na.to(filename=str(tmp_path / "half.cif"))

    def no_ranking(*args, **kwargs):
        raise AssertionError("the candidates were ranked before the cell was checked")

    monkeypatch.setattr(ordering_rank, "rank_by_model", no_ranking)
    argv = ["run", "conductivity", str(tmp_path / "half.cif"), "--model", str(model),
            "--order", "ewald", "--order-model-rank", "3", "--supercell", "1x1x2",
            "--temps", "600", "--replicas", "1", "-o", str(tmp_path / "out"), "--dry-run"]
    assert main(argv) not in (0, None)           # the default mobile species is Li
    assert "mobile_species names Li" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
