"""A run.json ``replica`` the analysis cannot use is refused with what deleting the key
gives. Since hand runs read their replica from the folder (``LiCl/600K/rep2`` -> 2, 05d821a)
that is the folder's number, not replica 0, which the refusal still said. The reference is
the analysis itself: the replica load_run_spec reads once the key is deleted."""

from __future__ import annotations

import json

import pytest

import test_analysis_foreign_trajectories as foreign
from ionmd.analysis.run_spec import load_run_spec
from ionmd.errors import AnalysisError


@pytest.mark.parametrize("folder", ["rep2", "r0"])
def test_the_refusal_says_what_deleting_replica_gives(tmp_path, folder):
    d = tmp_path / "LiCl" / "600K" / folder
    d.parent.mkdir(parents=True)
    foreign._lammps_dir(d, 600, *foreign._walk(1000, n_frames=20, n_li=4))
    meta = json.loads((d / "run.json").read_text())
    (d / "run.json").write_text(json.dumps({**meta, "replica": "2"}))
    with pytest.raises(AnalysisError, match="delete the key") as refused:
        load_run_spec(d)
    said = str(refused.value).split("delete the key", 1)[1]
    (d / "run.json").write_text(json.dumps(meta))       # the key deleted
    replica = load_run_spec(d).replica
    assert replica == {"rep2": 2, "r0": 0}[folder]
    if replica:             # not 'for replica 0', which deleting does not give
        assert "for replica 0" not in said and "folder" in said
    else:
        assert "replica 0" in said
