"""`ulimit -v` (RLIMIT_AS; SGE h_vmem, PBS vmem) and a model call that runs out of memory.

The memory guard read MemAvailable and the memory cgroup only: under `ulimit -v` a graph far
beyond the address space left passed the guard, and the model call's failed allocation came
back as the TorchScript interpreter's std::runtime_error, which the plugin did not catch
(only c10::Error): a raw torch traceback and an abort. Now the guard's budget is at most the
address space the limit leaves (stop at init with the numbers), and a failed model call is
the pair style's error: the step, the rank, that it ran out of memory and what to change.

Layout: the 8-atom LiCl cell on one rank with `ghost redundant` and a SevenNet of
SevenNet-0's depth (5 layers x 5 A, 27 A shell): ~11,500 ghosts, ~270,000 edges, ~1.7 GB in
the model call (test_pair_memory_guard.py), under a limit of the process's own virtual size
after loading the model (measured in a first run) + 0.5 GiB.
"""

import os
import re
import subprocess

import pytest

from lammps_runner import lammps_cmd, run_lmp, write_data
from structures import licl_supercell

ELEMENTS = ["Cl", "Li"]
HEADROOM_KIB = 512 * 1024


def script(model, pair_extra, after_load=""):
    return f"""units metal
atom_style atomic
atom_modify map yes
read_data struct.data
pair_style ionmd {model} {pair_extra}
pair_coeff * * {' '.join(ELEMENTS)}
{after_load}
run 0
"""


@pytest.fixture(scope="module")
def limited(deep_tiny, tmp_path_factory):
    """(workdir, `ulimit -v` KiB): the virtual size of lmp with the model loaded, read by
    the kernel (/proc of lmp's `shell` child's parent), + 0.5 GiB."""
    d = tmp_path_factory.mktemp("limit")
    write_data(licl_supercell(1), d / "struct.data", ELEMENTS)
    proc = run_lmp(script(deep_tiny, "", "shell grep VmPeak '/proc/$PPID/status'"), d)
    vm_kib = int(re.search(r"VmPeak:\s+(\d+) kB", proc.stdout).group(1))
    return d, vm_kib + HEADROOM_KIB


def run_limited(text, workdir, limit_kib):
    (workdir / "in.lmp").write_text(text)
    lmp = " ".join(lammps_cmd(1))
    return subprocess.run(["bash", "-c", f"ulimit -v {limit_kib}; exec {lmp} -in in.lmp"],
                          cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})


def test_guard_budget_is_the_address_space_left(deep_tiny, limited):
    d, limit_kib = limited
    proc = run_limited(script(deep_tiny, "ghost redundant"), d, limit_kib)
    out = proc.stdout
    assert proc.returncode != 0, out[-3000:]
    m = re.search(r"the graph does not fit in memory: .* ~(\d+) edges: ~([\d.]+) GiB at [\d.]+ "
                  r"KiB per edge \(measured on this model\), ([\d.]+) GiB available \(ulimit -v "
                  r"\(RLIMIT_AS\): ([\d.]+) GiB of address space left", out)
    assert m, out[-3000:]
    edges, need, avail, room = (float(g) for g in m.groups())
    assert 230_000 < edges < 310_000 and need > 1.0
    # the limit's 0.5 GiB headroom over the loaded process's peak, give or take what init
    # allocated since and what the peak held above the current size
    assert 0.2 < room < 0.7 and avail >= room
    assert "Setting up Verlet run" not in out and "Traceback" not in out


def test_model_call_out_of_memory_is_the_pair_styles_error(deep_tiny, limited):
    d, limit_kib = limited
    proc = run_limited(script(deep_tiny, "ghost redundant max_memory off"), d, limit_kib)
    out = proc.stdout
    assert proc.returncode != 0, out[-3000:]
    assert re.search(r"ERROR on proc 0: pair_style ionmd at step 0: rank 0 ran out of memory "
                     r"in the model call \(.*model evaluation failed: .*\); set 'max_memory "
                     r"GiB'", out), out[-3000:]
    assert "Traceback of TorchScript" not in out and "terminate called" not in out
