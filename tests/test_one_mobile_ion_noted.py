"""A run cell holding one ion of a mobile species (a 2-atom LiCl primitive cell run
without a supercell: audit A17) is noted where every command checks a run cell
(:func:`ionmd.protocols.checks.check_cell`: ``sweep plan``/``submit``/``status`` reading
the campaign, ``ionmd run``, :func:`ionmd.protocols.plan_runs`) as an
:class:`~ionmd.errors.IonmdNote` (the command line prints it as ``ionmd: note: ...``),
saying how to get a D (a supercell). Before, every run was computed and each analysis then
said "one Li ion: its D has no error bar" (:func:`ionmd.analysis.diffusion.slope_over_ions`,
the reference: it refuses fewer than two ions), found only at collect. A note, not a
refusal: the MD itself runs. A ramp (no D) gets none, nor a 2x2x2 supercell (8 Li).
"""

from __future__ import annotations

import warnings

import pytest
from ase.build import bulk

from ionmd.errors import IonmdNote
from ionmd.protocols import plan_runs
from ionmd.sweep import load_campaign, plan_campaign
from protocol_setup import morse_model, short
from sweep_setup import write_campaign


def _primitive_licl():
    atoms = bulk("LiCl", "rocksalt", a=5.14)
    assert atoms.get_chemical_symbols().count("Li") == 1
    return atoms


def _notes(call) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [str(w.message) for w in caught if issubclass(w.category, IonmdNote)]


def test_a_campaign_notes_one_li_ion_with_how_to_get_d(tmp_path):
    morse_model(tmp_path / "morse.pt")
    _primitive_licl().write(tmp_path / "licl.cif")
    path = write_campaign(tmp_path, structures='["licl.cif"]')
    _, notes = _notes(lambda: load_campaign(path))
    said = [n for n in notes if "one Li ion" in n]
    assert said and "supercell" in said[0] and "2x2x2" in said[0], notes
    # as the note says: a 2x2x2 supercell (8 Li) plans without it
    path.write_text(path.read_text().replace('supercell = "none"', 'supercell = "2x2x2"'))
    runs, notes = _notes(lambda: plan_campaign(load_campaign(path)))
    assert len(runs) == 2 and not [n for n in notes if "one Li ion" in n]


def test_plan_runs_notes_it_and_not_for_a_ramp(tmp_path):
    model = morse_model(tmp_path / "morse.pt")
    with pytest.warns(IonmdNote, match="one Li ion"):
        (rd,) = plan_runs(short("conductivity"), _primitive_licl(), model, tmp_path / "out",
                          name="licl")
    assert rd.path.is_dir()             # noted, not refused
    ramp = short("conductivity", temperature_end=900.0)
    _, notes = _notes(lambda: plan_runs(ramp, _primitive_licl(), model, tmp_path / "ramp",
                                        name="licl"))
    assert not [n for n in notes if "one Li ion" in n]
