"""``ionmd sweep submit`` of a campaign with a goal exits as it does without one (docs/
sweeps.md: "`submit` exits as `ionmd run` does"): 3 when a run failed. Before, the goal
path dropped the status it had computed and exited 0 whatever happened to its runs (every
run failed: 0; the same runs without the goal: 3).

What a submission handed out is said once: a goal campaign whose runs had all ended printed
"nothing to submit", then ran (local) or submitted (SLURM) the goal's next round anyway.

References: each run's own status.json, written by its LAMMPS run; the budget the goal may
spend set from :func:`ionmd.sweep.goal.measure` of the runs' logs, so that exactly one
round is decided (the toy superionic conductor of tests/protocol_setup.py, local
executor)."""

from __future__ import annotations

from ionmd.cli import main
from ionmd.errors import EXIT_FAILED, EXIT_OK
from ionmd.sweep import load_campaign, plan_campaign
from ionmd.sweep.goal import measure
from sweep_setup import goal_campaign

UNREACHABLE = 'sigma_300K_factor = 1.01, budget = "{budget} h", step = "0.5ps"'


def test_goal_campaign_whose_runs_all_failed_exits_3(tmp_path, capsys):
    path = goal_campaign(tmp_path, UNREACHABLE.format(budget=1))
    template = tmp_path / "frozen.lmp"      # every run stops on a LAMMPS error
    template.write_text(template.read_text().replace(
        "dump            traj", "fix             oops all nosuchstyle\ndump            traj"))
    code = main(["sweep", "submit", str(path), "--no-progress"])
    states = {run.rundir.status["state"] for run in plan_campaign(load_campaign(path))}
    assert states == {"failed"}, states
    assert code == EXIT_FAILED            # was 0
    assert "not every run of the campaign completed (exit status 3)" in capsys.readouterr().err


def test_goal_round_after_every_run_ended_is_said_once(tmp_path, capsys):
    path = goal_campaign(tmp_path, UNREACHABLE.format(budget=1))
    text = path.read_text()
    goal_line = next(line for line in text.splitlines() if line.startswith("goal = "))
    path.write_text(text.replace(goal_line, ""))             # the runs first, no goal
    assert main(["sweep", "submit", str(path), "--no-progress"]) == EXIT_OK
    # the goal, with a budget just above what the runs spent: one round extends one run
    path.write_text(text)
    campaign = load_campaign(path)
    _, spent = measure(campaign, plan_campaign(campaign))
    path.write_text(text.replace(goal_line,
                                 "goal = {" + UNREACHABLE.format(budget=f"{spent * 1.05:.6g}") + "}"))
    capsys.readouterr()
    code = main(["sweep", "submit", str(path), "--no-progress"])
    out = capsys.readouterr().out
    print(out)
    assert out.startswith("before: 3 completed (of 3)\n")
    assert "nothing to submit" not in out                     # was its second line
    assert "goal's next round: ran 1 run(s): 1 completed" in out
    runs = plan_campaign(load_campaign(path))
    assert all(run.rundir.status["state"] == "completed" for run in runs)
    assert max(run.rundir.planned_steps for run in runs) > min(run.rundir.planned_steps
                                                               for run in runs)
    assert code == EXIT_OK

