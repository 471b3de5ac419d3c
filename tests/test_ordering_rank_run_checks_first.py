"""``ionmd run ... --order ewald --order-model-rank N`` checks what it can before the file is
ordered and its candidates ranked (Li3InCl6's 7-cell ordering and 20 model single points:
26 s + 61 s on one CPU thread, docs/ordering.md), and refuses there:

* a protocol setting that cannot work (a run no longer than its discarded start) before the
  file is ordered and ranked; it was refused only after both;
* the run cell's own checks (here a mobile species the cell does not hold) before any
  candidate's model energy is computed; the ranking took minutes on real cells before the
  same refusal came."""

from __future__ import annotations

import numpy as np
from pymatgen.core import Lattice, Structure

from contract_models import MorseEdgeModel, save_contract_model
from ionmd.cli import main

FCC = np.array([[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])


def _half_occupied(folder, cation: str, a: float):
    """``folder/half.cif``: rock-salt ``cation``Cl (cubic, ``a`` A) with its cation sites half
    occupied, to be ordered; and a Morse model of ``cation`` and Cl. Returns the model."""
    model = save_contract_model(MorseEdgeModel(d0=0.3, alpha=1.5, r0=3.6, rc=6.0),
                                folder / f"{cation.lower()}cl.pt", cutoff=6.0,
                                elements=[cation, "Cl"])
    half = Structure(Lattice.cubic(a), [{cation: 0.5}] * 4 + ["Cl"] * 4,
                     np.vstack([FCC, (FCC + 0.5) % 1]))
    half.to(filename=str(folder / "half.cif"))
    return model


def _ordered_run(folder, model, *extra) -> list[str]:
    """``ionmd run conductivity`` of half.cif, ordered (ewald) and 3 candidates ranked."""
    return ["run", "conductivity", str(folder / "half.cif"), "--model", str(model),
            "--order", "ewald", "--order-model-rank", "3", "--supercell", "1x1x2",
            "--temps", "600", *extra, "-o", str(folder / "out"), "--dry-run"]


def test_a_run_shorter_than_its_discard_is_refused_before_ordering(tmp_path, monkeypatch,
                                                                  capsys):
    import ionmd.screen.ordering_rank as ordering_rank
    import ionmd.structures as structures

    model = _half_occupied(tmp_path, "Li", 5.1)
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
    assert main(_ordered_run(tmp_path, model, "--time", "1ps")) not in (0, None)
    assert "nothing would be left to analyse" in capsys.readouterr().err
    assert done == []
    assert not (tmp_path / "out").exists()


def test_a_cell_without_the_mobile_species_is_refused_before_the_ranking(tmp_path, monkeypatch,
                                                                         capsys):
    import ionmd.screen.ordering_rank as ordering_rank

    model = _half_occupied(tmp_path, "Na", 5.6)

    def no_ranking(*args, **kwargs):
        raise AssertionError("the candidates were ranked before the cell was checked")

    monkeypatch.setattr(ordering_rank, "rank_by_model", no_ranking)
    argv = _ordered_run(tmp_path, model, "--replicas", "1")
    assert main(argv) not in (0, None)           # the default mobile species is Li
    assert "mobile_species names Li" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
