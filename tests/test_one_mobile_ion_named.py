"""A campaign's one-mobile-ion note (b8e77a1) names the structure it is about, on its line,
once per structure: two 2-atom LiCl cells (one Li each, counted here by ase) gave the same
words twice, naming neither, and the command line (Python's default warning filter)
printed them once; ``plan_campaign`` then said them again, unnamed, from ``plan_runs``."""

from __future__ import annotations

import warnings

from ase.build import bulk

from ionmd.errors import IonmdNote
from ionmd.sweep import load_campaign, plan_campaign
from protocol_setup import morse_model
from sweep_setup import write_campaign


def test_each_structure_with_one_li_is_noted_by_name(tmp_path):
    morse_model(tmp_path / "morse.pt")
    for name, a in (("licl", 5.14), ("licl_wide", 5.3)):
        atoms = bulk("LiCl", "rocksalt", a=a)
        assert atoms.get_chemical_symbols().count("Li") == 1
        atoms.write(tmp_path / f"{name}.cif")
    path = write_campaign(tmp_path, structures='["licl.cif", "licl_wide.cif"]')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runs = plan_campaign(load_campaign(path))
    notes = [str(w.message) for w in caught
             if issubclass(w.category, IonmdNote) and "one Li ion" in str(w.message)]
    assert len(runs) == 4
    assert len(notes) == 2, notes
    assert sorted(n.split("structure ", 1)[1].split(":", 1)[0] for n in notes) == \
        ["'licl'", "'licl_wide'"], notes
    assert all(n.startswith(f"{path}, line ") for n in notes), notes
