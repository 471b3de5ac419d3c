"""A campaign's MSD fit window checked when the file is read (the fit end of the longest
run the protocol may write, by the analysis' own rule), one MSD fit start for a campaign's
stopping rule and its collect, and a collect in which no run could be analysed failing."""

from __future__ import annotations

import json

import numpy as np
import pytest

import synthetic_trajectories as st
from ionmd.analysis.conductivity import collective_conductivity
from ionmd.analysis.diffusion import diffusion, fit_end_of
from ionmd.analysis.trajectory import Trajectory
from ionmd.cli import main
from ionmd.errors import AnalysisError, IonmdError
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


def brownian_trajectory(analysed_ps: float, dt_ps: float = 0.01) -> Trajectory:
    """16 Brownian Li over ``analysed_ps`` at ``dt_ps`` a frame (what is left after the
    discard of a run of the campaign's protocol)."""
    rng = np.random.default_rng(1)
    n_frames = int(round(analysed_ps / dt_ps)) + 1
    steps = st.brownian_steps(n_frames, 16, [1.0] * 3, dt_ps, rng)
    return st.make(steps, L=12.0, dt_ps=dt_ps, rng=rng).true


def refusal(path) -> str:
    with pytest.raises(IonmdError) as exc:
        load_campaign(path)
    return str(exc.value)


def test_plan_refuses_a_fit_start_past_the_fit_end(folder, capsys):
    """0.5 ps runs less 0.1 ps discarded leave 0.4 ps, whose fit ends at half of it: a fit
    from 3 ps is refused by plan, on its line, before any run folder is written."""
    path = campaign(folder, "late", 3)
    assert main(["sweep", "plan", str(path)]) != 0
    err = capsys.readouterr().err
    assert f"line {line_of(path, 'fit_start_ps = 3')}: analysis.fit_start_ps = 3 ps" in err
    assert "600, 900 K" in err
    assert f"duration_ps = 0.5 ps (line {line_of(path, 'duration_ps')})" in err
    assert f"discard_ps = 0.1 ps (line {line_of(path, 'discard_ps')})" in err
    assert f"{0.5 * (0.5 - 0.1):g} ps" in err                 # the fit end
    assert f"more than {0.1 + 2 * 3:g} ps" in err             # the run length that fits
    assert "Either lower fit_start_ps (below 0.2 ps) or make the runs that long" in err


def test_the_default_fit_start_refused_on_the_analysis_table(folder):
    path = write_campaign(folder, name="dflt", analysis="charges = {Li = 1, Cl = -1}")
    msg = refusal(path)
    assert f"line {line_of(path, '[analysis]')}: the default fit_start_ps 1 ps" in msg


@pytest.mark.parametrize("start", [0.15, 0.25])
def test_plan_refuses_what_the_analysis_refuses(folder, start):
    """The runs leave 0.4 ps after the discard: diffusion() on a trajectory of that length
    is the reference for which fit starts can be analysed."""
    try:
        diffusion(brownian_trajectory(0.4), "Li", "xyz", fit_start_ps=start, window_ps=0.2)
        analysable = True
    except AnalysisError:
        analysable = False
    path = campaign(folder, f"s{int(start * 100)}", start)
    if analysable:
        load_campaign(path)
    else:
        assert "is not before the end of the MSD fit" in refusal(path)


def test_a_fit_end_past_the_runs_is_said_clipped(folder):
    """fit_end_ps 2 ps on runs that leave 0.4 ps: diffusion() ends the fit at the run's
    end, 0.4 ps, so a fit from 0.5 ps cannot be analysed."""
    with pytest.raises(AnalysisError):
        diffusion(brownian_trajectory(0.4), "Li", fit_start_ps=0.5, fit_end_ps=2.0,
                  window_ps=0.2)
    path = write_campaign(folder, name="clip", analysis="charges = {Li = 1, Cl = -1}\n"
                                                        "fit_start_ps = 0.5\nfit_end_ps = 2")
    msg = refusal(path)
    assert "fit_end_ps 2 ps lies past the run's end" in msg and "ending at 0.4 ps" in msg
    assert f"more than {0.1 + 2:g} ps" in msg


