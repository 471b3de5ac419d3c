"""Edges of the ``damaged`` class (tests/test_sweep_damaged_run.py has its main cases):
one unreadable file still stopped a whole command, or was said of the wrong runs.

- a copy of a run folder cut short (``cp -r r0 r0.bak`` interrupted), at a place the
  campaign does not plan: ``collect`` stopped at its settings.json over every run;
- a run whose LAMMPS still holds its lock and whose claim is unreadable: ``submit``
  stopped at the claim over every run (``status`` showed it ``running``);
- a finished run whose claim is unreadable is no damaged run (its result stands), yet
  ``submit`` listed it among the runs "that cannot be read";
- an unreadable claim was told to "move the run folder away to run it again" (a
  resumable run's progress, thrown away) beside "remove it".

References: ``collect`` of the same campaign without the cut copy, ``classify``'s own
classes (``Submission.before``), the files as written."""

from __future__ import annotations

import fcntl
import json
import os
import shutil

from ionmd.cli import main
from ionmd.sweep import load_campaign
from ionmd.sweep.plan import plan_campaign
from sweep_setup import campaign_dir, write_campaign
import test_collect_other_runs

done = test_collect_other_runs.done         # a finished campaign of two runs (a fixture)

CUT = '{"state": "compl'


def _local_campaign(tmp_path, morse, temperatures):
    path = write_campaign(campaign_dir(tmp_path / "c", morse), temperatures=temperatures,
                          executor='kind = "local"\ncores = 1')
    return path, plan_campaign(load_campaign(path), create=True)


def _stand_in(monkeypatch) -> list:
    """The worker's execution replaced by one that completes the run: the paths it ran."""
    import ionmd.sweep.worker as worker_mod

    ran = []

    def execute(rd, **kw):
        ran.append(rd.path)
        return rd.set_status("completed", step=rd.planned_steps)

    monkeypatch.setattr(worker_mod, "execute", execute)
    return ran


def test_collect_names_a_cut_copy_apart_and_tables_the_runs(done, capsys, tmp_path):
    path, runs = done
    capsys.readouterr()
    assert main(["sweep", "collect", str(path), "--no-progress", "-o", str(tmp_path / "a")]) == 0
    without = json.loads((tmp_path / "a" / "results.json").read_text())
    copy = runs[0].path.parent / "r0.bak"
    shutil.copytree(runs[0].path, copy)
    (copy / "settings.json").write_text('{"protocol": ')        # the copy interrupted
    capsys.readouterr()
    code = main(["sweep", "collect", str(path), "--no-progress", "-o", str(tmp_path / "b")])
    err = capsys.readouterr().err
    doc = json.loads((tmp_path / "b" / "results.json").read_text())
    assert code == 0, err
    assert doc["rows"] == without["rows"] and doc["structures"] == without["structures"]
    (apart,) = doc["not_in_campaign"]
    assert apart["run"] == str(copy) and apart["class"] == "damaged"
    assert str(copy / "settings.json") in apart["why"] and "is not JSON" in apart["why"]
    assert "T600K/r0.bak (damaged)" in err
    assert (copy / "settings.json").read_text() == '{"protocol": '          # kept


def test_submit_leaves_a_running_run_with_an_unreadable_claim_alone(tmp_path, morse,
                                                                   monkeypatch):
    from ionmd.cli.sweep import _held_by_others
    from ionmd.sweep.state import classify
    from ionmd.sweep.submit import submit

    path, runs = _local_campaign(tmp_path, morse, (600, 700))
    held, other = runs
    held.rundir.set_status("running", pid=os.getpid())       # its LAMMPS: this process
    (held.path / "sweep.json").write_text("[1]")
    fd = os.open(held.path / ".lmp.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)                        # held as lockrun holds it
        assert classify(held.rundir) == "running"
        ran = _stand_in(monkeypatch)
        c = load_campaign(path)
        sub = submit(c, progress=False)
        assert ran == [other.path] and sub.submitted == [str(other.path)]
        assert (held.path / "sweep.json").read_text() == "[1]"        # not claimed over
        assert held.rundir.status["state"] == "running"
        (said,) = _held_by_others(c)             # what the local submit's wait names
        assert said.startswith(f"{held.path} (running: its LAMMPS, pid {os.getpid()}")
    finally:
        os.close(fd)


def test_submit_says_damaged_only_of_the_runs_classed_damaged(tmp_path, morse, monkeypatch):
    from ionmd.sweep.submit import submit

    path, runs = _local_campaign(tmp_path, morse, (600, 700, 800))
    cut, finished, todo = runs
    (cut.path / "status.json").write_text(CUT)
    finished.rundir.set_status("completed", step=finished.rundir.planned_steps)
    (finished.path / "sweep.json").write_text("[1]")          # its result stands
    ran = _stand_in(monkeypatch)
    sub = submit(load_campaign(path), progress=False)
    assert ran == [todo.path]
    assert sub.before["damaged"] == 1 and sub.before["completed"] == 1
    assert len(sub.damaged) == 1 and sub.damaged[0].startswith(f"{cut.path}: ")


def test_an_unreadable_claim_is_told_to_be_removed_not_the_run_folder(done, capsys):
    path, runs = done
    damaged, _ = runs
    damaged.rundir.set_status("interrupted", resumable=True)     # progress worth keeping
    (damaged.path / "sweep.json").write_text('{"token": ')
    capsys.readouterr()
    assert main(["sweep", "status", str(path), "--json"]) == 1
    rows = {r["run"]: r for r in json.loads(capsys.readouterr().out)}
    reason = rows[str(damaged.path)]["reason"]
    assert rows[str(damaged.path)]["class"] == "damaged"
    assert reason.startswith(f"{damaged.path / 'sweep.json'} is no JSON object (")
    assert "remove it" in reason and "move the run folder away" not in reason
    assert (damaged.path / "sweep.json").read_text() == '{"token": '
