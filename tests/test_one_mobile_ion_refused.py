"""A run cell holding one ion of a mobile species (a 2-atom LiCl primitive cell run
without a supercell: audit A17) is refused where every command checks a run cell
(:func:`ionmd.protocols.checks.check_cell`: ``sweep plan``/``submit`` on the structure's
line, ``ionmd run``, :func:`ionmd.protocols.plan_runs`), before anything is written,
saying how to go on (a supercell). Before, every run was computed and each analysis then
said "one Li ion: its D has no error bar" (:func:`ionmd.analysis.diffusion.slope_over_ions`,
the reference: it refuses fewer than two ions). A ramp (no D) may run it.
"""

from __future__ import annotations

import pytest
from ase.build import bulk

from ionmd.errors import IonmdError
from ionmd.protocols import plan_runs
from ionmd.sweep import CampaignError, load_campaign, plan_campaign
from protocol_setup import morse_model, short
from sweep_setup import line_of, write_campaign


def _primitive_licl():
    atoms = bulk("LiCl", "rocksalt", a=5.14)
    assert atoms.get_chemical_symbols().count("Li") == 1
    return atoms


def test_campaign_refuses_one_li_ion_on_the_structure_line(tmp_path):
    morse_model(tmp_path / "morse.pt")
    _primitive_licl().write(tmp_path / "licl.cif")
    path = write_campaign(tmp_path, structures='["licl.cif"]  # the structure')
    with pytest.raises(CampaignError) as err:
        load_campaign(path)
    said = str(err.value)
    assert "one Li ion" in said and "supercell" in said and "2x2x2" in said
    assert f"line {line_of(path, '# the structure')}" in said
    assert not (tmp_path / "runs").exists()
    # as the refusal says: a 2x2x2 supercell (8 Li) plans
    path.write_text(path.read_text().replace('supercell = "none"', 'supercell = "2x2x2"'))
    runs = plan_campaign(load_campaign(path))
    assert len(runs) == 2          # 600 and 900 K


def test_plan_runs_refuses_it_and_a_ramp_runs_it(tmp_path):
    model = morse_model(tmp_path / "morse.pt")
    with pytest.raises(IonmdError, match="one Li ion"):
        plan_runs(short("conductivity"), _primitive_licl(), model, tmp_path / "out",
                  name="licl")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    ramp = short("conductivity", temperature_end=900.0)
    (rd,) = plan_runs(ramp, _primitive_licl(), model, tmp_path / "ramp", name="licl")
    assert rd.path.is_dir()
