"""Guessed charges that say what they assume. ``transport_charges`` gives Li +1 to Li-Si
alloys (LiSi, Li7Si3, Li15Si4: no element there is an ordinary anion; the guess either
has none or makes Si4- the anion) and Li3Sb (Sb3-): Zintl formal charges, fine for a
formal ionic sigma, not what a user of an alloy anode expects. The note says so, and how
to give other charges; ordinary ionic solids (halides, sulfides, phosphides, Li2Te,
closo-borates) get none. The compositions are published phases (Li-Si: Obrovac & Chevrier,
Chem. Rev. 114 (2014) 11444; Li3Sb, Li22Sn5, LiAl: anode alloys)."""

from __future__ import annotations

import json

import pytest
from ase import Atoms

from ionmd.structures import transport_charges
from ionmd.structures.charges import transport_note
from sweep_setup import write_campaign


@pytest.mark.parametrize("formula,kind", [
    ("LiSi", "Zintl"), ("Li7Si3", "Zintl"), ("Li15Si4", "Zintl"), ("Li3Sb", "Zintl"),
    ("Li22Sn5", "intermetallic"), ("LiAl", "intermetallic"), ("Li3Bi", "intermetallic"),
])
def test_alloys_carry_a_note_that_their_charges_are_formal(formula, kind):
    charges = transport_charges(formula)
    assert charges["Li"] == 1
    note = transport_note(formula)
    assert kind in note and "formal" in note
    given = ", ".join(f"{el} = {q:g}" for el, q in charges.items())
    assert f"charges = {{{given}}}" in note and "ionmd analyze --charges Li=1" in note


@pytest.mark.parametrize("formula", ["LiCl", "Li6PS5Cl", "Li3P", "Li3N", "Li2Te", "Li2B12H12",
                                     "Li4SiO4", "LiBH4", "Li2S6"])
def test_ionic_solids_carry_none(formula):
    assert transport_note(formula) == ""


def test_collect_rows_of_an_alloy_say_the_charges_are_formal(folder):
    """A campaign with charges = "auto" over LiSi and LiCl: collect's rows (and
    results.json's charges) carry the note for LiSi only; nothing has run yet."""
    from contract_models import MorseEdgeModel, save_contract_model
    from protocol_setup import MORSE
    from ionmd.sweep import load_campaign
    from ionmd.sweep.collect import collect

    save_contract_model(MorseEdgeModel(**MORSE), folder / "morse.pt", cutoff=MORSE["rc"],
                        elements=["Li", "Cl", "Si"])      # a model that knows Si
    Atoms("LiSi", scaled_positions=[[0, 0, 0], [0.5, 0.5, 0.5]], cell=[3.0] * 3,
          pbc=True).write(folder / "LiSi.cif")
    Atoms("LiCl", scaled_positions=[[0, 0, 0], [0.5, 0.5, 0.5]], cell=[3.2] * 3,
          pbc=True).write(folder / "LiCl.cif")
    path = write_campaign(folder, temperatures=(600,), structures='["LiSi.cif", "LiCl.cif"]',
                          analysis='charges = "auto"\nfit_start_ps = 0.05')
    doc = collect(load_campaign(path), folder / "out", progress=False)
    notes = {row["structure"]: row.get("charges_note", "") for row in doc["rows"]}
    assert set(notes) == {"LiSi", "LiCl"}
    assert "Zintl" in notes["LiSi"] and notes["LiCl"] == ""
    saved = json.loads((folder / "out" / "results.json").read_text())["charges"]
    assert saved["LiSi"]["charges"] == {"Li": 1.0} and "note" in saved["LiSi"]
    assert saved["LiCl"] == {"charges": {"Li": 1.0, "Cl": -1.0}}
    assert "charges_note" in (folder / "out" / "results.csv").read_text().splitlines()[0]


def test_a_campaigns_own_charges_keep_the_caveat_without_the_hint(folder):
    """A campaign's own charges table over LiSi: its Li+ is formal all the same (the sigma
    the formal Nernst-Einstein one), so the row keeps the caveat, as `ionmd analyze
    --charges` does, without 'the guess' and without telling how to give charges (they
    were given). Before, such rows carried no note."""
    from contract_models import MorseEdgeModel, save_contract_model
    from protocol_setup import MORSE
    from ionmd.sweep import load_campaign
    from ionmd.sweep.collect import collect

    save_contract_model(MorseEdgeModel(**MORSE), folder / "morse.pt", cutoff=MORSE["rc"],
                        elements=["Li", "Cl", "Si"])
    Atoms("LiSi", scaled_positions=[[0, 0, 0], [0.5, 0.5, 0.5]], cell=[3.0] * 3,
          pbc=True).write(folder / "LiSi.cif")
    path = write_campaign(folder, temperatures=(600,), structures='["LiSi.cif"]',
                          analysis="charges = {Li = 1, Si = -1}\nfit_start_ps = 0.05")
    doc = collect(load_campaign(path), folder / "out", progress=False)
    (row,) = doc["rows"]
    reference = transport_note("LiSi", {"Li": 1.0, "Si": -1.0}, given=True)
    assert reference and row["charges_note"] == reference
    assert "guess" not in reference and "--charges" not in reference
