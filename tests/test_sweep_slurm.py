"""The SLURM executor against a real single-node SLURM (Debian's slurmctld + slurmd +
munged, installed with apt-get when absent and started in a temp dir by
``slurm_cluster.py``): SevenNet-0 on an 8-atom LiCl cell at two temperatures (100 steps each), submitted
through submitit as one job array, each run started with ``srun lmp``; it completes,
a second submit has nothing to do, and ``collect`` builds the table."""

from __future__ import annotations

import json
import time

import pytest
from ase.build import bulk

from ionmd.cli import main
from ionmd.sweep import load_campaign, plan_campaign
from ionmd.sweep.state import read_claim
from slurm_cluster import start_cluster
from sweep_setup import write_campaign


@pytest.fixture(scope="module")
def slurm(tmp_path_factory, monkeypatch_module):
    t0 = time.time()
    cluster = start_cluster(tmp_path_factory.mktemp("slurm"))   # fails loudly if it cannot
    print(f"\nSLURM fixture: install {cluster.timings['install_s']:.1f} s, daemons up "
          f"{cluster.timings['start_s']:.1f} s, total {time.time() - t0:.1f} s")
    monkeypatch_module.setenv("SLURM_CONF", str(cluster.conf))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_campaign_through_slurm_job_array(tmp_path, slurm, sevennet0_f32):
    folder = tmp_path / "camp"
    folder.mkdir()
    bulk("LiCl", "rocksalt", a=5.14, cubic=True).write(folder / "LiCl.cif")
    (folder / "sn0.pt").symlink_to(sevennet0_f32)
    path = write_campaign(
        folder, name="slurmtest", structures='["LiCl.cif"]', models='["sn0.pt"]',
        protocol="conductivity-nvt", temperatures=(900, 1200), duration_ps=0.1, discard_ps=0.02, restart_every=50,
        executor='kind = "slurm"\nruns_per_job = 1\nlauncher = "srun"',
        resources='ranks = 1\nthreads = 1\nwalltime = "0:10:00"',
        analysis="charges = {Li = 1, Cl = -1}\nmcmc_samples = 20\nfit_start_ps = 0.01\n"
                 "window_ps = 0.05")
    t0 = time.time()
    assert main(["sweep", "submit", str(path), "--wait", "--no-progress"]) == 0
    elapsed = time.time() - t0
    runs = plan_campaign(load_campaign(path))
    arrays = set()
    for r in runs:
        st, claim = r.rundir.status, read_claim(r.rundir)
        assert st["state"] == "completed" and st["step"] == 100, st
        ran = claim["ran"]
        assert ran["command"][0] == "srun" and ran["command"][-1].endswith("lmp")
        assert ran["slurm_array"] == claim["job_id"]          # ran by the task it was given to
        arrays.add(claim["job_id"].split("_")[0])
    assert len(arrays) == 1                                  # one job array for the campaign
    print(f"SLURM campaign (2 runs x 100 steps of SevenNet-0 on 8 atoms): {elapsed:.1f} s")
    # idempotent: nothing left to submit
    assert main(["sweep", "submit", str(path), "--no-progress"]) == 0
    assert all(read_claim(r.rundir)["job_id"].split("_")[0] in arrays for r in runs)
    assert main(["sweep", "collect", str(path), "--no-progress"]) == 0
    rows = json.loads((folder / "runs" / "collect" / "results.json").read_text())["rows"]
    assert [(r["temperature_K"], r["replicas_done"]) for r in rows] == [(900.0, 1), (1200.0, 1)]
