"""The exporter-side check of per-layer stages (ionmd.export.staged): a correct split
passes, a wrong one is refused before a file is written."""

import pytest
import torch

from contract_models import ToyMessagePassing

from ionmd.errors import ExportError
from ionmd.export.staged import check_stages, random_graphs, stage_metadata


class DropsAtomicEnergies(ToyMessagePassing):
    """A split that forgets the per-species constant of stage 1."""

    @torch.jit.export
    def halo_stage(self, k: int, h: torch.Tensor, edge_vec: torch.Tensor,
                   edge_index: torch.Tensor, species: torch.Tensor, nlocal: int):
        h_next, energy = super().halo_stage(k, h, edge_vec, edge_index, species, nlocal)
        if k == 1:
            energy = energy - self.e0[species[:nlocal]]
        return h_next, energy


def test_correct_split_passes_and_reports_widths():
    model = ToyMessagePassing(3.6, widths=(3, 5, 4, 2))
    widths = check_stages(model, random_graphs(2, 3.6, torch.float64), 3, rtol=1e-13)
    assert widths == [3, 5, 4]
    assert stage_metadata(widths) == {"halo_stages": "3", "halo_widths": "3 5 4"}


def test_wrong_split_is_refused():
    model = DropsAtomicEnergies(3.6)
    with pytest.raises(ExportError, match="stages of the export disagree with its forward"):
        check_stages(model, random_graphs(2, 3.6, torch.float64), 3, rtol=1e-10)


def test_stage_metadata_needs_widths():
    with pytest.raises(ExportError, match="one positive feature width per stage"):
        stage_metadata([])


class UsesGhostMessages(ToyMessagePassing):
    """A split that sizes its messages by all nodes and lets ghost rows leak into the
    local ones (a stage that is only right when every node is local)."""

    @torch.jit.export
    def halo_stage(self, k: int, h: torch.Tensor, edge_vec: torch.Tensor,
                   edge_index: torch.Tensor, species: torch.Tensor, nlocal: int):
        h_next, energy = super().halo_stage(k, h, edge_vec, edge_index, species, nlocal)
        return h_next, energy + h[nlocal:].sum() / max(1, nlocal)


def test_stage_that_reads_ghost_rows_is_refused():
    model = UsesGhostMessages(3.6)
    with pytest.raises(ExportError, match="stages of the export disagree"):
        check_stages(model, random_graphs(2, 3.6, torch.float64), 3, rtol=1e-10)
