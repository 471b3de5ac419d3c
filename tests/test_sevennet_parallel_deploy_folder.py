"""`ionmd export sevennet` given the folder `sevenn get_model -p` writes (deployed_parallel_0.pt
...; its files are refused one by one as e3gnn/parallel deploys) said 'is a directory: give
the checkpoint file in it (checkpoint_best.pth of sevenn train)', pointing into a folder that
holds none (audit A29); it now names the parallel deploy and the checkpoint to export."""

import pytest

from ionmd.errors import ExportError
from ionmd.export import export_sevennet


def test_parallel_deploy_folder_is_named(tmp_path):
    folder = tmp_path / "deployed_parallel"
    folder.mkdir()
    for k in range(2):
        (folder / f"deployed_parallel_{k}.pt").write_bytes(b"")
    with pytest.raises(ExportError, match=r"parallel deploy.*sevenn get_model -p.*checkpoint"):
        export_sevennet(folder, tmp_path / "m.pt")
    assert not (tmp_path / "m.pt").exists()
