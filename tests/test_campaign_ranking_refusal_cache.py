"""A refused ranking change (``order_model_rank`` changed so that the model keeps another
cell than the series' runs started from) is ranked once: later commands (``sweep status``,
``load_campaign``) say the same refusal, naming the runs, without evaluating the model
again (before, each re-ranked: minutes of model energies per ``sweep status``); once the
runs are moved away the kept ranking is taken without ranking again, and the runs start
from its cell. Counter: the patched ``structure_energies`` of test_campaign_model_rank
(``prefer``), the models' energies a test sets; reference cells: the Ewald candidates'."""

from __future__ import annotations

import shutil

import pytest

import test_campaign_model_rank as mr
from ionmd.cli import main

models = mr.models          # two Morse models (fixtures)
prefer = mr.prefer          # patched energies, counted in prefer.calls


def test_a_refused_ranking_is_ranked_once_and_refused_each_time(models, prefer, tmp_path,
                                                               capsys):
    from ionmd.sweep import CampaignError, load_campaign, plan_campaign

    path = mr._campaign(tmp_path, models, 3, names=("a",))
    prefer({"a": 2})
    plan_campaign(load_campaign(path), create=True)
    series = tmp_path / "runs" / "mgcl2" / "a"
    run = next(series.glob("*/T*K/r*"))
    path.write_text(path.read_text().replace("order_model_rank = 3", "order_model_rank = 4"))
    prefer({"a": 4})
    prefer.calls.clear()
    refusals = []
    for _ in range(2):
        with pytest.raises(CampaignError) as exc:
            load_campaign(path)
        refusals.append(str(exc.value))
    assert str(run) in refusals[0] and "Ewald rank 4" in refusals[0], refusals[0]
    assert refusals[1] == refusals[0]
    capsys.readouterr()
    assert main(["sweep", "status", str(path)]) == 1
    assert str(run) in capsys.readouterr().err
    assert prefer.calls == ["a"]                # ranked once, refused three times
    # the runs moved away (the series' caches stay): the kept ranking (rank 4) is taken,
    # not ranked again
    shutil.move(str(run.parent.parent), str(tmp_path / "old_runs"))
    runs = plan_campaign(load_campaign(path), create=True)
    assert prefer.calls == ["a"]
    assert mr._hashes(tmp_path / "runs", "a") == {mr._candidate_hash(tmp_path, 4, 4)}
    assert [r.path.parent.parent.parent for r in runs] == [series]
