"""SevenNet's own ASE calculator, the independent reference of the pair-style tests.

``SevenNetCalculator`` runs float32 only: ``sevenn.util.dtype_correct`` casts every
input to float32 and ``OnehotEmbedding`` casts node features to float32. The float64
reference keeps SevenNet's own graph construction (``unlabeled_atoms_to_graph``),
network and force/stress output module and only lifts those two casts.
"""

from __future__ import annotations

import copy
import functools

import torch
from ase.calculators.calculator import Calculator, all_changes
from sevenn.atom_graph_data import AtomGraphData
from sevenn.calculator import SevenNetCalculator
from sevenn.model_build import build_E3_equivariant_model
from sevenn.train.dataload import unlabeled_atoms_to_graph
from sevenn.util import dtype_correct, load_checkpoint


def _onehot_in_default_dtype():
    import sevenn.nn.node_embedding as node_embedding

    original = node_embedding.OnehotEmbedding.forward
    if getattr(original, "_ionmd_patched", False):
        return

    def forward(self, data):
        data = original(self, data)
        data[self.key_output] = data[self.key_output].to(torch.get_default_dtype())
        if self.key_additional_output is not None:
            data[self.key_additional_output] = data[self.key_output]
        return data

    forward._ionmd_patched = True
    node_embedding.OnehotEmbedding.forward = forward


class SevenNetFloat64Calculator(SevenNetCalculator):
    """SevenNetCalculator evaluated entirely in float64."""

    def calculate(self, atoms=None, properties=None, system_changes=all_changes):
        Calculator.calculate(self, atoms, properties, system_changes)
        graph = unlabeled_atoms_to_graph(atoms, self.cutoff, with_shift=False)
        data = AtomGraphData(**{k: dtype_correct(v, float_dtype=torch.float64)
                                for k, v in graph.items()})
        if self.modal:
            data["data_modality"] = self.modal
        previous = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)
        try:
            self.results = self.output_to_results(self.model(data))
        finally:
            torch.set_default_dtype(previous)


@functools.lru_cache(maxsize=None)
def float64_model(checkpoint: str):
    """The checkpoint's network built natively in float64 (e3nn constants included).

    Only the learned values (parameters) come from the float32 checkpoint; its buffers
    (Wigner 3j, output masks) are the float64 construction's own, after checking that
    they agree with the checkpoint's to float32 precision.
    """
    _onehot_in_default_dtype()
    cp = load_checkpoint(checkpoint)
    net32 = cp.build_model()
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        model = build_E3_equivariant_model(copy.deepcopy(cp.config))
    finally:
        torch.set_default_dtype(previous)
    for name, value in model.named_buffers():
        torch.testing.assert_close(value.float(), net32.get_buffer(name), rtol=2e-7, atol=0)
    params = dict(net32.named_parameters())
    with torch.no_grad():
        for name, value in model.named_parameters():
            value.copy_(params[name].double())
    return model.eval()


def reference_calculator(checkpoint: str, dtype: str, modal: str | None = None) -> SevenNetCalculator:
    if dtype == "float32":
        return SevenNetCalculator(checkpoint, device="cpu", modal=modal)
    return SevenNetFloat64Calculator(float64_model(checkpoint), file_type="model_instance",
                                     device="cpu", modal=modal)
