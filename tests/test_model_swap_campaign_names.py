"""Two models of one file name (``a/model.pt``, ``b/model.pt``: one export per training
run): each keeps the run folder its runs are in, whichever other models the campaign
lists. Before, a campaign listing ``a/model.pt`` (runs in ``model/``), then both (``b``'s
in ``b_model/``), then ``b/model.pt`` alone looked for ``b``'s runs in ``model/``, among
``a``'s: ``status`` refused the campaign (the model changed), ``collect`` took ``a``'s
run for ``b``'s. The truth: the model file each folder's settings.json records."""

from __future__ import annotations

import json

from ionmd.sweep import load_campaign
from ionmd.sweep.plan import plan_campaign
from contract_models import MorseEdgeModel, save_contract_model
from protocol_setup import ELEMENTS, MORSE, morse_model
from sweep_setup import campaign_dir, write_campaign


def planned(folder, models: list[str], create: bool = False) -> dict[str, tuple[str, str]]:
    """{model name: (its run folder, the model file its run records)} of the campaign
    listing ``models`` (one temperature)."""
    campaign = load_campaign(write_campaign(folder, temperatures=(600,),
                                            models=json.dumps(models)), check_resources=False)
    out = {}
    for run in plan_campaign(campaign, create=create):
        settings = json.loads((run.rundir.path / "settings.json").read_text())
        out[run.model] = (run.rundir.path.parts[-4], settings["model"])
    return out


def test_dropping_one_of_two_same_stem_models_keeps_the_others_folder(tmp_path, morse):
    folder = campaign_dir(tmp_path / "c", morse)
    a = morse_model(folder / "a" / "model.pt")
    (folder / "b").mkdir()
    b = save_contract_model(MorseEdgeModel(**{**MORSE, "d0": 2 * MORSE["d0"]}),
                            folder / "b" / "model.pt", cutoff=MORSE["rc"], elements=ELEMENTS)
    c = save_contract_model(MorseEdgeModel(**{**MORSE, "d0": 3 * MORSE["d0"]}),
                            (folder / "c").mkdir() or folder / "c" / "model.pt",
                            cutoff=MORSE["rc"], elements=ELEMENTS)
    assert planned(folder, ["a/model.pt"], create=True) == {"model": ("model", str(a))}
    both = planned(folder, ["a/model.pt", "b/model.pt"], create=True)
    assert both == {"model": ("model", str(a)), "b_model": ("b_model", str(b))}
    # b alone: its own runs, under its own name (before: refused, a's runs in model/)
    assert planned(folder, ["b/model.pt"]) == {"b_model": ("b_model", str(b))}
    assert planned(folder, ["a/model.pt"]) == {"model": ("model", str(a))}
    # a third file of that name, listed alone: not among a's runs
    assert planned(folder, ["c/model.pt"], create=True) == {"c_model": ("c_model", str(c))}
    assert planned(folder, ["b/model.pt", "a/model.pt"]) == both
