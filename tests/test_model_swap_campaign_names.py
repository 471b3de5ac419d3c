"""Two models of one file name (``a/model.pt``, ``b/model.pt``: one export per training
run): each keeps the run folder its runs are in, whichever other models the campaign
lists. Before, a campaign listing ``a/model.pt`` (runs in ``model/``), then both (``b``'s
in ``b_model/``), then ``b/model.pt`` alone looked for ``b``'s runs in ``model/``, among
``a``'s: ``status`` refused the campaign (the model changed), ``collect`` took ``a``'s
run for ``b``'s. The truth: the model file each folder's settings.json records."""

from __future__ import annotations

from protocol_setup import morse_model
from sweep_setup import campaign_dir, deeper_morse, planned_models


def planned(folder, models: list[str], create: bool = False) -> dict[str, tuple[str, str]]:
    """{model name: (its run folder, the model file its run records)}."""
    return planned_models(folder, models, create, record="model")


def test_dropping_one_of_two_same_stem_models_keeps_the_others_folder(tmp_path, morse):
    folder = campaign_dir(tmp_path / "c", morse)
    a = morse_model(folder / "a" / "model.pt")
    b = deeper_morse(folder, "b/model.pt", 2)
    c = deeper_morse(folder, "c/model.pt", 3)
    assert planned(folder, ["a/model.pt"], create=True) == {"model": ("model", str(a))}
    both = planned(folder, ["a/model.pt", "b/model.pt"], create=True)
    assert both == {"model": ("model", str(a)), "b_model": ("b_model", str(b))}
    # b alone: its own runs, under its own name (before: refused, a's runs in model/)
    assert planned(folder, ["b/model.pt"]) == {"b_model": ("b_model", str(b))}
    assert planned(folder, ["a/model.pt"]) == {"model": ("model", str(a))}
    # a third file of that name, listed alone: not among a's runs
    assert planned(folder, ["c/model.pt"], create=True) == {"c_model": ("c_model", str(c))}
    assert planned(folder, ["b/model.pt", "a/model.pt"]) == both
