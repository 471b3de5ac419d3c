"""One MSD fit start for a campaign's stopping rule and its collect, and a collect in
which no run could be analysed failing."""

from __future__ import annotations

import json

import pytest

from ionmd.cli import main
from ionmd.errors import IonmdError
from ionmd.sweep import load_campaign, plan_campaign
from sweep_setup import brownian_run, campaign_dir, line_of, write_campaign

ANALYSIS = ("charges = {{Li = 1, Cl = -1}}\nfit_start_ps = {start}\nwindow_ps = 0.2\n"
            "collapse_fraction = 0.01")
UNTIL = '[protocol]\nuntil = "D_rel_ci<=0.2"\ncheck_every = "0.1ps"\n'


@pytest.fixture(scope="module")
def folder(tmp_path_factory, morse):
    return campaign_dir(tmp_path_factory.mktemp("fitwin"), morse)


def campaign(folder, name, start, until=False, protocol_start=None):
    path = write_campaign(folder, name=name, analysis=ANALYSIS.format(start=start),
                          duration_ps=0.5, discard_ps=0.1)
    text = path.read_text()
    if until:
        text = text.replace("[protocol]\n", UNTIL)
    if protocol_start is not None:
        text = text.replace("[protocol]\n", f"[protocol]\nfit_start_ps = {protocol_start}\n")
    path.write_text(text)
    return path


def test_until_fit_start_contradiction_names_both_lines(folder):
    path = campaign(folder, "until2", 0.1, until=True, protocol_start=0.05)
    with pytest.raises(IonmdError) as exc:
        load_campaign(path)
    msg = str(exc.value)
    assert f"line {line_of(path, 'fit_start_ps = 0.1')}" in msg
    assert f"line {line_of(path, 'fit_start_ps = 0.05')}" in msg


def test_until_default_protocol_fit_start_against_analysis_refused(folder):
    with pytest.raises(IonmdError, match="default fit_start_ps 1"):
        load_campaign(campaign(folder, "until1", 0.1, until=True))


def test_until_one_fit_start_from_the_protocol(folder):
    """[analysis] without fit_start_ps takes the protocol's: the rule's fit is collect's."""
    c = load_campaign(campaign(folder, "until3", 0.1, until=True, protocol_start=0.1))
    assert c.analysis.fit_start_ps == c.protocol.fit_start_ps == 0.1
    path = write_campaign(folder, name="until4", analysis="charges = {Li = 1, Cl = -1}",
                          duration_ps=0.5, discard_ps=0.1)
    path.write_text(path.read_text().replace("[protocol]\n",
                                             UNTIL + "fit_start_ps = 0.07\n"))
    c = load_campaign(path)
    assert c.analysis.fit_start_ps == c.protocol.fit_start_ps == 0.07


@pytest.fixture(scope="module")
def short_runs(tmp_path_factory, morse):
    """A campaign (fit from 0.15 ps: before the planned 0.2 ps fit end) whose two runs left
    only 0.2 ps after their discard (Brownian trajectories, run.json's discard moved):
    the analysis' fit end is 0.1 ps."""
    folder = campaign_dir(tmp_path_factory.mktemp("short"), morse)
    path = campaign(folder, "short", 0.15)
    runs = plan_campaign(load_campaign(path), create=True)
    for k, run in enumerate(runs):
        brownian_run(run.rundir, run.temperature, k, 0.2, 1.0)
        meta = run.rundir.read_json("run.json")
        meta["discard_ps"] = 29.7           # the 300 frames of 0.1 ps end at 29.9 ps
        run.rundir.write_json("run.json", meta)
    return path, runs


def test_collect_fails_when_no_run_could_be_analysed(short_runs, capsys):
    path, _ = short_runs
    assert main(["sweep", "collect", str(path), "--no-progress"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert "no run could be analysed" in err[-1] and "all 2 finished runs" in err[-1]
    doc = json.loads((path.parent / "runs" / "collect" / "results.json").read_text())
    assert len(doc["runs"]) == 2            # the tables are written all the same


def test_collect_succeeds_when_one_run_is_analysed(short_runs):
    path, runs = short_runs
    meta = runs[0].rundir.read_json("run.json")
    meta["discard_ps"] = 2.0
    runs[0].rundir.write_json("run.json", meta)
    (runs[0].rundir.path / "analysis" / "sweep_collect.json").unlink()   # analysed anew
    assert main(["sweep", "collect", str(path), "--no-progress"]) == 0
