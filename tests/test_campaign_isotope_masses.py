"""A campaign's structures keep an isotope's own mass, as ``ionmd run`` does: the campaign
built its cells with pymatgen's AseAtomsAdaptor, which gives deuterium hydrogen's 1.008, so
every deuterated campaign ran (and wrote its data files) with protium's mass; now it takes
``ionmd.protocols.prepare.as_atoms``. Reference: ASE's own mass of D (``ase.data`` atomic
masses are of the natural mixture; D's is 2.0141 u, CODATA)."""

from __future__ import annotations

import pytest
from ase.build import bulk

from contract_models import MorseEdgeModel, save_contract_model
from ionmd.sweep import load_campaign
from protocol_setup import MORSE
from sweep_setup import write_campaign

D_MASS = 2.01410178        # u, deuterium (CODATA 2018)


@pytest.fixture
def lithium_deuteride(tmp_path):
    cell = bulk("LiH", "rocksalt", a=4.02, cubic=True)
    cif = tmp_path / "LiD.cif"
    cell.write(cif)
    cif.write_text(cif.read_text().replace(" H ", " D "))      # type symbols: D, not H
    assert " D " in cif.read_text()
    save_contract_model(MorseEdgeModel(**MORSE), tmp_path / "morse.pt", cutoff=MORSE["rc"],
                        elements=["Li", "H"])
    return tmp_path


def test_campaign_cell_keeps_deuteriums_mass(lithium_deuteride):
    path = write_campaign(lithium_deuteride, structures='["LiD.cif"]',
                          analysis="charges = {Li = 1, H = -1}\nfit_start_ps = 0.05")
    path.write_text(path.read_text().replace("[protocol]\n", "[protocol]\ntimestep_fs = 0.5\n"))
    campaign = load_campaign(path)
    (entry,) = campaign.structures
    hydrogens = entry.atoms.numbers == 1
    assert hydrogens.sum() == 4
    assert entry.atoms.get_masses()[hydrogens] == pytest.approx(D_MASS, abs=1e-3)
