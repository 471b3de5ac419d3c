"""`ionmd bench` as a new user meets it: the numbers against independent measurements (the
LAMMPS log of the same run, the kernel's peak resident set of the same lmp process), the
threads and device the plugin really used, budgets written as users write them, warnings
for ranks that share cores, and the output folder's state after a rerun, a Ctrl-C or a
run whose every point failed."""

import json
import re
import subprocess
import sys
import textwrap

import pytest

from contract_models import RC, MorseEdgeModel, D0, ALPHA, R0, save_contract_model

import ionmd.bench as bench_module
from ionmd.bench import (BenchPoint, BenchResult, CapacityResult, default_cell, parse_size_mib,
                         supercell_for, table)
from ionmd.cli import main
from ionmd.cores import CoreCount
from ionmd.errors import IonmdError


@pytest.fixture(scope="module")
def morse_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench_audit") / "morse.pt"
    return save_contract_model(MorseEdgeModel(D0, ALPHA, R0, RC), path, cutoff=RC,
                               elements=["Cl", "Li"], num_layers=2)


def fake_point(atoms, ranks, workdir, threads=1, ghost="auto", memory="default", **kw):
    return BenchPoint(atoms=len(atoms), ranks=ranks, threads=threads, steps=3, ms_per_step=10.0,
                      atom_steps_per_s=len(atoms) / 0.01, ghost=ghost, memory=memory,
                      host_peak_mib_per_rank=300.0, device_used="cpu")


def test_budgets_as_users_write_them():
    """Slurm's 20G, a space, scientific notation; each a number and a unit (GB = 1e9 B,
    GiB and one-letter G = 2^30 B)."""
    assert parse_size_mib("20 GB") == pytest.approx(20e9 / 2 ** 20)
    assert parse_size_mib("20g") == parse_size_mib("20G") == 20 * 1024
    assert parse_size_mib("2e4MB") == pytest.approx(2e10 / 2 ** 20)
    assert parse_size_mib("1.5GiB") == 1536
    assert parse_size_mib(".5G") == 512
    for bad in ("20", "GB", "1e400GB", "0G", "2e4", "20 parsecs", "1,5GB"):
        with pytest.raises(IonmdError, match="memory size .* e.g. 20GB"):
            parse_size_mib(bad)


