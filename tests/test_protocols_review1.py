"""Review of the protocol-value readings: a single temperature (``temperature_end``,
``long_below_K``) takes the unit K as ``temperatures`` does ("600K" read as 600 there,
"2100K" was refused here)."""

from __future__ import annotations

import pytest

from ionmd.errors import IonmdError
from ionmd.protocols.presets import PRESETS


@pytest.mark.parametrize("key, text, kelvin", [("temperature_end", "2100K", 2100.0),
                                               ("temperature_end", " 2100.5 K", 2100.5),
                                               ("long_below_K", "500K", 500.0)])
def test_single_temperatures_take_the_unit_k(key, text, kelvin):
    stability = PRESETS["stability"]
    assert getattr(stability.with_overrides(**{key: text}), key) == kelvin
    assert stability.with_overrides(**{key: text}) == stability.with_overrides(**{key: kelvin})
    assert stability.with_overrides(temperatures=text.replace(" ", "")).temperatures == (kelvin,)


@pytest.mark.parametrize("text", ["2100 kelvin", "2100C", "K2100"])
def test_other_units_are_still_refused(text):
    with pytest.raises(IonmdError, match=r"temperature_end must be a number"):
        PRESETS["stability"].with_overrides(temperature_end=text)


def test_a_refusal_quotes_the_temperatures_as_given():
    """The refusal quoted the text with the units taken out ('600, abcK')."""
    with pytest.raises(IonmdError, match=r"cannot read temperatures '600K, abcK'"):
        PRESETS["conductivity"].with_overrides(temperatures="600K, abcK")
