"""The memory guard of `pair_style ionmd` (issue 17, item 9).

`ghost redundant` on a small cell with several ranks used to grow every rank until the
kernel killed it, without a message: 8-atom LiCl on `processors 3 1 1` with SevenNet-0's
27 A shell (5 layers x 5 A + 2 A skin) puts ~11,500 ghost atoms and ~270,000 edges on each
rank. The plugin now estimates the graph from the shell before LAMMPS builds it, measures
the model's memory per edge, and stops with the numbers and the fix when it cannot fit;
the real graph is checked again at every step.

A SevenNet with SevenNet-0's depth and cutoff but 8 channels (tests/tiny_sevennet.py, ~6 KiB
per edge on the CPU, ~1.8 GB per rank for this case) stands in for SevenNet-0 (~140 KiB per
edge), and a low limit (IONMD_MAX_MEMORY_GB / `max_memory`) for a small machine.
"""

import re
import subprocess
import sys
import time

import pytest
from ase.build import bulk

from lammps_runner import lammps_cmd, run_lmp, to_lammps_frame, write_data
from structures import licl_supercell

pytestmark = pytest.mark.mpi

ELEMENTS = ["Cl", "Li"]

# Runs a command and prints the largest resident set any of its processes reached
# (getrusage of the waited-for descendants: mpirun's proxies wait for the lmp ranks).
MAXRSS = """
import resource, subprocess, sys
rc = subprocess.run(sys.argv[1:]).returncode
print("MAXRSS_KB", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, flush=True)
sys.exit(rc)
"""


def script(model, pair_extra, processors=None, run="run 0"):
    return f"""units metal
atom_style atomic
atom_modify map yes
{f'processors {processors}' if processors else ''}
read_data struct.data
pair_style ionmd {model} {pair_extra}
pair_coeff * * {' '.join(ELEMENTS)}
{run}
"""


