"""`ionmd bench`: supercell sizes, scaling arithmetic, one real 1- and 2-rank sweep with a
cheap contract model, and its bad-input errors."""

import functools
import json

import numpy as np
import pytest
from ase.build import bulk

from contract_models import RC, MorseEdgeModel, D0, ALPHA, R0, save_contract_model

from ionmd.bench import BenchPoint, add_efficiencies, bench, default_cell, ghost_modes, supercell_for
from ionmd.lammps.log import failure_reason, run_summary
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


def test_cpu_time_efficiency_and_failed_points():
    pts = [BenchPoint(atoms=1000, ranks=1, threads=1, steps=5, ms_per_step=100.0, atom_steps_per_s=1e4,
                      cpu_use=0.99),
           BenchPoint(atoms=1000, ranks=2, threads=1, steps=5, ms_per_step=80.0, atom_steps_per_s=0,
                      ghost="halo", cpu_use=0.66),
           BenchPoint(atoms=1000, ranks=2, threads=1, steps=0, ms_per_step=None, atom_steps_per_s=None,
                      ghost="redundant", failed="out of memory")]
    add_efficiencies(pts)
    assert pts[1].strong_efficiency == pytest.approx(100.0 / 160.0)
    # ranks that got 2/3 of a core each: CPU-time efficiency removes the sharing
    assert pts[1].strong_cpu_efficiency == pytest.approx(100.0 * 0.99 / (160.0 * 0.66))
    assert pts[2].strong_efficiency is None and pts[2].strong_cpu_efficiency is None


def test_failure_reasons():
    assert failure_reason(1, "RuntimeError: CUDA out of memory. Tried to allocate") == "out of memory"
    assert failure_reason(1, "[enforce fail] DefaultCPUAllocator: can't allocate memory") == "out of memory"
    assert "out-of-memory killer" in failure_reason(137, "BAD TERMINATION ... killed by signal 9")
    assert "out-of-memory killer" in failure_reason(-9, "")
    assert "out-of-memory killer" in failure_reason(247, "Setting up Verlet run ...")
    assert failure_reason(1, "x\nERROR: Pair style ionmd needs atom IDs (src/x.cpp:1)\n") == \
        "ERROR: Pair style ionmd needs atom IDs (src/x.cpp:1)"
    assert failure_reason(3, "nothing useful") == "exit status 3"


def test_ghost_mode_lists():
    assert ghost_modes("halo,redundant") == ["halo", "redundant"]
    assert ghost_modes("auto") == ["auto"]
    with pytest.raises(IonmdError, match="'shell' unknown"):
        ghost_modes("halo,shell")
    with pytest.raises(IonmdError, match="each mode once"):
        ghost_modes("halo,halo")


def test_run_summary_takes_the_last_run():
    text = ("Loop time of 1.5 on 1 procs for 2 steps with 8 atoms\n"
            "Pair    | 0.1 | 0.2 | 0.3 |   0.0 | 50.00\n"
            "Loop time of 4.0 on 2 procs for 10 steps with 8 atoms\n"
            "Pair    | 3.0 | 3.1 | 3.2 |   0.1 | 77.50\n"
            "97.5% CPU use with 2 MPI tasks x 1 OpenMP threads\n"
            "pair_style ionmd peak memory per rank (max over ranks): host 250.5 MiB, GPU 1200.0 MiB\n")
    info = run_summary(text)
    assert info == {"seconds": 4.0, "steps": 10, "pair_fraction": 0.775, "cpu_use": 0.975,
                    "host_peak_mib": 250.5, "gpu_peak_mib": 1200.0}
    with pytest.raises(IonmdError, match="Loop time"):
        run_summary("ERROR: something\n")


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
def test_bench_compares_ghost_modes_in_one_run(tmp_path, capsys):
    """--ghost halo,redundant: one serial baseline, each mode on 2 ranks, each run in the
    mode asked for; the toy model's 3-layer redundant shell holds more atoms per rank."""
    from contract_models import save_toy_models

    _, staged = save_toy_models(tmp_path)
    out = tmp_path / "cmp"
    assert main(["bench", str(staged), "--atoms", "512", "--np", "1,2", "--steps", "3",
                 "--ghost", "halo,redundant", "-o", str(out), "--no-progress"]) == 0
    pts = json.loads((out / "bench.json").read_text())["points"]
    assert [(p["ranks"], p["ghost"]) for p in pts] == [(1, "auto"), (2, "halo"), (2, "redundant")]
    for mode, says in (("halo", "ghost shell of one cutoff"), ("redundant", "redundant ghost shell")):
        run = out / f"n512-np2-{mode}"
        assert f"ghost {mode}" in (run / "in.bench").read_text()
        assert says in (run / "screen.txt").read_text()
    for p in pts:
        assert p["failed"] is None and p["host_peak_mib_per_rank"] > 10 and p["cpu_use"] > 0
    assert all(p["strong_efficiency"] > 0 and p["strong_cpu_efficiency"] > 0 for p in pts[1:])
    printed = capsys.readouterr().out
    assert "halo" in printed and "redundant" in printed and "CPU-time eff" in printed


