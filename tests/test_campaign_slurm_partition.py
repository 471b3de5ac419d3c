"""A SLURM campaign's resources against the partition as ``sinfo`` describes it: sinfo
gives one row per kind of node, and a partition of CPU-only and GPU nodes holds GPU runs
(the rows written to a fake sinfo on PATH are the reference)."""

from __future__ import annotations

import os
import stat

import pytest

from ionmd.sweep import CampaignError, load_campaign
from sweep_setup import line_of, write_campaign


def fake_sinfo(folder, monkeypatch, rows: list[str]) -> None:
    """An ``sinfo`` on PATH that prints ``rows`` (``%P|%c|%l|%G|%m``), as a cluster's."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    sinfo = bin_dir / "sinfo"
    sinfo.write_text("#!/bin/sh\n" + "".join(f"echo '{row}'\n" for row in rows))
    sinfo.chmod(sinfo.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def gpu_campaign(folder):
    return write_campaign(folder, resources="ranks = 1\ngpus = 1  # gpus\nwalltime = 30",
                          executor='kind = "slurm"\npartition = "mixed"')


def test_gpu_runs_fit_a_partition_whose_gpu_nodes_sinfo_lists_second(folder, monkeypatch):
    fake_sinfo(folder, monkeypatch, ["mixed*|16|1:00:00|(null)|64000",
                                     "mixed*|32|1:00:00|gpu:a100:4|256000"])
    # before: only the first row's gres was read ("has no GPU resources (gres '(null)')")
    assert load_campaign(gpu_campaign(folder)).resources.gpus == 1


def test_gpu_runs_are_refused_where_no_node_of_the_partition_has_gpus(folder, monkeypatch):
    fake_sinfo(folder, monkeypatch, ["mixed*|16|1:00:00|(null)|64000",
                                     "mixed*|32|1:00:00|shard:8|256000"])
    path = gpu_campaign(folder)
    with pytest.raises(CampaignError) as exc:
        load_campaign(path)
    assert str(exc.value).splitlines()[1:] == [
        f"  {path}, line {line_of(path, '# gpus')}: runs ask for 1 GPU(s) but partition "
        f"'mixed' has no GPU resources (gres '(null), shard:8')"]
