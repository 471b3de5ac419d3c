"""A run.json edit the analysis cannot use (protocols.run_json_edits) was refused only where
each worker launched its run: ``sweep submit`` claimed the runs and handed them out (a SLURM
job each, its error after the queue wait; a --retry-failed run reset first). ``submit`` now
checks every run it would hand out before it claims or resets any, and names every bad run
in one message. Reference: run_json_edit_problems of each folder (what the worker says)."""

from __future__ import annotations

import json

import pytest

from ionmd.errors import IonmdError


def _edit(rd, **values):
    record = json.loads((rd.path / "run.json").read_text())
    record.update(values)
    (rd.path / "run.json").write_text(json.dumps(record))


@pytest.fixture
def campaign(tmp_path, morse):
    from ionmd.sweep import load_campaign
    from ionmd.sweep.plan import plan_campaign
    from sweep_setup import campaign_dir, write_campaign

    c = load_campaign(write_campaign(campaign_dir(tmp_path / "c", morse),
                                     temperatures=(600, 900, 1200)))
    return c, plan_campaign(c, create=True)


def test_every_bad_edit_is_refused_before_any_run_is_claimed(campaign):
    from ionmd.protocols.run_json_edits import run_json_edit_problems
    from ionmd.sweep.state import read_claim
    from ionmd.sweep.submit import submit

    c, runs = campaign
    _edit(runs[0].rundir, discard_ps=-1.0)
    _edit(runs[2].rundir, mobile_species=["Na"])
    expected = run_json_edit_problems(runs[0].rundir) + run_json_edit_problems(runs[2].rundir)
    assert len(expected) == 2
    with pytest.raises(IonmdError) as info:
        submit(c, progress=False)
    said = str(info.value)
    for problem in expected:                    # both named, as the worker names them
        assert problem in said
    assert str(runs[1].path) not in said
    assert "nothing was claimed" in said
    for run in runs:                            # before: claimed (and run locally)
        assert read_claim(run.rundir) == {}
        assert run.rundir.status["state"] == "pending"
        assert not list(run.path.glob("in.*.lmp"))


def test_a_failed_run_is_not_reset_by_a_refused_retry(campaign):
    from ionmd.sweep.submit import submit

    c, runs = campaign
    rd = runs[1].rundir
    (rd.path / "log.0.lammps").write_text("ERROR: Unknown pair style\n")
    rd.set_status("failed", resumable=False, pieces=1, reason="ERROR: Unknown pair style")
    _edit(rd, discard_ps="20ps")
    with pytest.raises(IonmdError, match=r'"discard_ps": "20ps" is not a number'):
        submit(c, retry_failed=True, progress=False)
    assert rd.status["state"] == "failed"       # before: reset (pending, its log deleted)
    assert (rd.path / "log.0.lammps").is_file()
