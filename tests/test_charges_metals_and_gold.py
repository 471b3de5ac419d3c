"""Charges of an element alone and of gold(I) compounds.

A pure metal (Li, Na, Cu) got the transport charge 0 (its oxidation state), which `ionmd
run` and campaigns with charges = "auto" recorded, and the analysis reported sigma_NE =
0 mS/cm [0, 0]: electrons carry a metal's current. Now it has none: D alone, and the
results say why there is no sigma. Gold had no ICSD statistics in pymatgen and only Au3+
among its common states, so Au(I) compounds (AuCl, CsAuO, KAu(CN)2, Cs2[AuCl2][AuCl4])
were called subvalent (metal-rich); the references are pymatgen's own guess told Au+ and
Au3+ (``oxi_states_override``) and hand-assigned formal states.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from pymatgen.core import Composition, Element

import synthetic_trajectories as st
from ionmd.cli import main
from ionmd.structures.charges import oxidation_guess, transport_charges, transport_note
from test_analysis_cli import POINT_IONS


@pytest.mark.parametrize("metal", ["Li", "Na", "Cu"])
def test_a_pure_metal_gets_no_transport_charges(metal):
    assert Element(metal).is_metal
    assert transport_charges(metal) == {}
    assert transport_charges(f"{metal}16") == {}
    # an alloy keeps its formal Li+ (pymatgen's one common Li state), so noted
    assert transport_charges("LiAl")["Li"] == Element("Li").common_oxidation_states[0]


@pytest.fixture(scope="module")
def metal_run(tmp_path_factory):
    """A synthetic run of one element (its framework atoms Li too), as `ionmd run` records a pure
    metal under charges = "auto": no charges."""
    rng = np.random.default_rng(5)
    s = st.make(st.brownian_steps(300, 16, [0.1] * 3, 0.1, rng), L=12.0, rng=rng)
    path = tmp_path_factory.mktemp("metal") / "T600"
    path.mkdir()
    st.write_lammps_files(path, s, np.full(len(s.true.boxes), 600.0), specorder=["Li"],
                          symbols=["Li"] * len(s.true.elements), loop_steps=14950)
    meta = {"schema": "ionmd-run/1", "temperature_K": 600, "timestep_fs": 2.0,
            "dump_every": 50, "discard_ps": 2.0, "mobile_species": ["Li"],
            "charges": transport_charges("Li"), "charges_guessed": False,
            "structure": "synthetic"}
    (path / "run.json").write_text(json.dumps(meta))
    return path


def _analyse(run, out, capsys):
    rc = main(["analyze", str(run), "-o", str(out), *POINT_IONS])
    assert rc == 0, capsys.readouterr().err
    return json.loads((out / run.name / "results.json").read_text())


def test_a_pure_metals_run_has_D_and_says_why_it_has_no_sigma(metal_run, tmp_path, capsys):
    res = _analyse(metal_run, tmp_path / "out", capsys)
    assert {d["species"] for d in res["diffusion"]} == {"Li"}
    assert "conductivity" not in res and "conductivity_collective" not in res
    assert res["no_conductivity"].startswith(
        "Li is a metal: no ionic conductivity from formal charges")
    assert "unknown" not in res["no_conductivity"]


def test_an_old_runs_recorded_zero_for_a_metal_is_analysed_and_noted(metal_run, tmp_path,
                                                                       capsys):
    """A run.json written before (Li 0, guessed) keeps its D and sigma 0, now with the note."""
    old = tmp_path / "old" / metal_run.name
    old.mkdir(parents=True)
    for f in metal_run.iterdir():
        if f.name != "run.json":
            (old / f.name).symlink_to(f)
    meta = json.loads((metal_run / "run.json").read_text())
    (old / "run.json").write_text(json.dumps({**meta, "charges": {"Li": 0.0},
                                              "charges_guessed": True}))
    res = _analyse(old, tmp_path / "out", capsys)
    assert res["conductivity"]["sigma"] == 0.0
    assert "Li is a metal: no ionic conductivity" in res["conductivity"]["charges_note"]
    assert "charges: Li is a metal" in capsys.readouterr().out


def test_missing_charges_of_a_compound_name_the_species(tmp_path, capsys):
    from test_analysis_cli import _run_dir

    run = tmp_path / "T800"
    _run_dir(run, 800, seed=4)
    meta = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**meta, "charges": {"Cl": -1}}))
    res = _analyse(run, tmp_path / "out", capsys)
    assert "conductivity" not in res
    assert res["no_conductivity"].startswith("the charges of the mobile species Li are unknown")


# formal states by hand; Cs2Au2Cl6 is Cs2[AuCl2][AuCl4], Au+ and Au3+: 2 on average
GOLD = {"AuCl": {"Au": 1, "Cl": -1}, "CsAuO": {"Cs": 1, "Au": 1, "O": -2},
        "Cs3AuO2": {"Cs": 1, "Au": 1, "O": -2},
        "Cs2Au2Cl6": {"Cs": 1, "Au": 2, "Cl": -1},
        "KAu(CN)2": {"K": 1, "Au": 1, "C": 2, "N": -3},
        "AuCl3": {"Au": 3, "Cl": -1}, "KAuCl4": {"K": 1, "Au": 3, "Cl": -1},
        "CsAu": {"Cs": 1, "Au": -1}}


@pytest.mark.parametrize("formula", GOLD)
def test_gold_compounds_get_their_formal_states(formula):
    guess = oxidation_guess(formula)
    assert guess.states == pytest.approx(GOLD[formula])
    assert "subvalent" not in transport_note(formula)


@pytest.mark.parametrize("formula", ["AuCl", "CsAuO", "Cs3AuO2", "AuCl3", "KAuCl4"])
def test_gold_states_agree_with_pymatgens_guess_told_au_plus_and_3plus(formula):
    [reference, *_] = Composition(formula).oxi_state_guesses(
        oxi_states_override={"Au": [1, 3]})
    assert oxidation_guess(formula).states == pytest.approx(reference)


@pytest.mark.parametrize("formula, states", [
    ("AgCl", {"Ag": 1, "Cl": -1}), ("Ag2O", {"Ag": 1, "O": -2}),
    ("KAg(CN)2", {"K": 1, "Ag": 1, "C": 2, "N": -3}),
    ("CuCl", {"Cu": 1, "Cl": -1}), ("Cu2O", {"Cu": 1, "O": -2}),
    ("CuO", {"Cu": 2, "O": -2})])
def test_silver_and_copper_siblings_keep_their_states(formula, states):
    assert oxidation_guess(formula).states == pytest.approx(states)
    assert oxidation_guess("Ag2F").states == {}     # still subvalent: Ag 0.5+


def test_a_metals_sigma_is_left_out_of_the_fits_for_its_own_reason(metal_run, tmp_path, capsys):
    """The runs a sigma fit leaves out are named with why: a metal's is that it is a metal,
    not 'charges of the mobile species unknown'."""
    from ionmd.analysis.aggregate import why_left_out

    res = _analyse(metal_run, tmp_path / "out", capsys)
    why = why_left_out(res, "sigma_T")
    assert why.startswith("no conductivity (Li is a metal") and "unknown" not in why
    assert why_left_out(res, "D_Li") is None


def test_ionmd_analyze_prints_why_a_metal_has_no_sigma(metal_run, tmp_path, capsys):
    assert main(["analyze", str(metal_run), "-o", str(tmp_path / "out"), *POINT_IONS]) == 0
    printed = capsys.readouterr().out
    assert "no sigma_NE: Li is a metal" in printed and "sigma_NE =" not in printed


def test_a_charge_given_to_a_metal_is_called_formal_not_d_alone(metal_run, tmp_path, capsys):
    """`--charges Li=1` on Li metal reports sigma of Li+ (z^2 = 1 times the uncharged
    Nernst-Einstein prefactor); its note said 'oxidation state is 0 ... D alone' beside it."""
    rc = main(["analyze", str(metal_run), "-o", str(tmp_path / "out"), "--charges", "Li=1",
               *POINT_IONS])
    assert rc == 0, capsys.readouterr().err
    res = json.loads((tmp_path / "out" / metal_run.name / "results.json").read_text())
    assert res["conductivity"]["sigma"] > 0
    note = res["conductivity"]["charges_note"]
    assert note.startswith("Li is a metal") and "formal" in note and "Li+" in note
    assert "D alone" not in note
    assert transport_note("Li", {"Li": 2.0}, given=True).count("Li2+") == 1


def test_a_non_metal_element_is_not_said_to_carry_electrons():
    assert not Element("S").is_metal
    note = transport_note("S")
    assert note.startswith("S is an element") and "electrons" not in note
    assert "electrons carry its current" in transport_note("Na")


def test_the_missing_charges_hint_keeps_the_charges_the_run_has(tmp_path):
    """--charges replaces run.json's charges (read_run_spec), so the hint for a run with Li
    known and Na not must give both: `--charges Na=Q` alone would lose Li's."""
    from pathlib import Path

    from ionmd.analysis.run_analysis import no_conductivity_reason
    from ionmd.analysis.run_spec import RunSpec

    spec = RunSpec(path=Path(tmp_path), data_file=None, trajectory=[], logs=[],
                   temperature_K=600.0, timestep_fs=2.0, mobile_species=["Li", "Na"],
                   charges={"Li": 1.0, "Cl": -1.0})
    why = no_conductivity_reason(np.array(["Li", "Na", "Cl"]), spec)
    assert "mobile species Na are unknown" in why
    assert "--charges Li=1,Na=Q`" in why
