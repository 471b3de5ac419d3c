"""The resource problems of a campaign are said in one go, each once: before, a wrong
``executor.cores`` hid the local GPU check (the missing GPU came up only once the cores were
fixed), a partition time limit ``sinfo`` printed in a form ionmd could not read skipped the
mem_gb and GPU checks against the partition, and ``partition = 5`` was said twice ("must be
a non-empty string", then "partition 5 does not exist").

References: torch's count of this machine's GPUs, the rows a fake ``sinfo`` on PATH prints
(as the other SLURM campaign tests), and the lines of the file."""

from __future__ import annotations

import pytest
import torch

from ionmd.sweep import CampaignError, load_campaign
from sweep_setup import line_of, write_campaign
from test_campaign_slurm_partition import fake_sinfo


def _problems(path) -> list[str]:
    with pytest.raises(CampaignError) as exc:
        load_campaign(path)
    return str(exc.value).splitlines()[1:]


def test_wrong_local_cores_do_not_hide_a_missing_gpu(folder):
    have = torch.cuda.device_count()
    path = write_campaign(folder, executor='kind = "local"\ncores = 0  # cores',
                          resources=f"ranks = 1\ngpus = {have + 1}  # gpus\nwalltime = 30")
    assert _problems(path) == [
        f"  {path}, line {line_of(path, '# gpus')}: each run asks for {have + 1} GPU(s) but "
        f"this machine has {have}; set gpus = 0",
        f"  {path}, line {line_of(path, '# cores')}: executor.cores must be an integer >= 1 "
        f"(got 0)"]


def test_an_unread_partition_time_limit_does_not_skip_the_memory_and_gpu_checks(
        folder, monkeypatch):
    fake_sinfo(folder, monkeypatch, ["cpu*|16|7-0x:00:00|(null)|64000"])
    path = write_campaign(folder, resources="ranks = 1\ngpus = 1  # gpus\nwalltime = 30",
                          executor='kind = "slurm"\npartition = "cpu"\nmem_gb = 100  # mem')
    assert _problems(path) == [
        f"  {path}, line {line_of(path, '# gpus')}: runs ask for 1 GPU(s) but partition "
        f"'cpu' has no GPU resources (gres '(null)')",
        f"  {path}, line {line_of(path, '# mem')}: mem_gb = 100 per run but the nodes of "
        f"partition 'cpu' have {64000 / 1024:.3g} GB (sinfo)"]


def test_a_partition_that_is_no_name_is_said_once(folder, monkeypatch):
    fake_sinfo(folder, monkeypatch, ["cpu*|16|1:00:00|(null)|64000"])
    path = write_campaign(folder, executor='kind = "slurm"\npartition = 5  # partition')
    assert _problems(path) == [
        f"  {path}, line {line_of(path, '# partition')}: partition must be a non-empty "
        f"string (got 5)"]
