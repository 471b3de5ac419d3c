"""A model file's metadata identifies it only where ionmd's exporters wrote it: a model saved
by hand may name any checkpoint (``source_sha256``) beside any weights. Two hand-saved
TorchScript models of weights 1.0 and 2.0 under one metadata were one identity (review
script r1.py): a run of one resumed with the other, and both were fitted as one series.

Reference: the two modules' energies differ (torch computes them), so one identity for
both is wrong; two exports of one checkpoint stay one model
(tests/test_model_identity.py::test_what_the_identity_holds)."""

from __future__ import annotations

import torch

from ionmd.export.contract import ModelMetadata, save_torchscript


class Scaled(torch.nn.Module):
    def __init__(self, w: float):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor(w))

    def forward(self, edge_vec, edge_index, species, nlocal: int):
        r = (edge_vec * edge_vec).sum(1)
        e = torch.zeros(species.shape[0], dtype=edge_vec.dtype).index_add(
            0, edge_index[0], self.w * r)
        return e[:nlocal]


def _meta(family: str) -> ModelMetadata:
    return ModelMetadata(family=family, cutoff=5.0, num_layers=1, elements=["Li"],
                         dtype="float32", source="my.ckpt", source_sha256="a" * 64)


def test_hand_saved_models_of_other_weights_are_two_models(tmp_path):
    """r1.py: one metadata naming a checkpoint, weights 1.0 and 2.0: two identities."""
    from ionmd.export.model_identity import model_identity

    paths = [save_torchscript(torch.jit.script(Scaled(w)), tmp_path / f"{w}.pt", _meta("morse"))
             for w in (1.0, 2.0)]
    vec = torch.tensor([[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]])
    idx, sp = torch.tensor([[0, 1], [1, 0]]), torch.tensor([0, 0])
    e = [torch.jit.load(str(p))(vec, idx, sp, 2) for p in paths]
    assert not torch.equal(e[0], e[1])          # two potentials
    assert model_identity(paths[0]) != model_identity(paths[1])
    again = save_torchscript(torch.jit.script(Scaled(1.0)), tmp_path / "again.pt",
                             _meta("morse"))    # a second save of the first: one model
    assert model_identity(again) == model_identity(paths[0])


def test_only_ionmd_exports_are_identified_by_metadata():
    from ionmd.export.model_identity import exported_by_ionmd

    ok = {"family": "mace", "exporter": "ionmd 0.1.0", "source_sha256": "a" * 64}
    assert exported_by_ionmd(ok)
    for change in ({"family": "morse"}, {"exporter": "someone 1.0"}, {"source_sha256": ""}):
        assert not exported_by_ionmd({**ok, **change}), change
    assert not exported_by_ionmd({k: v for k, v in ok.items() if k != "exporter"})
