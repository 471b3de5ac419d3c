"""Where ``--order-model-rank``'s ranking is kept: ``ionmd run``'s record in the folder of
the protocol's runs (``OUT/<name>/<model>/<protocol>/ordering_rank.json``), a campaign's
cache in ``<output>/<structure>/<model>/campaign_ordering_rank.json``. Before, both were
``OUT/<name>/<model>/ordering_rank.json``: an ``ionmd run ev-scan`` into the OUT of
conductivity runs replaced their record by the scan's ranking (another N, another cell),
and an ``ionmd run`` into a campaign's output replaced its cache (the campaign ranked
again). References: each command's own record, read before the other command ran, and
the model calls a campaign makes (none where its cache answers)."""

from __future__ import annotations

import json
import shutil
import warnings

import test_campaign_model_rank
import test_ordering_model_rank

models, prefer = test_campaign_model_rank.models, test_campaign_model_rank.prefer  # fixtures
mg_morse = test_ordering_model_rank.mg_morse                                        # fixture
_campaign, _cif = test_campaign_model_rank._campaign, test_ordering_model_rank._cif


def _run(protocol, structure, model, n, out, capsys, *extra):
    from ionmd.cli import main

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["run", protocol, str(structure), "--model", str(model), "--dry-run",
                     "--order", "ewald", "--order-model-rank", str(n), "-o", str(out),
                     *extra])
    text = capsys.readouterr()
    assert code in (0, None), text
    return text


def test_each_protocols_runs_keep_their_own_ranking(mg_morse, tmp_path, capsys):
    """The reviewer's case: conductivity runs of N = 4 (a kept rank > 2), then an E-V scan
    of N = 2 into the same OUT: the conductivity runs' record is still theirs."""
    path, out = _cif(tmp_path), tmp_path / "runs"
    _run("conductivity", path, mg_morse, 4, out, capsys, "--supercell", "1x1x2",
         "--set", "mobile_species=Mg")
    md_record = out / "mgcl" / "mg" / "conductivity" / "ordering_rank.json"
    first = json.loads(md_record.read_text())
    assert first["candidates_asked"] == 4 and first["chosen_ewald_rank"] > 2, first
    _run("ev-scan", path, mg_morse, 2, out, capsys, "--supercell", "1x1x2")
    assert json.loads(md_record.read_text()) == first
    scan = json.loads((out / "mgcl" / "mg" / "ev-scan" / "ordering_rank.json").read_text())
    assert scan["candidates_asked"] == 2 and scan["chosen_ewald_rank"] <= 2
    assert not (out / "mgcl" / "mg" / "ordering_rank.json").exists()


def test_ionmd_run_into_a_campaigns_output_leaves_its_cache(models, prefer, tmp_path,
                                                           capsys):
    from ionmd.sweep import load_campaign, plan_campaign

    path = _campaign(tmp_path, models, 3, names=("a",))
    prefer({"a": 2})
    plan_campaign(load_campaign(path), create=True)
    cache = tmp_path / "runs" / "mgcl2" / "a" / "campaign_ordering_rank.json"
    before = cache.read_text()
    prefer({"a": 3})        # what ionmd run's model prefers: another rank, another record
    _run("ev-scan", tmp_path / "mgcl2.cif", models["a"], 3, tmp_path / "runs", capsys,
         "--supercell", "none")
    record = tmp_path / "runs" / "mgcl2" / "a" / "ev-scan" / "ordering_rank.json"
    assert json.loads(record.read_text())["chosen_ewald_rank"] == 3
    assert cache.read_text() == before
    ran = record.read_text()
    prefer.calls.clear()
    campaign = load_campaign(path)              # the campaign: its cache, not its record
    assert prefer.calls == []
    assert "kept Ewald rank 2" in campaign.structures[0].ranked["a"].ordering
    assert cache.read_text() == before and record.read_text() == ran


def test_a_cache_of_an_older_ionmd_is_read(models, prefer, tmp_path):
    """A campaign cached before its cache had its own name (``ordering_rank.json``, with
    its ``campaign_key``) takes its choice from it: no model is evaluated again. A record
    of ``ionmd run`` there then (no ``campaign_key``) is no cache, and is left as it is."""
    from ionmd.sweep import load_campaign, plan_campaign
    from ionmd.sweep.campaign_ranking import OLD_RANKING_FILE, RANKING_FILE

    path = _campaign(tmp_path, models, 3, names=("a",))
    prefer({"a": 2})
    plan_campaign(load_campaign(path), create=True)
    series = tmp_path / "runs" / "mgcl2" / "a"
    shutil.move(series / RANKING_FILE, series / OLD_RANKING_FILE)
    # an older ionmd's cache: one record (with its campaign_key), not today's entries
    record = json.loads((series / OLD_RANKING_FILE).read_text())["entries"][0]
    (series / OLD_RANKING_FILE).write_text(json.dumps(record))
    prefer.calls.clear()
    assert "kept Ewald rank 2" in load_campaign(path).structures[0].ranked["a"].ordering
    assert prefer.calls == []

    old = json.loads((series / OLD_RANKING_FILE).read_text())
    del old["campaign_key"]             # an ionmd run's record of then
    (series / OLD_RANKING_FILE).write_text(json.dumps(old))
    load_campaign(path)
    assert prefer.calls == ["a"]        # ranked (the same cell as the runs': taken)
    assert json.loads((series / OLD_RANKING_FILE).read_text()) == old
    assert json.loads((series / RANKING_FILE).read_text())["entries"][-1]["chosen_ewald_rank"] == 2
