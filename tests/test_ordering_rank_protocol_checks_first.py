"""``ionmd run ... --order ewald --order-model-rank N``: a protocol setting that cannot work
(a run no longer than its discarded start) is refused before the file is ordered and its
candidates ranked; it was refused only after both (Li3InCl6's 7-cell ordering and 20 model
single points: 26 s + 61 s on one CPU thread, docs/ordering.md)."""

from __future__ import annotations

import numpy as np
from pymatgen.core import Lattice, Structure

from contract_models import MorseEdgeModel, save_contract_model
from ionmd.cli import main

FCC = np.array([[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])


def test_a_run_shorter_than_its_discard_is_refused_before_ordering(tmp_path, monkeypatch,
                                                                  capsys):
    import ionmd.screen.ordering_rank as ordering_rank
    import ionmd.structures as structures

    model = save_contract_model(MorseEdgeModel(d0=0.3, alpha=1.5, r0=3.6, rc=6.0),
                                tmp_path / "licl.pt", cutoff=6.0, elements=["Li", "Cl"])
    half_li = Structure(Lattice.cubic(5.1), [{"Li": 0.5}] * 4 + ["Cl"] * 4,
                        np.vstack([FCC, (FCC + 0.5) % 1]))
    half_li.to(filename=str(tmp_path / "half.cif"))
    done = []
    real_load = structures.load_structure

    def recorded_load(*args, **kwargs):
        done.append("ordered")
        return real_load(*args, **kwargs)

    def recorded_rank(*args, **kwargs):
        done.append("ranked")
        raise AssertionError("ranked")

    monkeypatch.setattr(structures, "load_structure", recorded_load)
    monkeypatch.setattr(ordering_rank, "rank_by_model", recorded_rank)
    # conductivity discards 10 ps: a 1 ps run leaves nothing to analyse
    argv = ["run", "conductivity", str(tmp_path / "half.cif"), "--model", str(model),
            "--order", "ewald", "--order-model-rank", "3", "--supercell", "1x1x2",
            "--temps", "600", "--time", "1ps", "-o", str(tmp_path / "out"), "--dry-run"]
    assert main(argv) not in (0, None)
    assert "nothing would be left to analyse" in capsys.readouterr().err
    assert done == []
    assert not (tmp_path / "out").exists()
