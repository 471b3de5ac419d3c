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


@pytest.mark.parametrize("args", [("--replicas", "2", "--set", "replicas=3"),
                                  ("--temps", "600", "--set", "temperatures=900"),
                                  ("--time", "1ps", "--set", "time=2ps"),
                                  ("--supercell", "none", "--set", "supercell=2x2x2")])
def test_one_key_given_twice_on_the_command_line(tmp_path, capsys, args):
    """A flag won over --set of its key whatever their order (`--replicas 2 --set
    replicas=3` ran 2 replicas) without a word: now refused, naming both. A key --set
    twice keeps the later value, as repeated options do (test_protocols_cmds)."""
    from ionmd.cli import main
    from protocol_setup import fcc_cell, morse_model

    model = morse_model(tmp_path / "morse.pt")
    fcc_cell().write(tmp_path / "fcc.cif")
    out = tmp_path / "out"
    assert main(["run", "conductivity", str(tmp_path / "fcc.cif"), "--model", str(model),
                 *args, "-o", str(out), "--dry-run"]) == 1
    err = capsys.readouterr().err
    first, second = (" ".join(args[:2]), " ".join(args[2:]))
    key = args[3].partition("=")[0]
    assert first in err and second in err and f"both set {key}: give one of them" in err, err
    assert not out.exists()
