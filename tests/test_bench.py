"""`ionmd bench`: supercell sizes, scaling arithmetic, one real 1- and 2-rank sweep with a
cheap contract model, and its bad-input errors."""

import json

import numpy as np
import pytest
from ase.build import bulk

from contract_models import RC, MorseEdgeModel, D0, ALPHA, R0, save_contract_model

from ionmd.bench import BenchPoint, add_efficiencies, bench, default_cell, parse_log, supercell_for
from ionmd.cli import main
from ionmd.errors import IonmdError


@pytest.fixture(scope="module")
def morse_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "morse.pt"
    return save_contract_model(MorseEdgeModel(D0, ALPHA, R0, RC), path, cutoff=RC,
                               elements=["Cl", "Li"], num_layers=2)


@pytest.mark.parametrize("target", [8, 100, 1000, 4000, 8000])
def test_supercell_is_near_cubic_and_close_to_the_target(target):
    atoms = supercell_for(default_cell(), target)
    reps = np.round(atoms.cell.lengths() / 5.14).astype(int)
    # the best count among near-cubic repetitions (no side more than 2 repeats longer)
    n_best = min((8 * a * b * c for a in range(1, 12) for b in range(1, 12) for c in range(1, 12)
                  if max(a, b, c) - min(a, b, c) <= 2), key=lambda n: abs(n - target))
    assert abs(len(atoms) - target) <= abs(n_best - target)
    assert reps.max() - reps.min() <= 2
    assert len(atoms) == 8 * np.prod(reps)


def test_efficiencies_from_times():
    pts = [BenchPoint(atoms=1000, ranks=1, threads=1, steps=5, ms_per_step=100.0, atom_steps_per_s=1e4),
           BenchPoint(atoms=1000, ranks=2, threads=1, steps=5, ms_per_step=62.5, atom_steps_per_s=1.6e4),
           BenchPoint(atoms=2000, ranks=1, threads=1, steps=5, ms_per_step=210.0, atom_steps_per_s=0),
           BenchPoint(atoms=2000, ranks=2, threads=1, steps=5, ms_per_step=120.0, atom_steps_per_s=0),
           BenchPoint(atoms=3000, ranks=4, threads=1, steps=5, ms_per_step=50.0, atom_steps_per_s=0)]
    add_efficiencies(pts)
    assert pts[1].strong_efficiency == pytest.approx(100.0 / (2 * 62.5))
    assert pts[3].strong_efficiency == pytest.approx(210.0 / 240.0)
    assert pts[3].weak_efficiency == pytest.approx(100.0 / 120.0)   # 1000 atoms per rank
    assert pts[4].strong_efficiency is None                          # no serial 3000-atom run
    assert pts[4].weak_efficiency is None                            # 750 per rank: not measured
    assert pts[1].weak_efficiency is None


def test_parse_log_takes_the_last_run():
    text = ("Loop time of 1.5 on 1 procs for 2 steps with 8 atoms\n"
            "Pair    | 0.1 | 0.2 | 0.3 |   0.0 | 50.00\n"
            "Loop time of 4.0 on 2 procs for 10 steps with 8 atoms\n"
            "Pair    | 3.0 | 3.1 | 3.2 |   0.1 | 77.50\n"
            "pair_style mlip peak memory per rank (max over ranks): host 250.5 MiB, GPU 1200.0 MiB\n")
    info = parse_log(text)
    assert info == {"seconds": 4.0, "steps": 10, "pair_fraction": 0.775,
                    "host_peak_mib": 250.5, "gpu_peak_mib": 1200.0}
    with pytest.raises(IonmdError, match="Loop time"):
        parse_log("ERROR: something\n")


@pytest.mark.mpi
def test_bench_cli_one_and_two_ranks(morse_model, tmp_path, capsys):
    out = tmp_path / "b"
    rc = main(["bench", str(morse_model), "--atoms", "64,128", "--np", "1,2", "--steps", "5",
               "-o", str(out), "--no-progress"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "strong eff" in printed and "atom-steps/s" in printed
    data = json.loads((out / "bench.json").read_text())
    pts = data["points"]
    assert [(p["atoms"], p["ranks"]) for p in pts] == [(64, 1), (64, 2), (128, 1), (128, 2)]
    for p in pts:
        assert p["steps"] == 5
        assert p["atom_steps_per_s"] == pytest.approx(p["atoms"] / (p["ms_per_step"] / 1e3))
        assert p["host_peak_mib_per_rank"] > 10          # the plugin's own report
        assert p["strong_efficiency"] > 0
    assert pts[3]["weak_efficiency"] is not None         # 128 on 2 ranks = 64 per rank
    assert "on 2 procs" in (out / "n128-np2" / "screen.txt").read_text()
    assert (out / "bench.png").stat().st_size > 1000
    assert (out / "bench.csv").read_text().count("\n") == 5


def test_bench_rejects_unknown_elements_and_modes(morse_model, tmp_path):
    nacl = bulk("NaCl", "rocksalt", a=5.64, cubic=True)
    with pytest.raises(IonmdError, match="does not know Na"):
        bench(morse_model, [64], [1], tmp_path, structure=nacl, progress=False)
    with pytest.raises(IonmdError, match="--ghost 'shell' unknown"):
        bench(morse_model, [64], [1], tmp_path, ghost="shell", progress=False)
    with pytest.raises(SystemExit):
        main(["bench", str(morse_model), "--atoms", "1k"])


@pytest.mark.mpi
def test_bench_ghost_modes_reach_the_pair_style(tmp_path):
    """--ghost is passed to pair_style, and the plugin runs the mode asked for."""
    from contract_models import save_toy_models

    _, staged = save_toy_models(tmp_path)
    for mode, says in (("halo", "ghost shell of one cutoff"), ("redundant", "redundant ghost shell")):
        result = bench(staged, [512], [2], tmp_path / mode, ghost=mode, steps=3, progress=False)
        run = tmp_path / mode / "n512-np2"
        assert f"ghost {mode}" in (run / "in.bench").read_text()
        assert says in (run / "screen.txt").read_text()
        assert result.points[0].host_peak_mib_per_rank > 10
