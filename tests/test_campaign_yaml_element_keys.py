"""A YAML campaign's ``charges:`` keyed by element symbols: PyYAML reads YAML 1.1, where an
unquoted ``No`` (nobelium) is false, so ``charges: {Y: 3, N: -3, No: 3}`` held a key
``False`` (refused as no element, or worse). Every key of a campaign file is a name, so
keys are read as written; a wrong one is named as written, on its line.

References: the file's own text (what the user wrote) and ASE's table of element symbols.
"""

from __future__ import annotations

import tomllib

import pytest
import yaml
from ase.data import chemical_symbols

from ionmd.sweep import CampaignError, load_campaign
from sweep_setup import line_of, write_campaign


def _yaml_campaign(folder, charges_text: str):
    """The shared test campaign as YAML, its charges written by hand as ``charges_text``."""
    data = tomllib.loads(write_campaign(folder).read_text())
    data["analysis"]["charges"] = "CHARGES"
    path = folder / "c.yaml"
    path.write_text(yaml.safe_dump(data).replace("charges: CHARGES", f"charges: {charges_text}"))
    return path


def test_element_symbols_that_yaml_1_1_reads_as_booleans_are_element_keys(folder):
    path = _yaml_campaign(folder, "{Li: 1, Cl: -1, Y: 3, N: -3, No: 3}")
    assert False in yaml.safe_load(path.read_text())["analysis"]["charges"]   # the trap
    assert {"Y", "N", "No"} <= set(chemical_symbols)
    charges, guessed = load_campaign(path).charges_of("fcc")
    assert charges == {"Li": 1.0, "Cl": -1.0, "Y": 3.0, "N": -3.0, "No": 3.0}
    assert not guessed


@pytest.mark.parametrize("key", ["no", "NO", "off"])
def test_a_boolean_looking_key_that_is_no_element_is_named_as_written(folder, key):
    path = _yaml_campaign(folder, f"{{Li: 1, Cl: -1, {key}: 3}}")
    with pytest.raises(CampaignError) as refused:
        load_campaign(path)
    assert key not in chemical_symbols
    assert (f"line {line_of(path, 'charges:')}: analysis.charges: {key!r} is not an element "
            f"symbol") in str(refused.value)


def test_boolean_values_stay_booleans(folder):
    """Only keys are read as written: a value ``no`` is still false (here a charge, which
    the check refuses as no number)."""
    path = _yaml_campaign(folder, "{Li: no, Cl: -1}")
    with pytest.raises(CampaignError, match="the charge of Li is false"):
        load_campaign(path)


def test_the_campaign_files_reader_itself_reads_keys_as_written(folder):
    """One reading of the file (sweep.source.read_source), the one every command gets;
    campaign.py no longer reads it a second time."""
    from ionmd.sweep.source import read_source

    path = _yaml_campaign(folder, "{Li: 1, Cl: -1, No: 3}")
    src = read_source(path)
    assert src.data["analysis"]["charges"] == {"Li": 1, "Cl": -1, "No": 3}
    assert src.line("analysis", "charges", "No") == line_of(path, "charges:")


def _with_mobile_species(folder, species_text: str):
    path = _yaml_campaign(folder, "{Li: 1, Cl: -1}")
    text = path.read_text().replace("protocol:\n", f"protocol:\n  mobile_species: {species_text}\n")
    path.write_text(text)
    return path


@pytest.mark.parametrize("species, index, truth", [("[No]", 0, "false"),
                                                   ("[Y, N, No]", 2, "false"),
                                                   ("[Li, yes]", 1, "true")])
def test_a_list_item_yaml_reads_as_a_boolean_is_refused_naming_the_quoted_form(
        folder, species, index, truth):
    path = _with_mobile_species(folder, species)
    items = yaml.safe_load(path.read_text())["protocol"]["mobile_species"]
    written = species.strip("[]").split(", ")[index]
    assert isinstance(items[index], bool) and str(items[index]).lower() == truth   # the trap
    assert all(isinstance(s, str) for i, s in enumerate(items) if i != index)      # Y, N
    with pytest.raises(CampaignError) as refused:
        load_campaign(path)
    said = str(refused.value)
    assert (f"line {line_of(path, 'mobile_species:')}: protocol.mobile_species[{index}] is "
            f"{written}, unquoted, which YAML 1.1 reads as {truth}") in said
    assert f"quote it ('{written}')" in said
    assert said.count("unquoted") == 1                   # Y and N are names to PyYAML


def test_a_quoted_symbol_in_a_list_is_the_element(folder):
    """Read as the element nobelium: the campaign is refused because the cell (Li, Cl)
    holds none, which names it as the symbol No, not as a boolean."""
    path = _with_mobile_species(folder, "[Li, 'No']")
    with pytest.raises(CampaignError) as refused:
        load_campaign(path)
    assert "mobile_species names No, which this run's structure does not hold" in str(
        refused.value)