def until_campaign(folder, name, start, max_time):
    """Runs that stop on a D interval (checked every 0.1 ps) or at ``max_time`` ps."""
    path = write_campaign(folder, name=name, analysis="charges = {Li = 1, Cl = -1}",
                          discard_ps=0.1)
    text = path.read_text().replace("duration_ps = 0.5\n", f'max_time = "{max_time}ps"\n')
    path.write_text(text.replace("[protocol]\n", UNTIL + f"fit_start_ps = {start}\n"))
    return path


def test_until_checks_the_longest_run(folder):
    """With a stopping rule, a run may go on to max_time: 2 ps less 0.1 ps discarded end the
    fit at 0.95 ps, so a fit from 0.8 ps is kept (though the first checks, 0.1 ps apart,
    come long before it), and one from 1 ps is refused on the protocol's line."""
    assert load_campaign(until_campaign(folder, "u08", 0.8, 2)).analysis.fit_start_ps == 0.8
    path = until_campaign(folder, "u10", 1.0, 2)
    msg = refusal(path)
    assert f"line {line_of(path, 'fit_start_ps = 1.0')}: protocol.fit_start_ps = 1 ps" in msg
    assert f"runs of at most max_time = 2 ps (line {line_of(path, 'max_time')})" in msg
    assert f"{0.5 * (2 - 0.1):g} ps" in msg


def test_each_temperature_by_its_own_run_length(folder):
    """long_below_K gives the 600 K runs 3 ps: only the 900 K ones (0.5 ps) are too
    short for a fit from 0.5 ps."""
    path = write_campaign(folder, name="long", analysis="charges = {Li = 1, Cl = -1}\n"
                                                        "fit_start_ps = 0.5")
    path.write_text(path.read_text().replace(
        "[protocol]\n", "[protocol]\nlong_below_K = 800\nlong_duration_ps = 3\n"))
    msg = refusal(path)
    assert "900 K: runs of duration_ps = 0.5 ps" in msg and "600 K" not in msg
    assert "600, 900 K" not in msg


@pytest.mark.parametrize("discard_ps, fit_end_ps", [(0.0, None), (0.37, None), (0.37, 1.0),
                                                    (0.37, 9.0)])
def test_fit_end_of_is_the_analysis_fit_end(discard_ps, fit_end_ps):
    """diffusion() fits up to fit_end_of the analysed run (its frames' last time since its
    first, worked out here from the steps: a 0.37 ps discard keeps the frames from 0.4 ps
    of a 3 ps run), and the collective conductivity over the same
    range: its sigma is the one of that fit end given explicitly."""
    traj = brownian_trajectory(3.0, dt_ps=0.05).discard(discard_ps)
    steps = traj.steps
    run_ps = (steps[-1] - steps[0]) * traj.timestep_fs / 1000
    expected = 0.5 * run_ps if fit_end_ps is None else min(fit_end_ps, run_ps)
    assert fit_end_of(run_ps, fit_end_ps) == pytest.approx(expected, rel=1e-12)
    result = diffusion(traj, "Li", fit_start_ps=0.2, fit_end_ps=fit_end_ps, window_ps=1.0)
    assert result.fit_end_ps == pytest.approx(expected, rel=1e-12)
    charges, mobile = {"Li": 1.0, "Cl": -1.0}, ["Li"]
    implicit = collective_conductivity(traj, charges, 900.0, mobile, fit_start_ps=0.2,
                                       fit_end_ps=fit_end_ps)
    explicit = collective_conductivity(traj, charges, 900.0, mobile, fit_start_ps=0.2,
                                       fit_end_ps=expected)
    assert implicit.sigma == explicit.sigma


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


GOAL = 'goal = {{sigma_300K_factor = 3, budget = "10 h"{step}}}  # goal'


@pytest.mark.parametrize("step, refused", [(', step = "0.15ps"', True),
                                           (', step = "0.4ps"', False)])
def test_the_runs_a_goal_adds_must_hold_the_fit(folder, step, refused):
    """A run the goal starts is discard plus one step long; its analysis fits from 0.1 ps
    to half the step (diffusion's own rule, checked on a trajectory that long)."""
    path = write_campaign(folder, name="goal", extra=GOAL.format(step=step),
                          analysis=ANALYSIS.format(start=0.1))
    step_ps = 0.15 if refused else 0.4
    traj = brownian_trajectory(step_ps)
    if refused:
        msg = refusal(path)
        assert f"line {line_of(path, '# goal')}: goal.step = 0.15 ps" in msg, msg
        assert "its MSD fit ends at 0.075 ps" in msg and "longer than 0.2 ps" in msg, msg
        with pytest.raises(AnalysisError, match="fit start"):   # what collect would meet
            diffusion(traj, "Li", fit_start_ps=0.1, window_ps=0.2)
    else:
        load_campaign(path)
        assert diffusion(traj, "Li", fit_start_ps=0.1, window_ps=0.2).D > 0


