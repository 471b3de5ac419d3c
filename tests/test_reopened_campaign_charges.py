"""A campaign folder written before its run folders took the structure file's declared
oxidation states (7c0f749) holds the guess in ``run.json`` (``charges_guessed: true``).
Reopened by today's campaign (``plan_campaign``, ``sweep submit``), ``RunDir.create``
returned at once for the existing folder: its ``run.json`` kept the guess, and
``ionmd analyze RUN`` read it (CuTi2S4: Cu2+ where the CIF declares Cu+, sigma 4x). Now the
reopened folder gets the declared states, and its pieces, status and settings are kept.

Reference: pymatgen's own reading of the CIF's oxidation states.
"""

from __future__ import annotations

import json

from pymatgen.core import Lattice, Structure
from pymatgen.io.cif import CifParser, CifWriter

from contract_models import MorseEdgeModel, save_contract_model
from ionmd.analysis.run_json import read_run_json
from ionmd.protocols.rundir import RunDir
from ionmd.structures import transport_charges
from ionmd.sweep import load_campaign, plan_campaign
from protocol_setup import MORSE
from sweep_setup import write_campaign


def _declared_spinel(path) -> dict[str, float]:
    """CuTi2S4 with Cu+ Ti3.5+ S2- written to ``path``; the states as pymatgen reads them."""
    s = Structure.from_spacegroup("Fd-3m", Lattice.cubic(9.98), ["Cu", "Ti", "S"],
                                  [[0, 0, 0], [5 / 8, 5 / 8, 5 / 8], [0.385] * 3])
    s.add_oxidation_state_by_element({"Cu": 1.0, "Ti": 3.5, "S": -2.0})
    CifWriter(s).write_file(path)
    read = CifParser(path).parse_structures(primitive=False)[0]
    return {sp.symbol: float(sp.oxi_state) for sp in read.composition}


def test_a_reopened_folder_takes_the_declared_states(tmp_path):
    declared = _declared_spinel(tmp_path / "declared.cif")
    guess = transport_charges("CuTi2S4")
    assert guess != declared
    save_contract_model(MorseEdgeModel(**MORSE), tmp_path / "m.pt", cutoff=MORSE["rc"],
                        elements=["Cu", "Ti", "S"])
    path = write_campaign(tmp_path, name="old", temperatures=(600,),
                          analysis='charges = "auto"\nfit_start_ps = 0.05',
                          structures='["declared.cif"]',
                          models='["m.pt"]')
    path.write_text(path.read_text().replace("[protocol]\n",
                                             '[protocol]\nmobile_species = ["Cu"]\n'))
    (run,) = plan_campaign(load_campaign(path), create=True)
    folder = run.path
    # as a campaign before 7c0f749 left it, with a piece run and recorded
    old = json.loads((folder / "run.json").read_text())
    old.update(charges=guess, charges_guessed=True, logs=["log.0.lammps"],
               trajectory=["traj.0.dcd"])
    (folder / "run.json").write_text(json.dumps(old))
    status = {**json.loads((folder / "status.json").read_text()), "state": "interrupted",
              "step": 300, "pieces": 1, "resumable": True}
    (folder / "status.json").write_text(json.dumps(status))
    settings = (folder / "settings.json").read_text()
    worker = RunDir.open(folder)         # a worker that opened the run before the reopen

    (again,) = plan_campaign(load_campaign(path), create=True)      # reopened
    assert again.path == folder
    now = json.loads((folder / "run.json").read_text())
    assert now["charges"] == declared and now["charges_guessed"] is False   # was the guess
    assert {k: v for k, v in now.items() if not k.startswith("charges")} == \
        {k: v for k, v in old.items() if not k.startswith("charges")}
    assert json.loads((folder / "status.json").read_text()) == status
    assert (folder / "settings.json").read_text() == settings
    meta = read_run_json(folder)                      # what `ionmd analyze RUN` reads
    assert meta["charges"] == declared and not meta["charges_guessed"]
    # the worker's next piece (launch) writes run.json with what the folder holds now
    worker.write_run_json(2, held_charges=True)
    now = json.loads((folder / "run.json").read_text())
    assert now["charges"] == declared and now["charges_guessed"] is False
    assert now["logs"] == ["log.0.lammps", "log.1.lammps"]
