"""A model call that runs out of memory names only what changes its memory for that model
and graph (tests/test_pair_address_space_limit.py sets the scene: ``ulimit -v`` of the loaded
process + 0.5 GiB, the 8-atom LiCl cell with a 5-layer tiny SevenNet, ``max_memory off``).
It said "use 'memory low'" to every model, but 'memory low' recomputes only the per-layer
stages of a model file that has them, on a graph of local atoms or with 'ghost halo': a model
exported with ``--no-stages`` (or an AOTI package without stages) and a 'ghost redundant'
graph run as 'memory fast' whatever is asked (the pair style's own warning says so)."""

import re

import pytest

from lammps_runner import run_lmp, write_data
from structures import licl_supercell
from test_pair_address_space_limit import ELEMENTS, HEADROOM_KIB, run_limited, script


@pytest.fixture(scope="module")
def models(deep_tiny, tmp_path_factory):
    """The 5-layer tiny SevenNet exported with per-layer stages (the session's ``deep_tiny``)
    and, from the same checkpoint, without them."""
    from pathlib import Path

    from ionmd.export import export_sevennet

    ckpt = Path(deep_tiny).parent / "deep.pth"
    d = tmp_path_factory.mktemp("oom_models")
    return {True: deep_tiny, False: export_sevennet(ckpt, d / "deep_False.pt", dtype="float32",
                                                    stages=False)}


def out_of_memory(model, pair_extra, workdir) -> str:
    """The pair style's out-of-memory error of ``model`` under ``ulimit -v`` (the loaded
    process's own peak + 0.5 GiB, read by the kernel in a first run)."""
    write_data(licl_supercell(1), workdir / "struct.data", ELEMENTS)
    proc = run_lmp(script(model, "", "shell grep VmPeak '/proc/$PPID/status'"), workdir)
    limit = int(re.search(r"VmPeak:\s+(\d+) kB", proc.stdout).group(1)) + HEADROOM_KIB
    proc = run_limited(script(model, pair_extra), workdir, limit)
    m = re.search(r"ERROR on proc 0: pair_style ionmd at step 0: rank 0 ran out of memory in "
                  r"the model call .*", proc.stdout)
    assert proc.returncode != 0 and m, proc.stdout[-3000:]
    return m.group(0)


def test_a_model_without_stages_is_not_told_memory_low(models, tmp_path):
    err = out_of_memory(models[False], "ghost redundant max_memory off", tmp_path)
    assert "memory low" not in err and "ghost halo" not in err, err
    assert "set 'max_memory GiB'" in err and "run on more ranks or nodes" in err, err


def test_a_redundant_shell_is_told_ghost_halo_with_memory_low(models, tmp_path):
    err = out_of_memory(models[True], "ghost redundant memory low max_memory off", tmp_path)
    assert "use 'ghost halo' instead of 'ghost redundant'" in err, err
    assert "use 'memory low'" not in err, err
