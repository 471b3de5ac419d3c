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
