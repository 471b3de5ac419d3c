"""A SLURM campaign where ``squeue`` / ``sinfo`` are missing or fail (a laptop, a login
node whose slurmctld is down): ``status`` reads the runs from their folders, asking squeue
only where a claim names a SLURM job, and says "queue unknown: <why>" on those runs;
``plan`` says that the partition went unchecked; ``submit`` stops before it writes anything.
Before, status refused the campaign (even one never submitted), plan was silent, and submit
wrote the run folders and only then failed.

Reference: a PATH holding only recording fakes of SLURM's commands (each call logged;
``squeue``/``sinfo`` exit 1 with slurmctld's message, or are left out), and the files on disk.
"""

from __future__ import annotations

import json

import pytest

from ionmd.cli import main
from ionmd.sweep import load_campaign, plan_campaign
from ionmd.sweep.state import new_token, write_claim
from sweep_setup import campaign_dir, write_campaign

DOWN = "slurm_load_jobs error: Unable to contact slurm controller (connect failure)"
FAKE = """#!/bin/sh
echo "${{0##*/}} $*" >> "{log}"
echo "{said}" >&2
exit 1
"""


def fake_path(root, monkeypatch, tools=("squeue", "sinfo", "sbatch", "srun")):
    """PATH = a folder of failing fakes of ``tools`` only; returns the call log."""
    bin_dir, log = root / "bin", root / "calls.log"
    bin_dir.mkdir()
    for tool in tools:
        script = bin_dir / tool
        script.write_text(FAKE.format(log=log, said=DOWN))
        script.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    return log


def calls(log) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


@pytest.fixture
def campaign(tmp_path, morse):
    path = write_campaign(campaign_dir(tmp_path / "camp", morse), name="q",
                          executor='kind = "slurm"\npartition = "gpu"')
    return path


def _status_rows(path, capsys) -> list[dict]:
    assert main(["sweep", "status", "--json", str(path)]) in (0, None), capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("tools", [("squeue",), ()], ids=["squeue-fails", "squeue-missing"])
def test_status_of_runs_never_submitted_asks_no_queue(campaign, tmp_path, monkeypatch, capsys,
                                                      tools):
    plan_campaign(load_campaign(campaign, check_resources=False), create=True)
    log = fake_path(tmp_path, monkeypatch, tools)
    rows = _status_rows(campaign, capsys)
    assert [r["class"] for r in rows] == ["pending", "pending"]
    assert [r["note"] for r in rows] == [None, None]
    assert calls(log) == []


@pytest.mark.parametrize("tools", [("squeue",), ()], ids=["squeue-fails", "squeue-missing"])
def test_status_of_a_submitted_run_says_queue_unknown(campaign, tmp_path, monkeypatch, capsys,
                                                      tools):
    runs = plan_campaign(load_campaign(campaign, check_resources=False), create=True)
    write_claim(runs[0].rundir, new_token(), "slurm", "4711_0")     # sbatch took it
    log = fake_path(tmp_path, monkeypatch, tools)
    rows = _status_rows(campaign, capsys)
    why = f"squeue failed (exit 1): {DOWN}" if tools else "`squeue` not found"
    assert rows[0]["job"] == "4711_0" and rows[0]["note"].startswith("queue unknown: ")
    assert why in rows[0]["note"] and "4711_0 may still be queued or running" in rows[0]["note"]
    assert rows[1]["note"] is None
    assert len([c for c in calls(log) if c.startswith("squeue")]) == (1 if tools else 0)


def test_plan_says_the_partition_went_unchecked(campaign, tmp_path, monkeypatch, capsys):
    log = fake_path(tmp_path, monkeypatch, ("sinfo", "squeue", "sbatch"))
    assert main(["sweep", "plan", str(campaign)]) in (0, None)
    err = capsys.readouterr().err
    assert f"sinfo failed (exit 1: {DOWN})" in err
    assert "partition 'gpu'" in err and "were not checked" in err
    assert any(c.startswith("sinfo") for c in calls(log))


@pytest.mark.parametrize("tools", [("squeue", "sbatch", "srun"), ("sbatch", "srun")],
                         ids=["squeue-fails", "squeue-missing"])
def test_submit_writes_nothing_when_the_queue_cannot_be_read(campaign, tmp_path, monkeypatch,
                                                             capsys, tools):
    fake_path(tmp_path, monkeypatch, tools)
    assert main(["sweep", "submit", str(campaign)]) not in (0, None)
    assert not (campaign.parent / "runs").exists()        # no run folder, claim or lock
    err = capsys.readouterr().err
    assert ("squeue failed (exit 1)" if "squeue" in tools else "`squeue` not found") in err
    assert "nothing was written" in err
