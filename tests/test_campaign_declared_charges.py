"""A campaign's charges follow the oxidation states its structure files declare, as
``ionmd run`` does (``protocols.prepare.run_charges``), and its ``[analysis] charges`` table.

The case: the thiospinel CuTi2S4, a Cu-ion host whose CIF declares Cu+ and Ti3.5+ (metallic
mixed-valence Ti); ionmd's guess for the composition is Cu2+ Ti3+, so a campaign that used
the guess gave Cu2+ and a Nernst-Einstein sigma (q^2) four times that of the declared Cu+.
Before, a campaign converted each structure to ASE Atoms, which hold the states only in
``arrays["oxi_states"]``: its run folders got the guess (``charges_guessed: true``), collect's
``charges_for`` with ``charges = "auto"`` the guess, and a ``[analysis] charges`` table never
reached run.json, so ``ionmd analyze RUN`` of a campaign run used the guess.

References: pymatgen's own reading of the CIF (its species' oxidation states) and the
hand-assigned states below; the guess (``transport_charges``) only to show the case differs.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.io.cif import CifParser, CifWriter

import synthetic_trajectories as st
from contract_models import MorseEdgeModel, save_contract_model
from ionmd.analysis.run_json import read_run_json
from ionmd.cli import main
from ionmd.structures import transport_charges
from ionmd.sweep import load_campaign, plan_campaign
from ionmd.sweep.collect import charges_for, charges_note
from protocol_setup import MORSE
from sweep_setup import write_campaign

DECLARED = {"Cu": 1.0, "Ti": 3.5, "S": -2.0}     # Cu(I) thiospinel, by hand


def _spinel() -> Structure:
    """CuTi2S4, Fd-3m (origin choice 1): Cu on 8a, Ti on 16d, S on 32e (u = 0.385)."""
    return Structure.from_spacegroup("Fd-3m", Lattice.cubic(9.98), ["Cu", "Ti", "S"],
                                     [[0, 0, 0], [5 / 8, 5 / 8, 5 / 8], [0.385] * 3])


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("decl")
    save_contract_model(MorseEdgeModel(**MORSE), root / "m.pt", cutoff=MORSE["rc"],
                        elements=["Cu", "Ti", "S"])
    declared = _spinel()
    declared.add_oxidation_state_by_element(DECLARED)
    CifWriter(declared).write_file(root / "declared.cif")
    CifWriter(_spinel()).write_file(root / "plain.cif")
    return root


def _campaign(folder: Path, name: str, analysis: str):
    path = write_campaign(folder, name=name, temperatures=(600,),
                          analysis=f"{analysis}\nfit_start_ps = 0.05",   # 0.5 ps runs
                          structures='["declared.cif", "plain.cif"]', models='["m.pt"]',
                          output=f"runs_{name}")
    path.write_text(path.read_text().replace("[protocol]\n",
                                             '[protocol]\nmobile_species = ["Cu"]\n'))
    campaign = load_campaign(path)
    runs = plan_campaign(campaign, create=True)
    return campaign, {r.structure: r.path for r in runs}


def _pymatgen_states(cif: Path) -> dict[str, float]:
    """Each element's oxidation state as pymatgen reads the CIF (one per element here)."""
    structure = CifParser(cif).parse_structures(primitive=False)[0]
    states = {sp.symbol: float(sp.oxi_state) for sp in structure.composition}
    assert len(states) == len(structure.composition)
    return states


def test_the_case_differs_from_the_guess(folder):
    # the declared states are pymatgen's reading of the file, and the guess's Cu is 2+
    assert _pymatgen_states(folder / "declared.cif") == DECLARED
    assert transport_charges("CuTi2S4")["Cu"] == 2.0


def test_auto_runs_record_the_declared_states_as_ionmd_run_does(folder):
    campaign, paths = _campaign(folder, "auto", 'charges = "auto"')
    declared = _pymatgen_states(folder / "declared.cif")
    run = json.loads((paths["declared"] / "run.json").read_text())
    assert run["charges"] == declared and run["charges_guessed"] is False   # was Cu 2, true
    meta = read_run_json(paths["declared"])              # what `ionmd analyze RUN` reads
    assert meta["charges"] == declared and not meta["charges_guessed"]
    assert charges_for(campaign, "declared") == declared                  # collect's sigma
    # a file without states still gets the guess, marked as such
    plain = json.loads((paths["plain"] / "run.json").read_text())
    assert plain["charges"] == transport_charges("CuTi2S4") and plain["charges_guessed"]
    assert charges_for(campaign, "plain") == transport_charges("CuTi2S4")
    # the same file under `ionmd run` records the same
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["run", "conductivity", str(folder / "declared.cif"), "--model",
                     str(folder / "m.pt"), "--temps", "600", "--replicas", "1",
                     "--supercell", "none", "--set", "mobile_species=Cu",
                     "-o", str(folder / "single"), "--dry-run"]) in (0, None)
    (single,) = (folder / "single").rglob("run.json")
    single = json.loads(single.read_text())
    assert (single["charges"], single["charges_guessed"]) == (declared, False)


