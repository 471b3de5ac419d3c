"""``ionmd sweep status`` read its campaign twice (every structure file and ordering: once
for the run table, once for the goal's rounds), and ``ionmd status CAMPAIGN``, which the
docs say prints the same, left the goal's rounds out. Both now read it once and print both."""

import pytest

import ionmd.sweep
from ionmd.cli import main
from sweep_setup import campaign_dir, write_campaign

GOAL = 'goal = {sigma_300K_factor = 3, budget = "10 h", step = "1ps"}'


@pytest.fixture
def campaign(tmp_path, morse):
    return write_campaign(campaign_dir(tmp_path / "camp", morse), extra=GOAL)


@pytest.mark.parametrize("command", [["sweep", "status"], ["status"]])
def test_status_prints_runs_and_goal_from_one_read(campaign, command, capsys, monkeypatch):
    loads = []
    real = ionmd.sweep.load_campaign

    def counted(*args, **kwargs):
        loads.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(ionmd.sweep, "load_campaign", counted)
    assert main([*command, str(campaign)]) in (0, None)
    out = capsys.readouterr().out
    assert "(of 2)" in out                                  # the run table: 600 and 900 K
    assert "goal: sigma(300 K) within a factor 3" in out and "no round yet" in out, out
    assert len(loads) == 1
