"""Replicas run by hand in folders ``LiCl/600K/rep1``, ``LiCl/600K/rep2`` (no ``replica`` in
a run.json) were both recorded as replica 0: the replica folder was recognised for the
series name (LiCl) but its number dropped. The reference is the folder layout itself; a
run.json's own ``replica`` still wins, and a folder that names no replica stays replica 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import test_analysis_foreign_trajectories as foreign
from ionmd.analysis.run_spec import folder_replica, load_run_spec
from ionmd.cli import main


@pytest.mark.parametrize("folder, want", [
    ("LiCl/600K/rep1", 1), ("LiCl/600K/r0", 0), ("LiCl/600K/replica_2", 2),
    ("LiCl/T600/seed3", 3), ("LiCl/run-4/600K", 4), ("LiCl/600K", 0), ("LiCl", 0),
    ("rep7/LiCl/600K", 0),          # a folder above the structure's names no replica of it
])
def test_folder_replica_of_layouts(tmp_path, folder, want):
    assert folder_replica(tmp_path / folder) == want


def test_two_hand_replicas_are_named_apart(tmp_path, capsys):
    walks = [foreign._walk(seed, n_frames=60, n_li=8) for seed in (1000, 1001)]
    runs = []
    for k, w in zip((1, 2), walks):
        d = tmp_path / "LiCl" / "600K" / f"r{k}"
        d.parent.mkdir(parents=True, exist_ok=True)
        foreign._lammps_dir(d, 600, *w)
        meta = json.loads((d / "run.json").read_text())
        del meta["structure"]           # named by its folders, as a hand run is
        (d / "run.json").write_text(json.dumps({**meta, "discard_ps": 0.5}))
        runs.append(d)
    out = tmp_path / "out"
    assert main(["analyze", *map(str, runs), "-o", str(out), *foreign.POINT_IONS]) == 0
    printed = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    replicas = {Path(r["run"]).name: r["replica"] for r in summary["runs"]}
    assert replicas == {"r1": 1, "r2": 2}
    assert {r["structure"] for r in summary["runs"]} == {"LiCl"}
    assert "600K r1" in printed and "600K r2" in printed    # the printed short names
    # run.json's own replica wins over the folder's
    meta = json.loads((runs[0] / "run.json").read_text())
    (runs[0] / "run.json").write_text(json.dumps({**meta, "replica": 5}))
    assert load_run_spec(runs[0]).replica == 5 and load_run_spec(runs[1]).replica == 2