def run_measured(text, workdir, nprocs, env):
    """lmp under MAXRSS: (returncode, output, seconds, largest resident set in GB)."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "in.lmp").write_text(text)
    run_env = dict(__import__("os").environ, OMP_NUM_THREADS="1", **env)
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", MAXRSS, *lammps_cmd(nprocs), "-in", "in.lmp",
                           "-log", "log.lammps"], cwd=workdir, env=run_env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    seconds = time.monotonic() - t0
    maxrss_gb = int(re.search(r"MAXRSS_KB (\d+)", proc.stdout).group(1)) / 1024**2
    return proc.returncode, proc.stdout, seconds, maxrss_gb


def numbers(pattern, text):
    m = re.search(pattern, text)
    assert m, f"no match for {pattern!r} in:\n{text[-3000:]}"
    return [float(g) for g in m.groups()]


def test_redundant_shell_that_cannot_fit_stops_before_lammps_builds_it(deep_tiny, tmp_path):
    """The case of the issue: 8 atoms, 3 ranks, 27 A shell; 0.25 GiB per rank allowed."""
    write_data(licl_supercell(1), tmp_path / "struct.data", ELEMENTS)
    rc, out, seconds, maxrss_gb = run_measured(
        script(deep_tiny, "ghost redundant", processors="3 1 1"), tmp_path, 3,
        {"IONMD_MAX_MEMORY_GB": "0.25"})
    assert rc != 0, out[-3000:]
    assert "the graph does not fit in memory" in out, out[-3000:]
    local, ghosts, shell, edges, need, per_edge, avail = numbers(
        r"would hold ~(\d+) local \+ ~(\d+) ghost atoms \('ghost redundant', a ([\d.]+) A ghost "
        r"shell\) and ~(\d+) edges: ~([\d.]+) GiB at ([\d.]+) KiB per edge \(measured on this "
        r"model\), ([\d.]+) GiB available \(IONMD_MAX_MEMORY_GB 0.25\)", out)
    assert shell == 27.0
    # LAMMPS itself reports 11,459 ghosts per rank for this cell (Nghost ave) and the graph
    # has 262,720-275,658 edges per rank
    assert 10_500 < ghosts < 12_500 and local <= 8
    assert 230_000 < edges < 310_000
    # the model's memory per edge, measured at start: ~6.5 KiB for this model on the CPU
    # (a real run of it: 1.8 GB per rank here, 6.1 KiB per edge between 1728 and 8000 atoms)
    assert 3.0 < per_edge < 15.0
    assert need > 1.0 and avail == 0.25
    assert "use 'ghost halo'" in out and "fewer MPI ranks" in out and "larger cell" in out
    # stopped in init, before LAMMPS set up the run (ghost shell, neighbour lists) or the
    # model saw the graph: no rank came near the ~1.8 GB the run takes
    assert "Setting up Verlet run" not in out
    assert maxrss_gb < 0.9, f"a rank reached {maxrss_gb:.2f} GB"
    assert seconds < 120


def test_halo_fits_under_the_same_limit(deep_tiny, tmp_path):
    """The fix the message proposes runs under the same limit (and is measured too)."""
    write_data(licl_supercell(1), tmp_path / "struct.data", ELEMENTS)
    rc, out, _, _ = run_measured(script(deep_tiny, "ghost halo", processors="3 1 1"), tmp_path,
                                 3, {"IONMD_MAX_MEMORY_GB": "0.25"})
    assert rc == 0, out[-3000:]
    assert "pair_style ionmd memory check: rank" in out
    assert "('ghost halo')" in out and "0.25 GiB available" in out
    assert "halo exchange between 5 stages" in out
    assert re.search(r"Loop time of .* for 0 steps with 8 atoms", out)


def slab_cell(z: float = 1.0):
    """The 8-atom LiCl cell (two atomic layers) at z = ``z`` to ``z`` + 5 A in a 40 A tall
    box: the mean density is 1/8 of the slab's, so the estimate at start sees ~1/4 of the
    edges the graph gets."""
    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True)
    cell = atoms.cell.array.copy()
    cell[2, 2] = 40.0
    atoms.set_cell(cell, scale_atoms=False)
    atoms.positions[:, 2] += z
    return to_lammps_frame(atoms)


def test_real_graph_checked_at_every_step(deep_tiny, tmp_path):
    """Where the estimate from the mean density passes, the graph's own counts stop the
    run at the first step, before the model call; here with the max_memory keyword."""
    write_data(slab_cell(), tmp_path / "struct.data", ELEMENTS)
    rc, out, _, maxrss_gb = run_measured(
        script(deep_tiny, "ghost redundant max_memory 0.1"), tmp_path, 1, {})
    assert rc != 0, out[-3000:]
    (est_edges,) = numbers(r"memory check: rank 0 would hold .* and ~(\d+) edges", out)
    step, local, ghosts, edges, per_edge = numbers(
        r"at step (\d+): the graph does not fit in memory: rank 0 holds (\d+) local \+ (\d+) "
        r"ghost atoms \('ghost redundant', a 27.0 A ghost shell\) and (\d+) edges: ~[\d.]+ GiB "
        r"at ([\d.]+) KiB per edge \(measured on this model\), 0.10 GiB available \(max_memory "
        r"keyword 0.1\)", out)
    assert step == 0 and local == 8
    assert edges > 2 * est_edges
    assert "use 'ghost halo'" in out
    assert maxrss_gb < 0.9, f"lmp reached {maxrss_gb:.2f} GB"


def test_max_memory_values(tmp_path):
    atoms = licl_supercell(1)
    write_data(atoms, tmp_path / "struct.data", ELEMENTS)
    proc = run_lmp(script("nowhere.pt", "max_memory lots"), tmp_path, check=False)
    assert proc.returncode != 0
    assert "max_memory must be auto, off or a positive number of GiB per MPI rank" in proc.stdout


def test_auto_recomputes_where_the_fast_path_would_not_fit(deep_tiny, tmp_path):
    """`memory auto` below its edge switch (1000 atoms, ~26k edges < 32768): the fast path
    (~6.5 KiB per edge measured, ~0.16 GiB) would take more than 70 % of 0.15 GiB, so the
    stages are recomputed, with the reason in the log, instead of a fast run near the
    limit; the forces are those of `memory fast`. With room to spare, auto stays fast. (On a
    GPU this fit is the whole rule: docs/scaling.md.)"""
    from lammps_runner import single_point

    atoms = licl_supercell(5, rattle=0.05, seed=3)
    auto = single_point(atoms, deep_tiny, tmp_path / "auto", ELEMENTS,
                        pair_extra="max_memory 0.15")
    per_edge, = numbers(r"memory auto: \d+ edges would take ~[\d.]+ GiB at ([\d.]+) KiB per "
                        r"edge \(measured\) without recomputation, more than 70 % of the 0.15 "
                        r"GiB available: the stages are recomputed in the backward pass, in "
                        r"chunks of 4096 edges", auto.log)
    assert 3.0 < per_edge < 15.0
    fast = single_point(atoms, deep_tiny, tmp_path / "fast", ELEMENTS,
                        pair_extra="memory fast max_memory off")
    roomy = single_point(atoms, deep_tiny, tmp_path / "roomy", ELEMENTS,
                         pair_extra="max_memory 4")
    assert "memory auto" not in roomy.log
    for run in (auto, roomy):
        assert run.energy == pytest.approx(fast.energy, rel=1e-6)
        assert abs(run.forces - fast.forces).max() <= 1e-5 * abs(fast.forces).max()


def test_memory_guard_on_rank_one_is_in_the_log(deep_tiny, tmp_path):
    """The same check where the slab lies wholly in rank 1's half (z = 25-30 A; on
    `processors 1 1 2` rank 1 holds z > 20 A: all 8 atoms, rank 0 none): rank 1's reason
    stops all ranks and rank 0 logs it (before, Error::one wrote it to rank 1's stdout only,
    and log.lammps ended without it)."""
    write_data(slab_cell(25.0), tmp_path / "struct.data", ELEMENTS)
    proc = run_lmp(script(deep_tiny, "ghost redundant max_memory 0.1", processors="1 1 2"),
                   tmp_path, nprocs=2, check=False)
    assert proc.returncode != 0, proc.stdout[-3000:]
    log = (tmp_path / "log.lammps").read_text()
    found = re.search(r"ERROR.*at step (\d+): the graph does not fit in memory: rank (\d+) holds "
                      r"(\d+) local", log)
    assert found, f"log.lammps:\n{log[-1500:]}\nstdout:\n{proc.stdout[-1500:]}"
    assert found.groups() == ("0", "1", "8")