@pytest.mark.parametrize("dump_every, refused", [(100, True), (10, False)])
def test_a_window_with_too_few_frames_is_refused(folder, dump_every, refused):
    """0.4 ps analysed, the fit from 0.05 to 0.2 ps: at dump_every 100 (0.2 ps a frame at
    the preset's 2 fs) it holds fewer than 3 MSD points, which diffusion() refuses on a
    trajectory dumped that often; at dump_every 10 (0.02 ps) it fits."""
    path = write_campaign(folder, name=f"frames{dump_every}")
    path.write_text(path.read_text().replace("dump_every = 10", f"dump_every = {dump_every}"))
    protocol = load_campaign(write_campaign(folder, name="probe")).protocol
    frame_ps = dump_every * protocol.timestep_fs / 1000
    traj = brownian_trajectory(0.4, dt_ps=frame_ps)
    if refused:
        msg = refusal(path)
        assert (f"line {line_of(path, 'fit_start_ps = 0.05')}: the MSD fit from "
                f"analysis.fit_start_ps = 0.05 ps holds fewer than 3 frames at one frame every "
                f"{frame_ps:g} ps (dump_every 100") in msg, msg
        assert "600 K (0.05-0.2 ps of 0.4 ps analysed)" in msg, msg
        with pytest.raises(AnalysisError, match="fewer than 3 MSD points"):
            diffusion(traj, "Li", fit_start_ps=0.05, window_ps=0.2)
    else:
        load_campaign(path)
        assert np.isfinite(diffusion(traj, "Li", fit_start_ps=0.05, window_ps=0.2).D)


def test_a_goal_adding_no_run_is_not_refused_over_its_step(folder):
    """A goal whose range leaves no temperature for a new run only extends runs: its step
    sets no new run's length, so a step too short for a new run's fit is no problem."""
    path = write_campaign(folder, name="nonew", temperatures=(600, 650),
                          extra=GOAL.format(step=', step = "0.15ps"'),
                          analysis=ANALYSIS.format(start=0.1))
    assert load_campaign(path).goal.candidates_K == ()


def test_the_frames_the_analysis_keeps_decide(folder):
    """Frames 0.1 ps apart, 1 ps runs, 0.05 ps discarded: the analysis keeps the frames
    from 0.1 ps, 0.9 ps (not 0.95), so a fit from 0.42 ps ends at 0.45 ps on them, with
    fewer than 3 lags (diffusion() on those frames refuses it); the time alone (0.475 ps)
    would have let it pass."""
    with pytest.raises(AnalysisError, match="fewer than 3 MSD points"):
        diffusion(brownian_trajectory(0.9, dt_ps=0.1), "Li", fit_start_ps=0.42, window_ps=0.2)
    path = write_campaign(folder, name="grid", duration_ps=1.0, discard_ps=0.05,
                          analysis=ANALYSIS.format(start=0.42))
    path.write_text(path.read_text().replace("dump_every = 10", "dump_every = 100"))
    assert "(0.42-0.45 ps of 0.9 ps analysed)" in refusal(path)


def test_a_new_run_below_long_below_k_is_priced_with_its_longer_discard():
    """The goal's allocator priced every new run with the protocol's discard_ps; below
    long_below_K a run discards long_discard_ps (run.json's), so the goal may pass it a
    discard per temperature."""
    from ionmd.sweep.allocate import TemperatureRun, next_step

    runs = [TemperatureRun(T, 10.0, 1e-5 * np.exp(-(1000 / T)), (0.5e-5 * np.exp(-(1000 / T)),
                           2e-5 * np.exp(-(1000 / T))), 1.0, key=T) for T in (900.0, 1000.0)]
    decision = next_step(runs, step_ps=5.0, candidates_K=[700.0, 1100.0],
                         discard_ps=lambda T: 200.0 if T < 800 else 100.0)
    cost = {o.temperature_K: o.cost for o in decision.options if o.action == "new"}
    assert cost == {700.0: (5.0 + 200.0) * 1.0, 1100.0: (5.0 + 100.0) * 1.0}
