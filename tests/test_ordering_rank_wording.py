"""``--order-model-rank`` loose ends: the refusal of another order method names both ways
to ask for the Ewald ordering (the command line's options and a campaign's keys: one
wording, ``OrderOptions``'), and ``--order ewald --order-model-rank N`` on a file with
nothing to order says that N ranked nothing (before: silent). References: the options
and keys the CLI parser and the campaign reader accept, and the file's own cell."""

from __future__ import annotations

import json
import warnings

import pytest

import test_ordering_model_rank
from sweep_setup import write_campaign

mg_morse = test_ordering_model_rank.mg_morse        # a fixture


def test_the_refusal_names_the_option_and_the_campaign_key():
    from ionmd.structures import OrderOptions
    from ionmd.structures.errors import StructureError

    with pytest.raises(StructureError) as exc:
        OrderOptions("random", candidates=3)
    text = str(exc.value)
    assert "--order ewald with --order-model-rank 3" in text, text
    assert 'order = "ewald" with order_model_rank = 3' in text, text
    assert "the ordering was random" in text, text


def test_a_campaign_line_gets_its_keys(folder):
    from ionmd.sweep import CampaignError, load_campaign

    path = write_campaign(folder, extra='order = "random"\norder_model_rank = 3')
    with pytest.raises(CampaignError) as exc:
        load_campaign(path)
    assert 'order = "ewald" with order_model_rank = 3' in str(exc.value), exc.value


def test_nothing_to_order_is_said(mg_morse, tmp_path, capsys):
    """An ordered cell (the lowest-Ewald arrangement of test_ordering_model_rank's cell,
    written as its own file): the runs start from the file's cell, and the note says N
    ranked nothing; no ranking is recorded."""
    from pymatgen.core import Structure

    from ionmd.cli import main

    path = test_ordering_model_rank.ordered_cif(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["run", "conductivity", str(path), "--model", str(mg_morse), "--dry-run",
                     "--supercell", "none", "--order", "ewald", "--order-model-rank", "3",
                     "--set", "mobile_species=Mg", "--temps", "600", "-o",
                     str(tmp_path / "runs")])
    text = capsys.readouterr()
    assert code in (0, None), text
    assert (f"ionmd: note: {path} has no partially occupied sites to order: "
            "--order-model-rank 3 ranks nothing") in text.err, text.err
    assert not list((tmp_path / "runs").rglob("*ordering_rank.json"))
    (run,) = (tmp_path / "runs").rglob("run.json")
    assert not any("re-ranked" in n for n in json.loads(run.read_text())["structure_notes"])
    assert f"{len(Structure.from_file(path))} atoms" in text.out, text.out


def test_a_campaigns_plan_says_nothing_was_ranked(folder, capsys):
    """The same for a campaign's ordered structure (sweep_setup's fcc cell): plan says it."""
    from pymatgen.core import Structure

    from ionmd.cli import main

    path = write_campaign(folder, extra='order = "ewald"\norder_model_rank = 3')
    assert Structure.from_file(folder / "fcc.cif").is_ordered
    capsys.readouterr()
    assert main(["sweep", "plan", str(path)]) in (0, None)
    out = capsys.readouterr().out
    assert ("fcc: no partially occupied sites to order: order_model_rank = 3 ranks nothing"
            in out), out
