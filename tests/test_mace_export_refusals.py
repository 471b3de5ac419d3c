"""Files `ionmd export mace` cannot export, refused in one line that says what to pass:
TorchScript MACE files (mace_run_train's ``*_compiled.model``, create_lammps_model's
``*-lammps.pt``), the other family's checkpoints in either command, and a missing file
(before mace-torch's import, which takes ~20 s). The compiled files are made here as
mace-torch makes them (e3nn's ``jit.compile`` of the model, of ``LAMMPS_MACE(model)``).
"""

import os
import subprocess
import sys

import pytest

from tiny_mace import build_tiny_mace

from ionmd.errors import ExportError
from ionmd.export import export_mace, export_sevennet


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    import torch
    from e3nn.util import jit
    from mace.calculators import LAMMPS_MACE

    out = tmp_path_factory.mktemp("mace_files")
    model = build_tiny_mace(channels=8, num_interactions=1, max_ell=1, max_L=0, seed=3)
    torch.save(model, out / "tiny.model")
    # mace_run_train: torch.jit.save(jit.compile(model)) -> *_compiled.model
    torch.jit.save(jit.compile(model), str(out / "tiny_compiled.model"))
    # mace create_lammps_model: jit.compile(LAMMPS_MACE(model)) -> *.model-lammps.pt
    lammps = LAMMPS_MACE(build_tiny_mace(channels=8, num_interactions=1, max_ell=1, max_L=0))
    torch.jit.save(jit.compile(lammps), str(out / "tiny.model-lammps.pt"))
    return out


def test_compiled_model_names_the_plain_file(model_files, tmp_path):
    with pytest.raises(ExportError, match=r"compiled \(TorchScript\) MACE model.*plain `\.model`"):
        export_mace(model_files / "tiny_compiled.model", tmp_path / "x.pt")


def test_lammps_model_names_the_plain_file(model_files, tmp_path):
    with pytest.raises(ExportError, match=r"create_lammps_model.*plain `\.model`"):
        export_mace(model_files / "tiny.model-lammps.pt", tmp_path / "x.pt")


def test_mace_model_given_to_sevennet(model_files, tmp_path):
    with pytest.raises(ExportError, match="is a MACE model.*ionmd export mace"):
        export_sevennet(model_files / "tiny.model", tmp_path / "x.pt")


def test_sevennet_checkpoint_given_to_mace(tmp_path):
    from sevenn._const import SEVENNET_0_11Jul2024

    with pytest.raises(ExportError, match="is a SevenNet checkpoint.*ionmd export sevennet"):
        export_mace(SEVENNET_0_11Jul2024, tmp_path / "x.pt")


def test_missing_file_is_refused_before_importing_mace(tmp_path):
    code = ("import sys\nfrom ionmd.errors import ExportError\nfrom ionmd.export import export_mace\n"
            "try:\n    export_mace(sys.argv[1], sys.argv[2])\nexcept ExportError as e:\n"
            "    print(e)\nprint('mace imported' if 'mace' in sys.modules else 'mace not imported')\n")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "missing.model"),
                           str(tmp_path / "x.pt")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "missing.model does not exist" in proc.stdout
    assert "mace not imported" in proc.stdout