def test_a_declared_zintl_state_is_no_guess_in_collects_note(tmp_path):
    """Antifluorite Li2Si whose CIF declares the Zintl states Li+ Si2-: collect's charges
    are those (the guess: Li+ alone) and its note has the caveat, not the advice to give
    charges (``transport_note`` of given charges, as ``ionmd analyze`` of the run has it)."""
    from ionmd.structures.charges import transport_note

    zintl = {"Li": 1.0, "Si": -2.0}
    li2si = Structure.from_spacegroup("Fm-3m", Lattice.cubic(6.0), ["Si", "Li"],
                                      [[0, 0, 0], [0.25] * 3])
    li2si.add_oxidation_state_by_element(zintl)
    CifWriter(li2si).write_file(tmp_path / "Li2Si.cif")
    assert _pymatgen_states(tmp_path / "Li2Si.cif") == zintl
    save_contract_model(MorseEdgeModel(**MORSE), tmp_path / "m.pt", cutoff=MORSE["rc"],
                        elements=["Li", "Si"])
    campaign = load_campaign(write_campaign(tmp_path, name="zintl", temperatures=(600,),
                                            analysis='charges = "auto"\n'
                                                     'fit_start_ps = 0.05',
                                            structures='["Li2Si.cif"]', models='["m.pt"]'))
    assert charges_for(campaign, "Li2Si") == zintl != transport_charges("Li2Si")
    note = charges_note(campaign, "Li2Si", zintl)
    assert note == transport_note("Li2Si", zintl, given=True)
    assert "Si2-" in note and "give them" not in note            # was the guess's advice


def test_the_campaigns_table_reaches_run_json(folder):
    campaign, paths = _campaign(folder, "table", "charges = {Cu = 1}")
    for path in paths.values():        # the table over the file's states and the guess
        run = json.loads((path / "run.json").read_text())
        assert run["charges"] == {"Cu": 1.0} and run["charges_guessed"] is False
        meta = read_run_json(path)
        assert meta["charges"] == {"Cu": 1.0} and not meta["charges_guessed"]
    assert charges_for(campaign, "plain") == {"Cu": 1.0}


def test_analyze_of_a_campaign_run_uses_the_campaigns_table(tmp_path):
    """``ionmd analyze RUN`` of a campaign run: the sigma of the campaign's table (CuS with
    Cu+, covellite's formal Cu(I)) is the sigma of ``--charges Cu=1`` and a quarter of that
    of the guess's Cu2+ (``--charges Cu=2``, q^2). Before, run.json held the guess."""
    rng = np.random.default_rng(2)      # its first frame: no pair within 2.2 A (loadable)
    s = st.make(st.brownian_steps(200, 8, [0.1] * 3, 0.1, rng), L=12.0, n_framework=8, rng=rng)
    symbols = ["Cu"] * 8 + ["S"] * 8
    assert s.true.elements.tolist() == ["Li"] * 8 + ["Cl"] * 8
    CifWriter(Structure(Lattice(s.true.boxes[0]), symbols, s.wrapped[0],
                        coords_are_cartesian=True)).write_file(tmp_path / "CuS.cif")
    save_contract_model(MorseEdgeModel(**MORSE), tmp_path / "m.pt", cutoff=MORSE["rc"],
                        elements=["Cu", "S"])
    assert transport_charges("CuS")["Cu"] == 2.0
    path = write_campaign(tmp_path, name="cus", temperatures=(800,), duration_ps=20.0,
                          discard_ps=2.0, analysis="charges = {Cu = 1}",
                          structures='["CuS.cif"]', models='["m.pt"]')
    # the protocol of the synthetic trajectory: 200 frames 0.1 ps apart, 10000 steps
    path.write_text(path.read_text().replace(
        "[protocol]\n", '[protocol]\nmobile_species = ["Cu"]\ntimestep_fs = 2.0\n').replace(
        "dump_every = 10\n", "dump_every = 50\n"))
    (planned,) = plan_campaign(load_campaign(path), create=True)
    run = planned.path
    frames = tmp_path / "frames"
    frames.mkdir()
    st.write_lammps_files(frames, s, [800.0] * len(s.true.boxes), specorder=["Cu", "S"],
                          symbols=symbols, loop_steps=10000)
    (frames / "md.dcd").rename(run / "traj.0.dcd")
    (frames / "log.lammps").rename(run / "log.0.lammps")
    planned.rundir.write_run_json(1)        # as a launch rewrites it

    def sigma(*charges: str) -> float:
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["analyze", str(run), "--collapse-fraction", "0.01",
                         *charges]) in (0, None)
        results = json.loads((run / "analysis" / "results.json").read_text())
        return results["conductivity"]["sigma"]   # mS/cm

    table = sigma()
    assert table == pytest.approx(sigma("--charges", "Cu=1"), rel=1e-9)
    assert table == pytest.approx(sigma("--charges", "Cu=2") / 4, rel=1e-9)   # was equal
