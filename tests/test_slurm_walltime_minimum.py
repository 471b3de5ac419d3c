"""A SLURM campaign whose walltime is too short for a task to reach its first restart file
before the walltime warning is refused by ``plan``/``submit`` (load_campaign with
check_resources), on the walltime's line. SLURM may send the warning up to 60 s before the
time asked (sbatch(1), --signal); audit A17: walltime 1 min, the warning (asked 10 s
before the end) at 26 s, before the first restart: 3 requeues, no progress. ``status``
and ``collect`` (check_resources False) still read such a campaign.
"""

from __future__ import annotations

import pytest

from ionmd.sweep import CampaignError, load_campaign
from ionmd.sweep.slurm import MIN_WALLTIME_MIN, earliest_warning_s, signal_delay_s
from protocol_setup import morse_model
from sweep_setup import campaign_dir, line_of, write_campaign


def test_the_warning_times_follow_sbatch():
    # 1 min: asked 10 s before the end, up to 60 s earlier: any time from 0 s on (26 s seen)
    assert signal_delay_s(1) == 10 and earliest_warning_s(1) == -10
    # the minimum leaves 300 - 15 - 60 s before the earliest warning
    assert earliest_warning_s(MIN_WALLTIME_MIN) == 5 * 60 - 15 - 60


def test_a_walltime_below_the_minimum_is_refused_on_its_line(tmp_path):
    folder = campaign_dir(tmp_path / "c", morse_model(tmp_path / "morse.pt"))
    path = write_campaign(folder, executor='kind = "slurm"',
                          resources='ranks = 1\nwalltime = 1  # the walltime')
    with pytest.raises(CampaignError) as err:
        load_campaign(path)
    said = str(err.value)
    assert f"line {line_of(path, '# the walltime')}" in said
    assert "walltime 1 min is too short" in said and f"at least {MIN_WALLTIME_MIN:g} min" in said
    # status/collect read it
    assert load_campaign(path, check_resources=False, check_new_runs=False).resources.walltime_min == 1
    # the minimum itself plans (where no sinfo runs here, nothing else is asked of SLURM)
    path.write_text(path.read_text().replace("walltime = 1 ", f"walltime = {MIN_WALLTIME_MIN:g} "))
    try:
        load_campaign(path)
    except CampaignError as exc:
        assert "too short" not in str(exc), exc


@pytest.mark.parametrize("walltime, per_job, refused", [(3, 2, False), (2, 2, True)])
def test_a_task_of_several_runs_is_timed_as_their_sum(tmp_path, walltime, per_job, refused):
    """A task runs runs_per_job runs one after the other and asks sbatch for their sum:
    3 min x 2 = 6 min is enough, 2 x 2 = 4 is not (review RV7: the minimum was applied to
    each run's walltime)."""
    folder = campaign_dir(tmp_path / "c", morse_model(tmp_path / "morse.pt"))
    path = write_campaign(folder, executor=f'kind = "slurm"\nruns_per_job = {per_job}',
                          resources=f'ranks = 1\nwalltime = {walltime}  # the walltime')
    try:
        load_campaign(path)
        said = ""
    except CampaignError as exc:
        said = str(exc)
    assert ("too short" in said) == refused, said
    if refused:
        assert f"runs_per_job = {per_job} ({walltime * per_job:g} min a task)" in said, said
        assert f"line {line_of(path, '# the walltime')}" in said
