"""``ionmd sweep status`` shows a run that failed at step 11 (a model returning NaN before the
run wrote its first restart) at step 11, the step its failure names, not 0, where its files
stand (audit A24: ``failed-physical  0  150``). Reference: status.json's own failed_step."""

from __future__ import annotations

from ionmd.sweep import load_campaign, plan_campaign
from ionmd.sweep.submit import campaign_status
from protocol_setup import morse_model
from sweep_setup import campaign_dir, write_campaign


def test_a_run_that_failed_early_is_shown_at_its_failed_step(tmp_path):
    folder = campaign_dir(tmp_path / "camp", morse_model(tmp_path / "morse.pt"))
    path = write_campaign(folder, temperatures=(600,))
    campaign = load_campaign(path, check_resources=False, check_new_runs=False)
    (run,) = plan_campaign(campaign, create=True)
    run.rundir.set_status("failed", resumable=False, step=0, failed_step=11,
                          failure_mode="nan_model", reason="the model returned NaN at step 11")
    (row,) = campaign_status(campaign)
    assert row["step"] == 11, row