def test_run_point_numbers_match_the_log_and_the_kernels_peak(morse_model, tmp_path):
    """One real point in a fresh Python process: ms/step is LAMMPS's loop time / steps of the
    same log, the threads and device are the plugin's own (2 torch threads, cpu), and the
    reported peak host memory is the kernel's maximum resident set of that lmp process
    (getrusage of the children: independent of the plugin's /proc reading)."""
    script = textwrap.dedent(f"""
        import json, resource
        from pathlib import Path
        from ionmd.bench import run_point, supercell_for, default_cell
        p = run_point(Path({str(morse_model)!r}), supercell_for(default_cell(), 216), 1,
                      Path({str(tmp_path / 'pt')!r}), threads=2, steps=4)
        print(json.dumps({{"p": p.__dict__,
                          "maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}}))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    got = json.loads(out.strip().splitlines()[-1])
    p = got["p"]
    log = (tmp_path / "pt" / "log.lammps").read_text()
    # LAMMPS counts MPI ranks x threads as "procs": 1 x 2 here
    seconds, procs, steps, atoms = re.findall(
        r"Loop time of (\S+) on (\d+) procs for (\d+) steps with (\d+)", log)[-1]
    assert procs == "2" and "1 MPI tasks x 2 OpenMP threads" in log
    assert (p["atoms"], p["steps"]) == (int(atoms), int(steps)) == (216, 4)
    assert p["ms_per_step"] == pytest.approx(1e3 * float(seconds) / 4, rel=1e-9)
    assert p["atom_steps_per_s"] == pytest.approx(216 * 4 / float(seconds), rel=1e-9)
    assert p["threads"] == 2 and p["device_used"] == "cpu"
    assert "2 torch thread(s) per rank" in log
    assert p["host_peak_mib_per_rank"] == pytest.approx(got["maxrss_kib"] / 1024, rel=0.02)
    assert p["host_mb_per_atom"] == pytest.approx(got["maxrss_kib"] * 1024 / 1e6 / 216, rel=0.02)


def test_the_table_says_threads_device_and_what_each_column_is():
    res = BenchResult(model="m.pt", structure="LiCl", device="auto", ghost="auto", cores=2,
                      status="finished",
                      points=[fake_point(supercell_for(default_cell(), 64), 1, None, threads=2)])
    text = table(res)
    assert "device auto (ran on cpu)" in text and "2 core(s)" in text
    assert text.splitlines()[1].split()[:3] == ["atoms", "ranks", "threads"]
    assert text.splitlines()[2].split()[:3] == ["64", "1", "2"]
    assert "LAMMPS's loop time" in text and "1 MB = 1e6 B" in text and "fixed footprint" in text
    assert "atom-steps/s: atoms / (s/step)" in text.replace("\n", " ")


def test_more_threads_than_cores_is_warned_in_stderr_table_and_json(morse_model, tmp_path,
                                                                    monkeypatch, capsys):
    monkeypatch.setattr(bench_module, "mpi_cores",
                        lambda: CoreCount(2, "the CPUs this process may use"))
    monkeypatch.setattr(bench_module, "run_point",
                        lambda model, atoms, ranks, workdir, **kw: fake_point(atoms, ranks,
                                                                              workdir, **kw))
    res = bench_module.bench(morse_model, [64], [1, 4], tmp_path / "o", progress=False)
    assert ("--np 4: 4 MPI rank(s) x 1 thread(s) = 4 cores, but the CPUs this process may use "
            "are 2" in capsys.readouterr().err)
    assert "warning: --np 4" in table(res)
    data = json.loads((tmp_path / "o" / "bench.json").read_text())
    assert data["cores"] == 2 and "would share cores" in data["notes"][0]
    res = bench_module.bench(morse_model, [64], [1, 2], tmp_path / "p", progress=False)
    assert res.notes == [] and "warning" not in capsys.readouterr().err


def test_bench_json_says_running_then_finished_or_interrupted(morse_model, tmp_path,
                                                              monkeypatch, capsys):
    """While a bench runs, bench.json is this run's (status running, the points so far),
    never the earlier run's; Ctrl-C leaves status interrupted and a CSV of the points."""
    out = tmp_path / "o"
    seen = []

    def run(model, atoms, ranks, workdir, **kw):
        data = json.loads((out / "bench.json").read_text())
        seen.append((data["status"], len(data["points"])))
        if ranks == 2:
            raise KeyboardInterrupt
        return fake_point(atoms, ranks, workdir, **kw)

    monkeypatch.setattr(bench_module, "run_point", run)
    with pytest.raises(KeyboardInterrupt):
        bench_module.bench(morse_model, [64], [1, 2], out, progress=False)
    assert seen == [("running", 0), ("running", 1)]
    data = json.loads((out / "bench.json").read_text())
    assert data["status"] == "interrupted" and len(data["points"]) == 1
    assert (out / "bench.csv").read_text().count("\n") == 2
    assert "interrupted after 1 of 2" in capsys.readouterr().err
    monkeypatch.setattr(bench_module, "run_point",
                        lambda model, atoms, ranks, workdir, **kw: fake_point(atoms, ranks,
                                                                              workdir, **kw))
    bench_module.bench(morse_model, [64], [1, 2], tmp_path / "fin", progress=False)
    assert json.loads((tmp_path / "fin" / "bench.json").read_text())["status"] == "finished"


def test_overwrite_clears_the_earlier_run_and_a_run_of_failures_blocks_nothing(tmp_path,
                                                                              capsys):
    """--overwrite: the earlier bench.csv/png and point folders go (no stale plot beside a
    new, partial bench.json); the user's other files stay. A bench.json in which every
    point failed (e.g. --device cuda without a GPU) holds nothing to protect."""
    from ionmd.cli.bench import _check_output

    out = tmp_path / "o"
    (out / "n96-np1").mkdir(parents=True)
    for name in ("in.bench", "bench.data", "log.lammps"):
        (out / "n96-np1" / name).write_text("x")
    (out / "mine").mkdir()
    (out / "notes.txt").write_text("keep")
    (out / "bench.json").write_text(json.dumps({"points": [{"failed": None}]}))
    for name in ("bench.csv", "bench.png"):
        (out / name).write_text("old")
    with pytest.raises(IonmdError, match="already holds a bench run"):
        _check_output(out, overwrite=False)
    assert (out / "bench.csv").exists()
    _check_output(out, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == ["mine", "notes.txt"]
    (out / "bench.json").write_text(json.dumps({"status": "failed",
                                                "points": [{"failed": "no CUDA device"}]}))
    _check_output(out, overwrite=False)
    assert not (out / "bench.json").exists()


def test_halo_without_stages_and_unknown_elements_are_refused_before_any_run(morse_model,
                                                                            tmp_path, capsys):
    """Both for the sweep and for --max-atoms: one clear error naming the fix, no lmp run."""
    from ase.build import bulk
    from ase.io import write

    assert main(["bench", str(morse_model), "--atoms", "64", "--np", "1,2", "--ghost", "halo",
                 "-o", str(tmp_path / "h"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "per-layer stages" in err and "--stages" in err and "--ghost redundant" in err
    assert not (tmp_path / "h").exists() or not list((tmp_path / "h").glob("n*"))
    assert main(["bench", str(morse_model), "--max-atoms", "1GB", "--ghost", "halo", "--np", "2",
                 "-o", str(tmp_path / "hm"), "--no-progress"]) == 1
    assert "per-layer stages" in capsys.readouterr().err
    write(tmp_path / "POSCAR", bulk("NaCl", "rocksalt", a=5.64, cubic=True), format="vasp")
    assert main(["bench", str(morse_model), "--max-atoms", "1GB", "--structure",
                 str(tmp_path / "POSCAR"), "-o", str(tmp_path / "e"), "--no-progress"]) == 1
    assert "does not know Na" in capsys.readouterr().err
    assert not (tmp_path / "e").exists() or not list((tmp_path / "e").glob("n*"))


def test_max_atoms_passes_ghost_and_a_single_start_size(morse_model, tmp_path, monkeypatch,
                                                        capsys):
    seen = {}

    def fake_largest_cell(model, budget, out, **kw):
        seen.update(kw, budget=budget)
        return CapacityResult(model=str(model), structure="x", budget_mib=budget, ranks=2,
                              memory="default", points=[], largest=None)

    monkeypatch.setattr(bench_module, "largest_cell", fake_largest_cell)
    main(["bench", str(morse_model), "--max-atoms", "20G", "--np", "2", "--ghost", "redundant",
          "--atoms", "500", "-o", str(tmp_path / "c"), "--no-progress"])
    assert seen["ghost"] == "redundant" and seen["start_atoms"] == (500, 2000)
    assert seen["budget"] == 20 * 1024
    assert main(["bench", str(morse_model), "--max-atoms", "20G", "--ghost", "halo,redundant",
                 "-o", str(tmp_path / "d"), "--no-progress"]) == 1
    assert "one --ghost mode" in capsys.readouterr().err
    assert main(["bench", str(morse_model), "--max-atoms", "20G", "--steps", "50",
                 "-o", str(tmp_path / "s"), "--no-progress"]) == 1   # was silently ignored
    assert "--steps has no effect with --max-atoms" in capsys.readouterr().err


def test_a_budget_below_the_fixed_footprint_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_module, "run_point",
                        lambda model, atoms, ranks, workdir, **kw: BenchPoint(
                            atoms=len(atoms), ranks=1, threads=1, steps=0, ms_per_step=None,
                            atom_steps_per_s=None, host_peak_mib_per_rank=470.0 + len(atoms) / 100))
    res = bench_module.largest_cell(tmp_path / "m.pt", 95.0, tmp_path, start_atoms=(64, 128),
                                    progress=False)
    assert res.largest is None and res.status == "finished"
    text = res.summary()
    assert "even the smallest, 8 atoms, peaked at 470 MiB" in text and "fixed footprint" in text


def test_sigterm_mid_bench_and_mid_search_keeps_the_points_as_interrupted(morse_model, tmp_path,
                                                                         monkeypatch, capsys):
    """`kill` (SIGTERM) of ionmd bench during its second point: exit 128 + 15, the first
    point in bench.json and bench.csv with status interrupted; the same for --max-atoms."""
    import os
    import signal

    def run(model, atoms, ranks, workdir, **kw):
        if ranks == 2 or len(atoms) > 300:
            os.kill(os.getpid(), signal.SIGTERM)
        return fake_point(atoms, ranks, workdir, **kw)

    monkeypatch.setattr(bench_module, "run_point", run)
    out = tmp_path / "o"
    assert main(["bench", str(morse_model), "--atoms", "64", "--np", "1,2", "-o", str(out),
                 "--no-progress"]) == 128 + signal.SIGTERM
    data = json.loads((out / "bench.json").read_text())
    assert data["status"] == "interrupted" and len(data["points"]) == 1
    assert (out / "bench.csv").read_text().count("\n") == 2
    assert "stopped by SIGTERM" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert main(["bench", str(morse_model), "--max-atoms", "1GB", "--atoms", "100,400",
                 "-o", str(tmp_path / "m"), "--no-progress"]) == 128 + signal.SIGTERM
    data = json.loads((tmp_path / "m" / "max_atoms.json").read_text())
    assert data["status"] == "interrupted" and [p["atoms"] for p in data["points"]] == [96]


def test_sizes_and_device_are_checked_before_any_run_and_same_cells_run_once(morse_model,
                                                                             tmp_path,
                                                                             monkeypatch, capsys):
    """--atoms 64,4 used to measure 64 atoms and then stop on 4 with bench.json left
    'running'; --atoms 100,98 measured the 96-atom cell twice into one folder; --device gpu
    failed in every point."""
    calls = []

    def run(model, atoms, ranks, workdir, **kw):
        calls.append((len(atoms), ranks))
        return fake_point(atoms, ranks, workdir, **kw)

    monkeypatch.setattr(bench_module, "run_point", run)
    with pytest.raises(IonmdError, match="--atoms 4 is below the 8 atoms"):
        bench_module.bench(morse_model, [64, 4], [1], tmp_path / "a", progress=False)
    assert calls == [] and not (tmp_path / "a").exists()
    res = bench_module.bench(morse_model, [100, 98, 64], [1], tmp_path / "b", progress=False)
    assert calls == [(96, 1), (64, 1)]
    assert "--atoms 98 gives the 96-atom cell again" in res.notes[0]
    for bad in ("gpu", "cuda0", "CPU"):
        with pytest.raises(IonmdError, match="--device .* unknown: use auto, cpu, cuda or cuda:N"):
            bench_module.bench(morse_model, [64], [1], tmp_path / "c", device=bad, progress=False)
    assert main(["bench", str(morse_model), "--max-atoms", "1GB", "--device", "gpu",
                 "-o", str(tmp_path / "d"), "--no-progress"]) == 1
    assert "--device 'gpu' unknown" in capsys.readouterr().err
    assert calls == [(96, 1), (64, 1)]


def test_max_atoms_does_not_stop_on_a_small_cell_when_the_footprint_fills_the_budget(tmp_path,
                                                                                   monkeypatch):
    """SevenNet-0's peaks measured here (one force call, 1 rank): 472 MiB for every cell up
    to 72 atoms, 540 MiB at 96. With 520 MiB the first cell, 32 atoms, is already within 10 %
    of the budget in memory; the search used to stop there. The largest near-cubic LiCl
    cell that fits is 72 atoms (the next size is 96)."""
    def run(model, atoms, ranks, workdir, **kw):
        n = len(atoms)
        return BenchPoint(atoms=n, ranks=1, threads=1, steps=0, ms_per_step=None,
                          atom_steps_per_s=None, host_peak_mib_per_rank=472.0 if n <= 72 else 540.0)

    monkeypatch.setattr(bench_module, "run_point", run)
    res = bench_module.largest_cell(tmp_path / "m.pt", 520.0, tmp_path, start_atoms=(32, 96),
                                    progress=False)
    sizes = sorted({len(supercell_for(default_cell(), n)) for n in range(8, 200)})
    assert res.largest.atoms == max(n for n in sizes if n <= 72) == 72
    assert len(res.points) <= 8


def test_each_memory_mode_scales_against_its_own_serial_run():
    """`--memory fast,low --np 1,2` measured here (64 atoms): the 2-rank low point's strong
    efficiency was taken against the *fast* serial time (0.30 instead of 0.44)."""
    from ionmd.bench import add_efficiencies

    def pt(atoms, ranks, ms, memory):
        return BenchPoint(atoms=atoms, ranks=ranks, threads=1, steps=3, ms_per_step=ms,
                          atom_steps_per_s=atoms / ms * 1e3, memory=memory)

    pts = [pt(64, 1, 468.4, "fast"), pt(64, 1, 689.8, "low"), pt(64, 2, 493.0, "fast"),
           pt(64, 2, 789.7, "low"), pt(128, 2, 800.0, "low"), pt(128, 2, 500.0, "default")]
    add_efficiencies(pts)
    assert pts[2].strong_efficiency == pytest.approx(468.4 / (2 * 493.0))
    assert pts[3].strong_efficiency == pytest.approx(689.8 / (2 * 789.7))
    assert pts[4].weak_efficiency == pytest.approx(689.8 / 800.0)       # 64 per rank, low
    assert pts[5].weak_efficiency == pytest.approx(468.4 / 500.0)       # no default serial run
    assert pts[5].strong_efficiency is None


def test_the_plot_draws_one_line_per_memory_mode(tmp_path):
    """`--memory fast,low`: the plot joined both modes' points into one zigzag line."""
    from ionmd.bench import add_efficiencies, plot, plot_series

    def pt(ranks, ms, memory):
        return BenchPoint(atoms=64, ranks=ranks, threads=1, steps=3, ms_per_step=ms,
                          atom_steps_per_s=64 / ms * 1e3, memory=memory)

    res = BenchResult(model="sn0.pt", structure="LiCl", device="auto", ghost="auto",
                      points=[pt(1, 468.4, "fast"), pt(1, 689.8, "low"), pt(2, 493.0, "fast"),
                              pt(2, 789.7, "low")])
    add_efficiencies(res.points)
    series = plot_series(res)
    assert [label for label, _ in series] == ["64 atoms, memory fast", "64 atoms, memory low"]
    assert [[(p.ranks, p.memory) for p in pts] for _, pts in series] == [
        [(1, "fast"), (2, "fast")], [(1, "low"), (2, "low")]]
    plot(res, tmp_path / "b.png")
    assert (tmp_path / "b.png").stat().st_size > 1000


def test_a_cell_far_from_the_requested_size_is_said(morse_model, tmp_path, monkeypatch):
    """A user's 52-atom cubic cell (Li6PS5Cl's count) and --atoms 150: the near-cubic
    supercells have 52, 104, 208 ... atoms; 104 is measured, and the table says so."""
    import numpy as np
    from ase import Atoms

    rng = np.random.default_rng(0)
    cell = Atoms("Li24Cl28", scaled_positions=rng.random((52, 3)), cell=[9.86] * 3, pbc=True)
    monkeypatch.setattr(bench_module, "run_point",
                        lambda model, atoms, ranks, workdir, **kw: fake_point(atoms, ranks,
                                                                              workdir, **kw))
    res = bench_module.bench(morse_model, [150, 208], [1], tmp_path / "o", structure=cell,
                             structure_name="mine.cif", progress=False)
    assert [p.atoms for p in res.points] == [104, 208]
    assert res.notes == ["--atoms 150: the nearest near-cubic supercell of mine.cif (52 atoms "
                         "per cell) is 1x1x2 = 104 atoms"]
    assert "warning: --atoms 150: the nearest" in table(res)


def test_bad_input_with_overwrite_deletes_nothing(morse_model, tmp_path, capsys):
    """--overwrite on a folder with a finished run, then an input refused (unknown ghost
    mode, elements the model lacks, a bad budget, a size below one cell): the earlier run
    is still there, untouched."""
    from ase.build import bulk
    from ase.io import write

    out = tmp_path / "o"
    (out / "n96-np1").mkdir(parents=True)
    for name in ("in.bench", "bench.data"):
        (out / "n96-np1" / name).write_text("x")
    earlier = json.dumps({"status": "finished", "points": [{"atoms": 96, "failed": None}]})
    (out / "bench.json").write_text(earlier)
    (out / "bench.png").write_text("png")
    write(tmp_path / "POSCAR", bulk("NaCl", "rocksalt", a=5.64, cubic=True), format="vasp")
    for extra in (["--ghost", "shell"], ["--structure", str(tmp_path / "POSCAR")],
                  ["--max-atoms", "lots"], ["--atoms", "4"], ["--device", "gpu"],
                  ["--memory", "tiny"]):
        assert main(["bench", str(morse_model), "-o", str(out), "--overwrite",
                     "--no-progress"] + extra) == 1, extra
        assert "error" in capsys.readouterr().err
        assert (out / "bench.json").read_text() == earlier and (out / "bench.png").exists()
        assert (out / "n96-np1" / "in.bench").exists()
