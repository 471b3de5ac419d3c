"""A setting whose name carries its unit (``pressure_end_bar``, ``timestep_fs``) given with
another unit is refused with the number in the name's unit: ``--set pressure_end_bar=5GPa``
said only "must be a number (got '5GPa')" (audit A18). Reference: 1 GPa = 1e4 bar,
1 ps = 1000 fs (SI definitions)."""

from __future__ import annotations

import pytest

from ionmd.errors import IonmdError
from ionmd.protocols import get_protocol


@pytest.mark.parametrize("key, text, said", [
    ("pressure_end_bar", "5GPa", "5 GPa is 50000 bar, write 50000"),
    ("pressure_bar", "1 atm", "1 atm is 1.01325 bar, write 1.01325"),
    ("timestep_fs", "0.002ps", "0.002 ps is 2 fs, write 2"),
    ("timestep_fs", "2fs", "timestep_fs is in fs by its name, write 2"),
])
def test_a_value_in_another_unit_is_told_in_the_name_s_unit(key, text, said):
    with pytest.raises(IonmdError) as exc:
        get_protocol("pressure-ramp", **{key: text})
    assert f"{key} must be a number (got {text!r})" in str(exc.value)
    assert said in str(exc.value), str(exc.value)
