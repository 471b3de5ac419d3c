"""Every MACE and SevenNet TorchScript export runs its final (scripted, frozen) module on
test graphs against the eager model's energies and forces before it writes the file.

Before, a module that compiled but failed when run was written with rc 0 and aborted
at LAMMPS's first force call: a MACE file in mace-torch's cuEquivariance layout
(made here with mace-torch's own mace_convert_e3nn_cueq), exported without its
conversion back to the e3nn layout, is such a module (its TorchScript fails with
"Input 1 has shape [7, 8, 9] but expected shape 72" for test_mace_export_layouts'
cueq_file; "[7, 8, 4] ... 32" for the smaller model here).
"""

import pytest

from ionmd.errors import ExportError
from ionmd.export import export_mace

pytest.importorskip("cuequivariance_torch")   # ionmd[cuda]; installed by `make install`


@pytest.fixture(scope="module")
def small_cueq_file(tmp_path_factory):
    """A ScaleShiftMACE in the cuEquivariance layout (mace_convert_e3nn_cueq), smaller than
    test_mace_export_layouts' cueq_file (harmonics to l=1, correlation 2): cuEquivariance
    builds every path's einsum when a file loads and again at export, so the failure
    under test costs ~5 s CPU here against ~37 s with that file (same refusal)."""
    from tiny_mace import write_tiny_cueq_mace

    return write_tiny_cueq_mace(tmp_path_factory.mktemp("cueq") / "small.cueq.model",
                                channels=8, max_ell=1, correlation=2, r_max=4.5, seed=7)


def test_module_that_fails_in_torchscript_is_not_written(small_cueq_file, tmp_path,
                                                         monkeypatch):
    """Without the conversion (as before it), the scripted cuEquivariance blocks fail on
    the first call: the check of the final module must refuse it and write nothing."""
    import ionmd.export.mace as mace_export

    monkeypatch.setattr(mace_export, "cueq_layout", lambda model: False, raising=False)
    out = tmp_path / "unconverted.pt"
    with pytest.raises(ExportError, match="fails on a test graph in TorchScript"):
        export_mace(small_cueq_file, out, stages=False, fused=False)
    assert not out.exists()
