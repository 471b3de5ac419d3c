"""Equivariant-kernel exports (`ionmd export sevennet --kernels cueq`) and the plugin's
loading of kernel-library operators.

On this CPU machine cuEquivariance runs its pure-torch reference method (`naive`): the
same segmented polynomial, index conventions, layout transposes and converted weights
as its GPU kernels, so these tests check that a cuEquivariance export computes the
same function as the e3nn export (float64, 1e-12). The GPU kernels themselves are
checked by examples/gpu_check.py on a GPU.

The operator-library mechanism is tested with a stand-in library that registers an op
in the `cuequivariance` namespace: a model file that calls it fails to load in `lmp`
with a message saying how to get the library, and loads once IONMD_KERNEL_LIBRARIES
names it."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from contract_models import MorseEdgeModel, save_contract_model
from ionmd.errors import ExportError
from ionmd.export import export_sevennet, read_metadata
from ionmd._plugin import python_runtime_libraries
from lammps_runner import assert_same_physics, run_lmp, single_point, write_data
from structures import licl_supercell, triclinic_distorted

ELEMENTS = ["Cl", "Li"]
RTOL = 1e-12


@pytest.fixture(scope="module")
def tiny_cueq(tiny_checkpoint, tmp_path_factory):
    return export_sevennet(tiny_checkpoint, tmp_path_factory.mktemp("cueq") / "tiny_cueq.pt",
                           dtype="float64", kernels="cueq", kernel_method="naive")


def test_sevennet0_cueq_equals_e3nn(sevennet0_cueq, sevennet0_f64, tmp_path):
    """7net-0 exported through the CLI (the session's, tests/session_exports.py): its layers
    have unequal multiplicities (SevenNet's gcd path). Without stages: checking them on the
    reference method costs a minute here, and the staged paths are tested on the small
    model below."""
    meta = read_metadata(sevennet0_cueq)
    assert meta["kernels"] == "cueq" and meta["kernel_method"] == "naive"
    atoms = licl_supercell(2, rattle=0.08, seed=2)
    ref = single_point(atoms, sevennet0_f64, tmp_path / "e3nn", ELEMENTS)
    run = single_point(atoms, sevennet0_cueq, tmp_path / "cueq", ELEMENTS)
    assert "equivariant kernels cueq (naive)" in run.log
    assert_same_physics(run, ref, RTOL)


CELLS = {"ortho": lambda: licl_supercell(2, rattle=0.08, seed=2),
         "triclinic": triclinic_distorted}


@pytest.mark.mpi
@pytest.mark.parametrize("cell", sorted(CELLS))
def test_tiny_cueq_on_ranks_and_memory_modes(cell, tiny_cueq, tiny_f64, tmp_path):
    """1 rank (fast and low memory) and the halo exchange on 2 and 4 ranks, against the
    e3nn export on one rank."""
    atoms = CELLS[cell]()
    ref = single_point(atoms, tiny_f64, tmp_path / "ref", ELEMENTS)
    runs = {"low": single_point(atoms, tiny_cueq, tmp_path / "low", ELEMENTS,
                                pair_extra="memory low")}
    for n in (2, 4):
        runs[n] = single_point(atoms, tiny_cueq, tmp_path / f"np{n}", ELEMENTS, nprocs=n,
                               pair_extra="ghost halo")
        assert "halo exchange between 2 stages" in runs[n].log
    for run in runs.values():
        assert_same_physics(run, ref, RTOL)


def test_tiny_cueq_aoti_package(tiny_cueq_f64_pt2, tiny_f64, tmp_path):
    """AOTInductor compiles cuEquivariance's 0-d path coefficients (kept as tensors); the
    package (tests/session_exports.py) compiles beside the other tests."""
    package = tiny_cueq_f64_pt2
    atoms = triclinic_distorted()
    ref = single_point(atoms, tiny_f64, tmp_path / "ref", ELEMENTS)
    assert_same_physics(single_point(atoms, package, tmp_path / "pt2", ELEMENTS), ref, RTOL)


def test_export_refuses_unknown_kernels_and_missing_operators(tiny_checkpoint, tmp_path):
    with pytest.raises(ExportError, match="unknown kernels"):
        export_sevennet(tiny_checkpoint, tmp_path / "x.pt", kernels="flash")
    with pytest.raises(ExportError, match=r"ionmd\[cuda\]"):   # no GPU operators here
        export_sevennet(tiny_checkpoint, tmp_path / "x.pt", kernels="cueq",
                        kernel_method="uniform_1d")
    assert not (tmp_path / "x.pt").exists()


# ---------------------------------------------------------------- operator libraries

# Only the headers it uses: load_inline would put <torch/extension.h> (all of libtorch's
# and pybind11's API) in front, ~30 s of compiling here, these ~5 s (same link flags).
PROBE_SOURCE = r"""
#include <ATen/core/Tensor.h>
#include <torch/library.h>
TORCH_LIBRARY_FRAGMENT(cuequivariance, m) { m.def("ionmd_probe(Tensor x) -> Tensor"); }
TORCH_LIBRARY_IMPL(cuequivariance, CompositeImplicitAutograd, m) {
  m.impl("ionmd_probe", [](const at::Tensor &x) { return x.mul(2); });
}
"""


class ProbeMorse(torch.nn.Module):
    """Twice the Morse energies, the doubling done by the stand-in library's operator."""

    def __init__(self):
        super().__init__()
        self.morse = MorseEdgeModel(0.35, 1.4, 2.9, 5.0)

    def forward(self, edge_vec: torch.Tensor, edge_index: torch.Tensor, species: torch.Tensor,
                nlocal: int) -> torch.Tensor:
        return torch.ops.cuequivariance.ionmd_probe(
            self.morse(edge_vec, edge_index, species, nlocal))


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    """(stand-in operator library, model file calling it, plain Morse file)."""
    from torch.utils.cpp_extension import load

    build = tmp_path_factory.mktemp("probe")
    (build / "cueq_probe.cpp").write_text(PROBE_SOURCE)
    load(name="cueq_probe", sources=[str(build / "cueq_probe.cpp")], is_python_module=False,
         build_directory=str(build))
    library = build / "cueq_probe.so"
    model = save_contract_model(ProbeMorse(), build / "probe.pt", cutoff=5.0, elements=ELEMENTS)
    plain = save_contract_model(MorseEdgeModel(0.35, 1.4, 2.9, 5.0), build / "morse.pt",
                                cutoff=5.0, elements=ELEMENTS)
    return library, model, plain


def run_probe(tmp_path, model, libraries: str | None):
    tmp_path.mkdir(parents=True, exist_ok=True)
    write_data(licl_supercell(rep=1), tmp_path / "struct.data", ELEMENTS)
    script = (f"units metal\natom_style atomic\nread_data struct.data\n"
              f"pair_style ionmd {model}\npair_coeff * * Cl Li\nrun 0\n")
    assert "IONMD_KERNEL_LIBRARIES" not in os.environ
    env = {"IONMD_KERNEL_LIBRARIES": libraries} if libraries is not None else None
    return run_lmp(script, tmp_path, env=env, check=False)


def test_model_calling_kernel_operators(probe, tmp_path):
    library, model, plain = probe
    missing = run_probe(tmp_path / "none", model, None)
    assert missing.returncode != 0
    assert "cuEquivariance's compiled operators" in missing.stdout
    assert "ionmd kernels --env" in missing.stdout

    wrong = run_probe(tmp_path / "wrong", model, str(tmp_path / "nowhere.so"))
    assert wrong.returncode != 0
    assert "cannot load kernel library" in wrong.stdout and "nowhere.so" in wrong.stdout

    # loaded on demand: a model that does not need the library ignores a bad list
    unaffected = run_probe(tmp_path / "plain", plain, str(tmp_path / "nowhere.so"))
    assert unaffected.returncode == 0, unaffected.stdout[-2000:]

    # the stand-in links torch's Python bindings, like cuEquivariance's extension module:
    # the same chain as `ionmd kernels --env` puts first
    chain = [*python_runtime_libraries(), library]
    loaded = single_point(licl_supercell(rep=1), model, tmp_path / "loaded", ELEMENTS,
                          env={"IONMD_KERNEL_LIBRARIES": ":".join(map(str, chain))})
    ref = single_point(licl_supercell(rep=1), plain, tmp_path / "ref", ELEMENTS)
    assert loaded.energy == pytest.approx(2 * ref.energy, rel=1e-14)
    np.testing.assert_allclose(loaded.forces, 2 * ref.forces, rtol=0, atol=1e-13)


def test_kernels_command_reports_what_is_installed():
    run = [sys.executable, "-m", "ionmd.cli", "kernels"]
    status = subprocess.run(run, capture_output=True, text=True, check=True).stdout
    assert "cueq   installed (cuequivariance-torch)" in status
    assert "compiled operators do not load here" in status      # no GPU driver on this machine
    env = subprocess.run(run + ["--env"], capture_output=True, text=True)
    assert env.returncode != 0 and "ionmd[cuda]" in env.stderr and "Traceback" not in env.stderr