@pytest.mark.mpi
def test_bench_keeps_going_past_a_failed_point(morse_model, tmp_path, capsys, monkeypatch):
    """A point whose lmp fails (here the redundant one: the plugin refuses a keyword slipped
    into its pair_style line) is recorded with the plugin's reason, in the table and JSON,
    and the serial and 2-rank auto points are still measured."""
    import ionmd.bench as bench_module

    real = bench_module.run_point

    def run_point(model, atoms, ranks, workdir, **kw):
        if kw.get("ghost") == "redundant":
            kw["pair_extra"] = "no_such_keyword 1"
        return real(model, atoms, ranks, workdir, **kw)

    monkeypatch.setattr(bench_module, "run_point", run_point)
    out = tmp_path / "fail"
    assert main(["bench", str(morse_model), "--atoms", "64", "--np", "1,2", "--steps", "3",
                 "--ghost", "auto,redundant", "-o", str(out), "--no-progress"]) == 0
    captured = capsys.readouterr()
    data = json.loads((out / "bench.json").read_text())
    pts = data["points"]
    bad = [p for p in pts if p["ghost"] == "redundant"][0]
    assert bad["ms_per_step"] is None and "ERROR" in bad["failed"]
    assert all(p["failed"] is None and p["ms_per_step"] > 0 for p in pts if p is not bad)
    assert data["status"] == "finished"
    assert "failed: 64 atoms x 2 ranks, ghost redundant" in captured.out
    assert "1 of 3 point(s) failed" in captured.err
    assert (out / "n64-np2-redundant" / "screen.txt").exists()
    with pytest.raises(IonmdError, match="every bench point failed"):
        bench(morse_model, [64], [1], tmp_path / "allfail", ghost="redundant", steps=3,
              progress=False)
    assert json.loads((tmp_path / "allfail" / "bench.json").read_text())["status"] == "failed"


def test_size_units():
    from ionmd.bench import parse_size_mib

    assert parse_size_mib("20GB") == pytest.approx(20e9 / 2 ** 20)
    assert parse_size_mib("16 GiB") == 16 * 1024
    assert parse_size_mib("500MiB") == 500
    for bad in ("20", "lots", "0GB", "-1GB", "3 parsecs"):
        with pytest.raises(IonmdError, match="memory size"):
            parse_size_mib(bad)


def test_max_atoms_finds_the_largest_cell_within_a_budget(morse_model, tmp_path, capsys):
    """The search's answer fits the budget and lies within 10 % of it, or else the next
    cell size it measured did not fit (cells come in discrete sizes, ~7 % apart here, and
    the resident set grows in steps of the allocator's 64 MiB top pad); and a cell 25 %
    larger, measured independently, does not fit (so it is the largest to that precision)."""
    from ionmd.bench import run_point

    small = run_point(morse_model, supercell_for(default_cell(), 1000), 1, tmp_path / "probe",
                      steps=1)
    budget = small.host_peak_mib_per_rank + 150.0      # a fixed part plus ~150 MiB of atoms
    assert main(["bench", str(morse_model), "--max-atoms", f"{budget:.1f}MiB", "--np", "1",
                 "--atoms", "2000,8000", "-o", str(tmp_path / "cap"), "--no-progress"]) in (0, None)
    out = capsys.readouterr().out
    print(out)
    res = json.loads((tmp_path / "cap" / "max_atoms.json").read_text())
    best = res["largest"]
    assert best is not None and best["host_peak_mib_per_rank"] <= budget
    if best["host_peak_mib_per_rank"] < 0.9 * budget:
        assert res["stopped"] == "no new cell size between the ones measured"
        larger = [p["atoms"] for p in res["points"] if p["atoms"] > best["atoms"]]
        assert larger and min(larger) <= 1.1 * best["atoms"]
    assert f"{best['atoms']} atoms" in out and "measured" in out
    over = run_point(morse_model, supercell_for(default_cell(), int(1.25 * best["atoms"])), 1,
                     tmp_path / "over", steps=1)
    assert over.host_peak_mib_per_rank > budget


@functools.lru_cache(maxsize=1)
def rocksalt_cell_sizes():
    return sorted({len(supercell_for(default_cell(), n)) for n in range(8, 40000, 100)})


@pytest.mark.parametrize("per_atom,budget", [(0.0, 310.7), (0.004, 280.0), (0.006, 340.0),
                                              (0.009, 340.0), (0.009, 250.0)])
