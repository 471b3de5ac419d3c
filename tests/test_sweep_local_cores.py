"""The local executor's cores are checked against the cores this process may use (CPU
affinity: taskset, cgroups; a SLURM job's CPUs), not the machine's: under ``taskset -c 0``
a campaign with ``executor.cores = 2`` was accepted on a 2-CPU machine (os.cpu_count()),
and without ``executor.cores`` its default was the machine's count. The reference: what
``taskset`` leaves the process (one CPU), in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sweep_setup import campaign_dir, line_of, write_campaign

PROBE = """
import sys
from ionmd.sweep import load_campaign
from ionmd.errors import IonmdError
try:
    c = load_campaign(sys.argv[1])
except IonmdError as exc:
    print("REFUSED", exc)
else:
    print("LOADED", c.executor["cores"])
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    from protocol_setup import morse_model

    tmp = tmp_path_factory.mktemp("wire_cores")
    return campaign_dir(tmp / "c", morse_model(tmp / "morse.pt"))


def load_on_one_cpu(path, slurm: str | None = None) -> str:
    """``load_campaign`` in a process that may use CPU 0 only (or, with ``slurm``, all
    CPUs of a SLURM job with ``SLURM_CPUS_ON_NODE`` = slurm)."""
    env = dict(os.environ)
    cmd = [sys.executable, "-c", PROBE, str(path)]
    if slurm is None:
        cmd = ["taskset", "-c", "0"] + cmd
    else:
        env["SLURM_CPUS_ON_NODE"] = slurm
    return subprocess.run(cmd, text=True, capture_output=True, env=env, check=True,
                          cwd=path.parent).stdout


pytestmark = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2,
                                reason="needs 2 CPUs to leave the process 1")


def test_executor_cores_beyond_the_affinity_are_refused_on_their_line(folder):
    path = write_campaign(folder, name="two", executor='kind = "local"\ncores = 2')
    out = load_on_one_cpu(path)
    assert out.startswith("REFUSED"), out
    assert (f"line {line_of(path, 'cores = 2')}: executor.cores = 2 but the CPUs this "
            f"process may use are 1: lower executor.cores to 1") in out
    out = load_on_one_cpu(path, slurm="1")
    assert "executor.cores = 2 but the SLURM job's CPUs on this node" in out, out


def test_the_default_cores_are_the_available_ones(folder):
    path = write_campaign(folder, name="dflt", executor='kind = "local"')
    assert load_on_one_cpu(path).split() == ["LOADED", "1"]
    # a run of 2 threads does not fit them: said with where the 1 comes from
    path = write_campaign(folder, name="thr", executor='kind = "local"',
                          resources='ranks = 1\nthreads = 2\nwalltime = "0:10:00"')
    out = load_on_one_cpu(path)
    assert ("ranks x threads = 1 x 2 = 2 cores but the local executor has 1 (the CPUs this "
            "process may use; executor.cores not set); lower ranks or threads") in out, out
