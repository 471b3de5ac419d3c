"""One run whose ``status.json`` (or claim) is damaged (cut short by an interrupted copy,
edited by hand) no longer hides the rest of the campaign: ``sweep status`` shows every
other run as usual and that one as ``damaged`` with which file and what to do, then
exits 1; ``collect`` tables the others and counts the damaged run as no result; a goal's
series waits on it, naming it, without a traceback. Before, each stopped over the whole
campaign at the first damaged file (status and collect with its message and nothing
else, the goal's round with it).

References: the file as written (kept), ``status`` and ``collect`` of the same campaign
with the damaged run's folder moved away (what the other runs are without it), and
``RunDir.read_json``'s own refusal of the file."""

from __future__ import annotations

import json
import shutil

import pytest

import test_collect_other_runs
from ionmd.cli import main

done = test_collect_other_runs.done         # a finished campaign of two runs (a fixture)

CUT = '{"state": "compl'


def _run(capsys, *args) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["sweep", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _refusal(rd, name: str) -> str:
    """What ionmd's own read of the file says of it (the message each command shows)."""
    with pytest.raises(ValueError) as info:
        rd.read_json(name)
    return str(info.value)


def test_status_shows_the_other_runs_and_names_the_damaged_one(done, capsys, tmp_path):
    path, runs = done
    damaged, other = runs
    # the other run's line as status prints it with the damaged run's folder away
    away = tmp_path / "away"
    shutil.move(damaged.path, away)
    code, out, _ = _run(capsys, "status", str(path))
    assert code == 0
    (expected,) = [line for line in out.splitlines() if line.endswith(str(other.path))]
    shutil.move(away, damaged.path)
    (damaged.path / "status.json").write_text(CUT)
    said = _refusal(damaged.rundir, "status.json")
    assert str(damaged.path / "status.json") in said and "restore it from a copy" in said

    code, out, err = _run(capsys, "status", str(path))
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "1 completed, 1 damaged (of 2)"
    assert expected in lines                                # shown as usual
    (row,) = [line for line in lines if line.endswith(str(damaged.path))]
    assert row.split()[:4] == ["damaged", "?", "?", "?"]
    assert lines[lines.index(row) + 1].strip() == said      # what is wrong, which file
    assert said in err and err.startswith("ionmd: error: 1 run(s) cannot be read")
    assert (damaged.path / "status.json").read_text() == CUT    # kept as it was

    code, out, _ = _run(capsys, "status", str(path), "--json")
    assert code == 1
    rows = {r["run"]: r for r in json.loads(out)}
    assert rows[str(damaged.path)]["class"] == "damaged"
    assert rows[str(damaged.path)]["reason"] == said
    assert rows[str(other.path)]["class"] == "completed"


def test_collect_tables_the_others_and_counts_the_damaged_run_as_no_result(done, capsys,
                                                                           tmp_path):
    path, runs = done
    damaged, other = runs
    away = tmp_path / "away"
    shutil.move(damaged.path, away)
    code, _, _ = _run(capsys, "collect", str(path), "--no-progress", "-o", str(tmp_path / "a"))
    without = json.loads((tmp_path / "a" / "results.json").read_text())
    shutil.move(away, damaged.path)
    (damaged.path / "status.json").write_text(CUT)
    said = _refusal(damaged.rundir, "status.json")

    code, out, err = _run(capsys, "collect", str(path), "--no-progress", "-o",
                          str(tmp_path / "b"))
    doc = json.loads((tmp_path / "b" / "results.json").read_text())
    assert code == 1 and said in err
    assert doc["classes"] == {"completed": 1, "damaged": 1} and not doc["complete"]
    entry = {r["run"]: r for r in doc["runs"]}[str(damaged.path)]
    assert entry["class"] == "damaged" and entry["why"] == said
    rows = {r["temperature_K"]: r for r in doc["rows"]}
    assert rows[damaged.temperature]["replicas_done"] == 0        # no result
    assert "D_Li" not in rows[damaged.temperature]
    # the other run's row is what it is without the damaged run's folder
    (alone,) = [r for r in without["rows"] if r["temperature_K"] == other.temperature]
    assert rows[other.temperature] == alone
    assert f"{other.temperature:g} K: 1/1 done" in out


def test_a_damaged_claim_of_a_pending_run_is_shown_among_the_others(done, capsys):
    path, runs = done
    damaged, other = runs
    damaged.rundir.set_status("pending")
    (damaged.path / "sweep.json").write_text("[1]")
    code, out, err = _run(capsys, "status", str(path))
    assert code == 1
    (row,) = [line for line in out.splitlines() if line.endswith(str(damaged.path))]
    assert row.startswith("damaged")
    assert f"{damaged.path / 'sweep.json'} is no JSON object" in err
    assert any(line.startswith("completed") and line.endswith(str(other.path))
               for line in out.splitlines())


def test_a_goal_waits_on_a_damaged_run_naming_it(tmp_path, morse, monkeypatch):
    """600 and 700 K completed (their analyses stand-ins), 900 K's status.json cut short:
    the series waits, naming the file and what to do, counting nothing of it; before, its
    round stopped with the refusal of the file."""
    import ionmd.sweep.allocate as allocate_mod
    import ionmd.sweep.collect as collect_mod
    import ionmd.sweep.goal as goal_mod
    from ionmd.sweep import load_campaign
    from ionmd.sweep.plan import plan_campaign
    from sweep_setup import campaign_dir, write_campaign
    from test_goal_collect_points import results

    c = load_campaign(write_campaign(
        campaign_dir(tmp_path / "c", morse), temperatures=(600, 700, 900),
        extra='goal = {sigma_300K_factor = 2, budget = "100 h", step = "1ps"}'))
    runs = plan_campaign(c, create=True)
    for run in runs[:2]:
        run.rundir.set_status("completed", step=500)
    (runs[2].path / "status.json").write_text(CUT)
    said = _refusal(runs[2].rundir, "status.json")
    read = []

    def cached(run, campaign, charges, jobs=None):
        read.append(run.temperature)
        return {"class": "completed", "run": str(run.path), "replica": run.replica,
                "status": {}, **results(float(run.temperature))}

    monkeypatch.setattr(collect_mod, "cached_run_results", cached)
    monkeypatch.setattr(allocate_mod, "cost_per_ps_from_logs", lambda *a, **k: 1e-3)
    r = goal_mod.advance_series(c, "fcc", "morse")
    assert r.state == "waiting", r
    assert r.detail == f"{runs[2].path} is damaged: {said}", r.detail
    assert 900.0 not in read                    # no result read of it
    measured, _ = goal_mod.measure(c, runs)
    assert sorted(m.temperature_K for m in measured) == [600.0, 700.0]


@pytest.mark.parametrize("edit", ["cut", "keys"])
def test_a_damaged_settings_file_is_one_damaged_run(done, capsys, tmp_path, edit):
    """settings.json cut short, or valid JSON without a run's keys: that run is damaged,
    the other shown and collected as usual; before, status and collect stopped at it
    (a KeyError traceback for the second). ``submit`` then leaves the file as it is."""
    path, runs = done
    damaged, other = runs
    settings = damaged.path / "settings.json"
    text = ('{"protocol": ' if edit == "cut" else
            json.dumps({k: v for k, v in json.loads(settings.read_text()).items()
                        if k != "replica"}))
    settings.write_text(text)
    with pytest.raises(ValueError) as info:     # ionmd's own refusal of the folder
        type(damaged.rundir).open(damaged.path)
    said = str(info.value)

    code, out, err = _run(capsys, "status", str(path))
    assert code == 1 and said in err
    assert out.splitlines()[0] == "1 completed, 1 damaged (of 2)"
    (row,) = [line for line in out.splitlines() if line.endswith(str(damaged.path))]
    assert row.startswith("damaged")

    code, out, err = _run(capsys, "collect", str(path), "--no-progress", "-o",
                          str(tmp_path / "t"))
    doc = json.loads((tmp_path / "t" / "results.json").read_text())
    assert code == 1 and said in err
    assert doc["classes"] == {"completed": 1, "damaged": 1}
    rows = {r["temperature_K"]: r for r in doc["rows"]}
    assert rows[damaged.temperature]["replicas_done"] == 0
    assert rows[other.temperature]["replicas_done"] == 1
    assert settings.read_text() == text                 # kept

    from ionmd.sweep import load_campaign
    from ionmd.sweep.plan import plan_campaign
    from ionmd.sweep.state import classify

    planned = plan_campaign(load_campaign(path), create=True)    # as submit plans
    assert [classify(r.rundir) for r in planned] == ["damaged", "completed"]
    assert settings.read_text() == text                 # not written over


def test_submit_hands_out_the_others_and_leaves_the_damaged_run_alone(tmp_path, morse,
                                                                      monkeypatch, capsys):
    """Three local runs, the first's status.json cut short: the other two run (their
    execution a stand-in that completes them), the damaged one is neither run nor
    written, and submit says so and exits 1; before, submit stopped over all three."""
    import ionmd.sweep.worker as worker_mod
    from ionmd.sweep import load_campaign
    from ionmd.sweep.plan import plan_campaign
    from sweep_setup import campaign_dir, write_campaign

    path = write_campaign(campaign_dir(tmp_path / "c", morse), temperatures=(600, 700, 800),
                          executor='kind = "local"\ncores = 1')
    runs = plan_campaign(load_campaign(path), create=True)
    (runs[0].path / "status.json").write_text(CUT)
    said = _refusal(runs[0].rundir, "status.json")
    ran = []

    def execute(rd, **kw):
        ran.append(rd.path)
        return rd.set_status("completed", step=rd.planned_steps)

    monkeypatch.setattr(worker_mod, "execute", execute)
    code, out, err = _run(capsys, "submit", str(path), "--no-progress")
    assert code == 1
    assert sorted(ran) == sorted(r.path for r in runs[1:])
    assert "1 run(s) cannot be read and were left alone" in err and said in err
    assert (runs[0].path / "status.json").read_text() == CUT
    assert not (runs[0].path / "sweep.json").exists()           # not claimed
