"""save_aoti runs the package it wrote against the eager model before it reports success;
a package that differs is removed, with a clear error. The session's Morse package
(conftest's morse_pt2) stands in for the compiled one: no new compile here."""

import shutil

import pytest
import torch

from contract_models import ALPHA, D0, R0, RC, MorseNodeEnergy

from ionmd.errors import ExportError
from ionmd.export.contract import ModelMetadata


class ForceOff(MorseNodeEnergy):
    """The Morse model with dE/d edge_vec[0, 0] off by ``delta`` (energies unchanged)."""

    def __init__(self, delta: float):
        super().__init__(D0, ALPHA, R0, RC)
        self.delta = delta

    def forward(self, edge_vec, edge_index, species):
        energy = super().forward(edge_vec, edge_index, species)
        x = edge_vec[0, 0]
        bump = torch.zeros_like(energy)
        bump[int(edge_index[0, 0])] = self.delta * (x - x.detach())
        return energy + bump


@pytest.fixture
def save_as_morse_package(morse_pt2, monkeypatch):
    """save_aoti whose compile step writes the Morse package (as compiling the exact Morse
    model would); returns save_aoti."""
    import ionmd.export.aoti as aoti

    monkeypatch.setattr(aoti, "compile_program", lambda *args, **kwargs: [])
    monkeypatch.setattr(aoti, "package_programs",
                        lambda path, programs: shutil.copyfile(morse_pt2, path))
    return aoti.save_aoti


def morse_metadata():
    return ModelMetadata(family="test", cutoff=RC, num_layers=2, elements=["Cl", "Li"],
                         dtype="float64")


def test_package_of_the_model_is_kept(save_as_morse_package, tmp_path):
    out = save_as_morse_package(MorseNodeEnergy(D0, ALPHA, R0, RC), tmp_path / "m.pt2",
                                morse_metadata())
    assert out.is_file()


def test_package_that_differs_is_removed(save_as_morse_package, tmp_path):
    """A force 1e-6 eV/A off in one edge (relative 1e-6 to 1e-4 here, float64 allows
    1e-9): refused, and the file is gone."""
    out = tmp_path / "m.pt2"
    with pytest.raises(ExportError, match="disagrees with the eager model.*was removed"):
        save_as_morse_package(ForceOff(1e-6), out, morse_metadata())
    assert not out.exists()


def test_package_that_fails_to_run_is_removed(save_as_morse_package, tmp_path):
    """The eager model takes the graph, the package (of another signature) does not."""
    import ionmd.export.aoti as aoti

    out = tmp_path / "m.pt2"
    real_load = torch._inductor.aoti_load_package

    def broken(path):
        package = real_load(path)
        return lambda *args: package(*args[:2])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torch._inductor, "aoti_load_package", broken)
        with pytest.raises(ExportError, match="fails on a test graph.*removed"):
            aoti.save_aoti(MorseNodeEnergy(D0, ALPHA, R0, RC), out, morse_metadata())
    assert not out.exists()
