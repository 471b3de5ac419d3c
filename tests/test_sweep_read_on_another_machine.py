"""A campaign is run on the machine its resources name, but read anywhere: `ionmd sweep
status` and `collect` on a laptop with fewer cores (or no GPU) than the campaign's machine
were refused ("executor.cores = 64 but the CPUs this process may use are 2"), so its
results could not be collected off the cluster. Planning and submitting still check."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sweep_setup import campaign_dir, morse_model, write_campaign


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("elsewhere")
    folder = campaign_dir(tmp / "c", morse_model(tmp / "morse.pt"))
    more = 32 * len(os.sched_getaffinity(0))          # more cores than this process has
    return write_campaign(folder, executor=f'kind = "local"\ncores = {more}',
                          resources='ranks = 1\nwalltime = "0:10:00"\ngpus = 1'), more


def _sweep(*args, cwd):
    return subprocess.run([sys.executable, "-m", "ionmd.cli", "sweep", *args], cwd=cwd, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)


def test_plan_still_compares_the_resources_with_this_machine(campaign):
    path, more = campaign
    proc = _sweep("plan", str(path), cwd=path.parent)
    assert proc.returncode != 0
    assert f"executor.cores = {more}" in proc.stdout


@pytest.mark.parametrize("command", ["status", "collect"])
def test_status_and_collect_read_the_campaign_here(campaign, command):
    path, _ = campaign
    proc = _sweep(command, str(path), cwd=path.parent)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "executor.cores" not in proc.stdout and "GPU" not in proc.stdout
    if command == "status":
        assert "(of 2)" in proc.stdout            # 2 temperatures x 1 replica, none run


def test_ranks_beyond_this_machines_cores_without_executor_cores_are_read_here(campaign):
    """Without executor.cores the local executor's cores are this machine's: ranks = 2x them
    were refused by status and collect too ('each run needs ... but the local executor has
    2'); a campaign whose own executor.cores cannot hold a run is refused anywhere."""
    from ionmd.errors import IonmdError
    from ionmd.sweep import load_campaign

    path, _ = campaign
    ranks = 2 * len(os.sched_getaffinity(0))
    resources = f'ranks = {ranks}\nwalltime = "0:10:00"'
    unset = write_campaign(path.parent, name="unset", executor='kind = "local"',
                           resources=resources)
    assert load_campaign(unset, check_resources=False).resources.ranks == ranks
    with pytest.raises(IonmdError, match=f"needs ranks x threads = {ranks} x 1"):
        load_campaign(unset)
    short = write_campaign(path.parent, name="short", executor='kind = "local"\ncores = 1',
                           resources=resources)
    with pytest.raises(IonmdError, match="the local executor has 1;"):
        load_campaign(short, check_resources=False)
