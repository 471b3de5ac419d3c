"""A SevenNet checkpoint trained with cuEquivariance kernels (config cuequivariance_config
use: true, the convolutions' weights in cuEquivariance's fused layout, as `sevenn train`
with cuEquivariance writes it): sevenn 0.13's conversion to e3nn stops on the fused
convolution's constants ('Unexpected key from linear'), which `ionmd export sevennet`
gave as a traceback (audit A29); now a clear error naming --kernels cueq, and that export
equals the e3nn network the checkpoint was made from."""

import copy

import numpy as np
import pytest
import torch
from ase.build import bulk

from ionmd.errors import ExportError
from ionmd.export import export_sevennet
from test_sevennet_checkpoints import _evaluate
from tiny_sevennet import write_tiny_sevennet_checkpoint


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    import sevenn._keys as KEY
    from sevenn.util import load_checkpoint

    from ionmd.export.kernels import sevennet_kernel_build

    folder = tmp_path_factory.mktemp("cueq_trained")
    plain = write_tiny_sevennet_checkpoint(folder / "e3nn.pth")
    raw = torch.load(plain, map_location="cpu", weights_only=False)
    cp = load_checkpoint(str(plain))
    with sevennet_kernel_build(cp.config, "cueq", "naive") as config:
        net = cp.build_model(enable_cueq=True)
    raw["config"] = copy.deepcopy(raw["config"])
    raw["config"][KEY.CUEQUIVARIANCE_CONFIG] = {"use": True}
    raw["model_state_dict"] = net.state_dict()
    assert config[KEY.CUEQUIVARIANCE_CONFIG]["use"]
    cueq = folder / "cueq_trained.pth"
    torch.save(raw, cueq)
    return plain, cueq


def test_default_export_names_the_kernels(checkpoints, tmp_path):
    with pytest.raises(ExportError, match=r"trained with cuEquivariance.*--kernels cueq"):
        export_sevennet(checkpoints[1], tmp_path / "m.pt", dtype="float64", stages=False)
    assert not (tmp_path / "m.pt").exists()


def test_cueq_export_equals_the_e3nn_network(checkpoints, tmp_path):
    plain, cueq = checkpoints
    atoms = bulk("NaCl", "rocksalt", a=5.0, cubic=True)
    atoms.set_chemical_symbols(["Li" if s == "Na" else "Cl" for s in atoms.get_chemical_symbols()])
    atoms.rattle(0.1, seed=3)
    ref = _evaluate(export_sevennet(plain, tmp_path / "ref.pt", dtype="float64",
                                    stages=False), atoms)
    got = _evaluate(export_sevennet(cueq, tmp_path / "k.pt", dtype="float64", stages=False,
                                    kernels="cueq", kernel_method="naive"), atoms)
    assert abs(got[0] - ref[0]) <= 1e-10 * abs(ref[0])
    assert np.abs(got[1] - ref[1]).max() <= 1e-10
