"""The per-layer stage programs of an AOTInductor package are compared with the eager
stages as the TorchScript stages are (ionmd.export.staged.check_stages): node energies
value by value, features and stage gradients by their largest entry; a package whose
stage check fails in any way is removed, with an error that says so. No compile here:
the eager stages stand in for the compiled programs (a stage off by a known amount), and
the session's Morse package (conftest's morse_pt2) for the written file."""

import shutil

import pytest
import torch
import torch._inductor.package  # noqa: F401 - the loader the stage check uses

from contract_models import ALPHA, D0, R0, RC, MorseNodeEnergy, ToyMessagePassing

from ionmd.errors import ExportError
from ionmd.export.aoti_modules import AllRowStages, StageEmbed, StageForward, StageVJP
from ionmd.export.contract import ModelMetadata
from ionmd.export.staged import stage_metadata

CORE_EV = 1000.0       # one node's energy, as a close pair's (a ZBL core) would be


class CoreStages(AllRowStages):
    """The toy model's stages with node 0 given CORE_EV in stage 1, and node 1's stage-1
    energy off by ``delta``."""

    def __init__(self, delta: float = 0.0):
        super().__init__(ToyMessagePassing(RC))
        self.delta = delta

    def stage(self, k: int, h, edge_vec, edge_index, species):
        h_next, energy = super().stage(k, h, edge_vec, edge_index, species)
        if k == 1:
            bump = torch.zeros_like(energy)
            bump[0], bump[1] = CORE_EV, self.delta
            energy = energy + bump
        return h_next, energy


def toy_metadata() -> ModelMetadata:
    layers = ToyMessagePassing(RC).layers
    meta = ModelMetadata(family="test", cutoff=RC, num_layers=len(layers),
                         elements=["Cl", "Li"], dtype="float64")
    meta.extra.update(stage_metadata([layer.w_self.shape[0] for layer in layers]))
    return meta


def programs_of(stages, num_stages: int) -> dict:
    out = {"halo_embed": StageEmbed(stages)}
    for k in range(1, num_stages + 1):
        out[f"stage_{k}"], out[f"stage_{k}_vjp"] = StageForward(stages, k), StageVJP(stages, k)
    return out


def test_a_stage_energy_off_beside_a_large_one_is_refused(monkeypatch):
    """Node 1's stage energy off by 1e-7 eV (~1e-7 of its size; float64 allows 1e-9) beside
    a 1000 eV node: 1e-10 of the largest entry, which the old measure let through."""
    import ionmd.export.aoti as aoti

    meta = toy_metadata()
    exact = CoreStages()
    compiled = programs_of(CoreStages(delta=1e-7), meta.num_layers)
    monkeypatch.setattr(torch._inductor.package, "load_package",
                        lambda path, name: compiled[name])
    with pytest.raises(ExportError, match="'stage_1' disagrees with the eager stage"):
        aoti.check_stage_programs("unused.pt2", exact, meta.num_layers, meta)
    # the same stages as programs pass: the refusal is the energy's, not the setup's
    same = programs_of(CoreStages(), meta.num_layers)
    monkeypatch.setattr(torch._inductor.package, "load_package", lambda path, name: same[name])
    aoti.check_stage_programs("unused.pt2", exact, meta.num_layers, meta)


def test_a_stage_program_that_raises_removes_the_package(morse_pt2, monkeypatch, tmp_path):
    """The whole-model program passes its check, a stage program raises on a test graph:
    the package is removed and the error says why (it stayed on disk, the RuntimeError
    unexplained)."""
    import ionmd.export.aoti as aoti

    monkeypatch.setattr(aoti, "compile_program", lambda *args, **kwargs: [])
    monkeypatch.setattr(aoti, "stage_programs", lambda *args, **kwargs: {})
    monkeypatch.setattr(aoti, "package_programs",
                        lambda path, programs: shutil.copyfile(morse_pt2, path))

    def broken(*args):
        raise RuntimeError("shape mismatch in a compiled kernel")

    real_load = torch._inductor.package.load_package

    def load(path, name="model", *args, **kwargs):      # the whole-model program is real
        return real_load(path, name, *args, **kwargs) if name == "model" else broken

    monkeypatch.setattr(torch._inductor.package, "load_package", load)
    meta = toy_metadata()
    out = tmp_path / "staged.pt2"
    with pytest.raises(ExportError, match="fails on a test graph.*RuntimeError.*staged.pt2 "
                                          "was removed"):
        aoti.save_staged_aoti(MorseNodeEnergy(D0, ALPHA, R0, RC), CoreStages(),
                              meta.num_layers, out, meta)
    assert not out.exists()