def test_max_atoms_search_brackets_a_stepwise_resident_set(monkeypatch, tmp_path, per_atom,
                                                           budget):
    """The search against a resident set that grows in 64 MiB steps (glibc's top pad), so
    that the line through two measured points can point anywhere: it still ends on the
    largest cell size that fits (found by trying every size) or one within 10 % of the
    budget. (A search that drew its line through the last two points, both over the
    budget, once fell back to an 8-atom cell and stopped.)"""
    import math

    import ionmd.bench as bench_module

    def peak(n):
        return 140.0 + per_atom * n + 64.0 * math.ceil(n * 0.006 / 64.0)

    def fake_run_point(model, atoms, ranks, workdir, **kw):
        return BenchPoint(atoms=len(atoms), ranks=ranks, threads=1, steps=0, ms_per_step=None,
                          atom_steps_per_s=None, host_peak_mib_per_rank=peak(len(atoms)))

    monkeypatch.setattr(bench_module, "run_point", fake_run_point)
    res = bench_module.largest_cell(tmp_path / "m.pt", budget, tmp_path, start_atoms=(2000, 8000),
                                    progress=False)
    largest_fitting = max(n for n in rocksalt_cell_sizes() if peak(n) <= budget)
    got = res.largest.atoms
    assert peak(got) <= budget
    # the answer is the largest size, or one within the 10 % tolerance of the budget
    assert got == largest_fitting or peak(got) >= 0.9 * budget, \
        [(p.atoms, p.host_peak_mib_per_rank) for p in res.points]


def test_max_atoms_search_on_a_gpu_bounds_the_gpu_memory(monkeypatch, tmp_path):
    """On a GPU the cell is limited by the device's memory, not the host's: the search
    reads torch's GPU peak (reported only for GPU runs) and ends on the largest cell size
    whose GPU peak fits, although the host's resident set is over the budget everywhere."""
    import ionmd.bench as bench_module

    def gpu_peak(n):
        return 500.0 + 0.05 * n

    def fake_run_point(model, atoms, ranks, workdir, **kw):
        n = len(atoms)
        return BenchPoint(atoms=n, ranks=ranks, threads=1, steps=0, ms_per_step=None,
                          atom_steps_per_s=None, host_peak_mib_per_rank=1e6,
                          host_mb_per_atom=1e6 * 1.048576 / n, gpu_peak_mib_per_rank=gpu_peak(n),
                          gpu_mb_per_atom=gpu_peak(n) * 1.048576 / n)

    monkeypatch.setattr(bench_module, "run_point", fake_run_point)
    budget = 2000.0
    res = bench_module.largest_cell(tmp_path / "m.pt", budget, tmp_path, device="cuda",
                                    start_atoms=(2000, 8000), progress=False)
    assert res.memory_kind == "GPU" and res.largest is not None
    assert gpu_peak(res.largest.atoms) <= budget
    largest_fitting = max(n for n in rocksalt_cell_sizes() if gpu_peak(n) <= budget)
    assert res.largest.atoms == largest_fitting or gpu_peak(res.largest.atoms) >= 0.9 * budget
    assert "MiB of GPU memory per rank" in res.summary()


def test_an_output_folder_holding_a_bench_run_or_a_file_is_refused(tmp_path, capsys):
    """Nothing is measured into a folder that already holds a bench run (it would be
    replaced silently) unless --overwrite; a file as -o is a one-line error."""
    out = tmp_path / "earlier"
    out.mkdir()
    (out / "bench.json").write_text('{"points": [{"atoms": 8, "failed": null}]}')
    model = tmp_path / "m.pt"              # never opened: the refusal comes first
    assert main(["bench", str(model), "-o", str(out)]) == 1
    assert "already holds a bench run (bench.json)" in capsys.readouterr().err
    (tmp_path / "afile").write_text("x")
    assert main(["bench", str(model), "-o", str(tmp_path / "afile")]) == 1
    assert "is a file, not a folder" in capsys.readouterr().err


def test_max_atoms_defaults_to_one_rank_and_fails_when_no_cell_fits(morse_model, monkeypatch,
                                                                    tmp_path, capsys):
    import ionmd.bench

    seen = {}

    class NothingFits:
        points, memory_kind, budget_mib, largest = [], "host", 1.0, None

        def summary(self):
            return "no cell of this structure fits 1 MiB per rank"

    def fake_largest_cell(*args, ranks, **kwargs):
        seen["ranks"] = ranks
        return NothingFits()

    monkeypatch.setattr(ionmd.bench, "largest_cell", fake_largest_cell)
    assert main(["bench", str(morse_model), "--max-atoms", "1MiB",
                 "-o", str(tmp_path / "cap")]) == 1
    assert seen["ranks"] == 1
    assert "no cell of this structure fits" in capsys.readouterr().out
