"""The memory guard's advice names the keyword that makes the graph fit. With `memory
fast` on a staged model, a graph beyond the budget was told to use more ranks, a smaller
cell or a float32 export, not that `memory low` (or dropping `memory fast`: auto recomputes
where the fast path would not fit) takes a fraction of the memory (docs/scaling.md). The
guard now measures the recomputed path and says whether it would fit; the reference is
the same run with `memory low` under the same limit, which runs.

1000-atom LiCl (~26k edges) with the 5-layer tiny SevenNet of test_pair_memory_guard
(~6.5 KiB per edge fast, ~0.16 GiB) under `max_memory 0.1`."""

import re

from lammps_runner import run_lmp, write_data
from structures import licl_supercell

ELEMENTS = ["Cl", "Li"]


def run(model, memory, workdir):
    workdir.mkdir()
    write_data(licl_supercell(5, rattle=0.05, seed=3), workdir / "struct.data", ELEMENTS)
    return run_lmp(f"""units metal
atom_style atomic
atom_modify map yes
read_data struct.data
pair_style ionmd {model} {memory} max_memory 0.1
pair_coeff * * {' '.join(ELEMENTS)}
run 0
""", workdir, check=False)


def test_memory_fast_that_cannot_fit_is_told_memory_low_fits(deep_tiny, tmp_path):
    fast = run(deep_tiny, "memory fast", tmp_path / "fast")
    assert fast.returncode != 0
    out = fast.stdout
    m = re.search(r"the graph does not fit in memory: rank 0 would hold .* ~([\d.]+) GiB at "
                  r"([\d.]+) KiB per edge \(measured on this model\), 0.10 GiB available", out)
    assert m, out[-3000:]
    assert float(m.group(1)) > 0.1
    m = re.search(r"drop 'memory fast' \(memory auto recomputes the stages where the fast path "
                  r"would not fit\) or give 'memory low': this graph takes ~([\d.e-]+) GiB at "
                  r"([\d.]+) KiB per edge \(measured on this model, stages recomputed in "
                  r"chunks of 4096 edges\)", out)
    assert m, out[-3000:]
    assert float(m.group(1)) <= 0.1
    # the general advice, without 'a float32 export' to a float32 model
    assert "a smaller cell" in out and "float32 export" not in out, out[-3000:]

    low = run(deep_tiny, "memory low", tmp_path / "low")          # the advice, taken
    assert low.returncode == 0, low.stdout[-3000:]
    assert re.search(r"Loop time of .* for 0 steps with 1000 atoms", low.stdout)
