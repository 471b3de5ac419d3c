"""The charges a user gives (a campaign's ``[analysis] charges``, ``ionmd analyze
--charges``) are checked once (``ionmd.structures.charge_values``): before, a campaign took
``Li = nan``, ``Li = inf`` and ``Li = true`` (read as 1), ran every run and collect gave a
NaN sigma (or a silently wrong one); ``Li = 0`` for the mobile Li gave sigma 0.

References: pymatgen's periodic table (the element symbols, every oxidation state it
lists), Python's ``float``, and TOML/YAML as ``tomllib`` and PyYAML read the file.
"""

from __future__ import annotations

import math
import tomllib

import pytest
import yaml
from pymatgen.core.periodic_table import Element

from ionmd.errors import IonmdError
from ionmd.structures.charge_values import charge_problems, checked_charges
from ionmd.sweep import CampaignError, load_campaign
from sweep_setup import line_of, write_campaign

SYMBOLS = [Element.from_Z(z).symbol for z in range(1, 119)]


def test_every_element_symbol_is_taken_and_nothing_else():
    # pymatgen's 118 symbols, and what users write instead: lower case, an ion, a name,
    # ASE's dummy X, pymatgen's isotope D (not what a structure's atoms are named)
    wrong = ["li", "LI", "Li+", "Li1+", "Lithium", "X", "D", "", 3]
    assert [k for k in SYMBOLS + wrong if charge_problems({k: 1})] == wrong


def test_no_oxidation_state_pymatgen_knows_is_refused():
    states = {(e.symbol, float(q)) for e in Element for q in e.oxidation_states}
    assert len(states) > 300
    assert [s for s in states if charge_problems({s[0]: s[1]})] == []


@pytest.mark.parametrize("q", [float("nan"), float("inf"), -float("inf"), True, False, "1",
                               None, [1], 9, -9, 1.602176634e-19, -1e-4])
def test_values_that_are_no_charge_are_refused(q):
    assert len(charge_problems({"Li": q})) == 1


@pytest.mark.parametrize("q", [1, -2, 3.5, 0.8, 0, 8, -8])
def test_charges_in_elementary_charges_are_taken(q):
    assert charge_problems({"Li": q}) == []


def test_a_mobile_species_of_charge_zero_is_refused_a_framework_one_is_not():
    assert charge_problems({"Li": 1, "Cl": 0}, mobile=["Li"]) == []
    [(element, why)] = charge_problems({"Li": 0, "Cl": -1}, mobile=["Li"])
    assert element == "Li" and "sigma would be 0" in why


def test_checked_charges_refuses_what_float_reads_from_the_command_line():
    # --charges Li=nan,Cl=-1 as float() reads it (the cli's parser)
    with pytest.raises(IonmdError, match=r"--charges: the charge of Li is nan"):
        checked_charges({"Li": float("nan"), "Cl": float("-1")})
    assert checked_charges({"Li": 1, "Cl": -1}) == {"Li": 1.0, "Cl": -1.0}
    assert checked_charges(None) is None


def _refused(path) -> list[str]:
    with pytest.raises(CampaignError) as exc:
        load_campaign(path)
    return str(exc.value).splitlines()[1:]


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "true"])
def test_a_campaign_refuses_a_charge_toml_reads_as_no_number(folder, text):
    path = write_campaign(folder, analysis=f"charges = {{Li = {text}, Cl = -1}}  # q\n"
                                           "fit_start_ps = 0.05")
    li = tomllib.loads(path.read_text())["analysis"]["charges"]["Li"]
    assert isinstance(li, bool) or not math.isfinite(li)        # what the file holds
    [problem] = _refused(path)
    assert problem.startswith(f"  {path}, line {line_of(path, '# q')}: analysis.charges: "
                              f"the charge of Li is {text}")


def test_a_yaml_campaign_refuses_a_nan_charge_on_its_line(folder):
    toml = tomllib.loads(write_campaign(folder).read_text())
    toml["analysis"]["charges"] = {"Li": float("nan"), "Cl": -1}
    path = folder / "c.yaml"
    path.write_text(yaml.safe_dump(toml))
    assert math.isnan(yaml.safe_load(path.read_text())["analysis"]["charges"]["Li"])
    assert _refused(path) == [
        f"  {path}, line {line_of(path, 'Li: .nan')}: analysis.charges: the charge of Li is "
        f"nan: give a finite number (e.g. Li = 1, Cl = -1); a NaN or infinite charge makes "
        f"sigma NaN or infinite"]


def test_a_campaign_refuses_charge_zero_for_its_mobile_species(folder):
    path = write_campaign(folder, analysis="charges = {Li = 0, Cl = -1}\n"
                                           "fit_start_ps = 0.05")
    [problem] = _refused(path)
    assert "the charge of the mobile species Li is 0" in problem
    # a framework species of charge 0 is the user's choice
    ok = load_campaign(write_campaign(folder, analysis="charges = {Li = 1, Cl = 0}\n"
                                                       "fit_start_ps = 0.05"))
    assert ok.charges_of("fcc") == ({"Li": 1.0, "Cl": 0.0}, False)


def test_a_campaign_says_every_wrong_charge_at_once(folder):
    path = write_campaign(folder, analysis="charges = {Lii = 1, Li = 1, Cl = true}\n"
                                           "fit_start_ps = 0.05")
    problems = _refused(path)
    assert len(problems) == 2
    assert "'Lii' is not an element symbol" in problems[0] and "did you mean 'Li'" in problems[0]
    assert "the charge of Cl is true" in problems[1]


def test_charge_zero_for_a_mobile_species_points_a_metal_to_auto_which_gives_what_it_says():
    """Li = 0 is what a user of a Li metal or alloy, who wants D only, writes: the refusal
    says to leave the charges out (auto), and what it says auto gives is so (ionmd's
    transport_charges against pymatgen's one common Li state): an alloy's Li is the formal
    Li+, its note calling the sigma formal; a pure metal has none (its 0 gave sigma 0
    mS/cm, where electrons carry the current), so D alone."""
    from ionmd.structures import transport_charges
    from ionmd.structures.charges import transport_note

    with pytest.raises(IonmdError) as exc:
        checked_charges({"Li": 0, "Al": 0}, mobile=["Li"])
    assert ("or, for a metal or alloy where you want D alone, leave the charges out (auto): "
            "D does not depend on them") in str(exc.value)
    assert ("(an alloy's formal states, Li+ in LiAl, so noted; a pure metal none, D alone)"
            in str(exc.value))
    [li_state] = Element("Li").common_oxidation_states
    assert transport_charges("LiAl") == {"Li": float(li_state)} == {"Li": 1.0}
    assert "the charges (Li+) are formal" in transport_note("LiAl")
    assert transport_charges("Li") == {}
