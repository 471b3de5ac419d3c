"""A SLURM partition of nodes of several sizes: ``sinfo`` groups them into one row and
writes the smallest node's CPUs and memory with a '+' ("2+", "1+", sinfo(1): --exact), which
campaign validation read as the partition's largest node, so a campaign asking for more
cores or memory than the smallest node has was refused though a node of the partition has
them (here: ranks 8 and mem_gb 8 refused, "the nodes of partition 'debug' have 2", "declare
no memory", beside a 64-CPU, 250 GB node). sinfo is now asked for a row per node
configuration.

Reference: a real SLURM (tests/slurm_cluster.py) whose partition holds the test node (its
CPUs, no RealMemory: 1 MB) and a second node of 64 CPUs and 256000 MB, as ``sinfo -N``
lists them; a request beyond the largest node is still refused."""

from __future__ import annotations

import subprocess

import pytest

import slurm_cluster
from ionmd.sweep import CampaignError, load_campaign
from sweep_setup import campaign_dir, write_campaign

BIG_NODE = "NodeName=big NodeAddr=127.0.0.2 CPUs=64 RealMemory=256000 State=IDLE\n"


@pytest.fixture(scope="module")
def mixed_partition(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setattr(slurm_cluster, "SLURM_CONF", slurm_cluster.SLURM_CONF.replace(
        "PartitionName=debug Nodes={node} ", BIG_NODE + "PartitionName=debug Nodes={node},big "))
    try:
        with slurm_cluster.running_cluster(tmp_path_factory.mktemp("slurm")) as cluster:
            yield cluster
    finally:
        mp.undo()


def _campaign(tmp_path, morse, executor, resources):
    folder = campaign_dir(tmp_path / "camp", morse)
    return write_campaign(folder, executor=executor, resources=resources)


def test_the_largest_node_of_the_partition_counts(mixed_partition, tmp_path, morse):
    nodes = subprocess.run(["sinfo", "--noheader", "-N", "--format=%N|%c|%m"],
                           capture_output=True, text=True, check=True).stdout.split()
    assert "big|64|256000" in nodes and f"{mixed_partition.node}|{mixed_partition.cpus}|1" in nodes
    path = _campaign(tmp_path, morse, 'kind = "slurm"\nmem_gb = 8',
                     'ranks = 8\nwalltime = "0:10:00"')
    load_campaign(path)               # was CampaignError: ranks (have 2), mem_gb (1 MB)


def test_more_than_the_largest_node_is_still_refused(mixed_partition, tmp_path, morse):
    path = _campaign(tmp_path, morse, 'kind = "slurm"\nmem_gb = 300',
                     'ranks = 65\nwalltime = "0:10:00"')
    with pytest.raises(CampaignError) as exc:
        load_campaign(path)
    err = str(exc.value)
    assert "the nodes of partition 'debug' have 64" in err, err
    assert "mem_gb = 300 per run but the nodes of partition 'debug' have 250 GB" in err, err
