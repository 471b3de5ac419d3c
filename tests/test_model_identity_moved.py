"""Run folders written before model identities (``model_hash``: the model file's sha256)
are one series with later runs of the same file also once the file is moved: the later
runs record that digest as ``model_file_hash`` in ``settings.json``. Before (review script
r4.py), a moved file split them: ``fcc/morse@39708b60`` (600, 800 K) and ``@e81cb47a``
(1000 K alone, no fit). The survival curves stay keyed by the series' name.

Reference: the runs are Brownian Li of one known Arrhenius D (``sweep_setup.brownian_run``)
made with one model file (hashlib's digest of its bytes): one series of three temperatures."""

from __future__ import annotations

import json

from test_model_identity import digest, old_folders_and_a_new_run, series


def test_old_folders_and_new_runs_of_a_moved_file_are_one_series(morse, tmp_path):
    model, out, old, new = old_folders_and_a_new_run(morse, tmp_path)
    assert json.loads((new.path / "settings.json").read_text())["model_file_hash"] == \
        digest(model)
    model.rename(tmp_path / "moved.pt")     # the old folders' recorded path is gone
    folders = [rd.path for rd in old] + [new.path]
    assert series(folders, tmp_path / "an") == {"fcc": [1, 1, 1]}
    summary = json.loads((tmp_path / "an" / "summary.json").read_text())
    # one series (curves per temperature), all three runs
    assert {c["series"] for c in summary["survival"].values()} == {"fcc"}
    assert sum(len(c["censored_ps"]) for c in summary["survival"].values()) == 3
    assert summary["series"]["fcc"]["model_hash"] == \
        json.loads((new.path / "run.json").read_text())["model_hash"]
