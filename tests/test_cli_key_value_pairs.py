"""``ionmd analyze --charges`` and ``--type-map`` take KEY=VALUE pairs, each key once: before,
``--charges Li=1,Li=2`` silently analysed Li at the last value (2, a sigma 4x that of Li+)
and ``--type-map 1=Li,1=Cl`` read type 1 as Cl. A key given twice is refused, naming it,
before any run is read (the folder here holds no run: reaching it would be another error)."""

from __future__ import annotations

import pytest

from ionmd.cli import main


@pytest.mark.parametrize("option, text, named", [
    ("--charges", "Li=1,Cl=-1,Li=2", "Li is given twice"),
    ("--charges", "Li=1, Li =1", "Li is given twice"),        # the same value twice too
    ("--type-map", "1=Li,01=Cl", "1 is given twice"),        # one LAMMPS type, spelt twice
])
def test_a_key_given_twice_is_refused_naming_it(tmp_path, capsys, option, text, named):
    assert main(["analyze", str(tmp_path), option, text]) == 1
    err = capsys.readouterr().err
    assert named in err and "give each key once" in err, err


@pytest.mark.parametrize("option, text", [("--charges", "=1"), ("--charges", "Li="),
                                          ("--type-map", "1=")])
def test_a_pair_without_its_key_or_value_is_refused(tmp_path, capsys, option, text):
    assert main(["analyze", str(tmp_path), option, text]) == 1
    assert f"expected KEY=VALUE pairs such as Li=1,Cl=-1 or 1=Cl,2=Li; got {text!r}" \
        in capsys.readouterr().err


def test_distinct_keys_pass_to_the_run(tmp_path, capsys):
    """Right pairs are no pairs' error: the folder's own (no run in it) is what is said."""
    assert main(["analyze", str(tmp_path), "--charges", "Li=1,Cl=-1",
                 "--type-map", "1=Li,2=Cl"]) == 1
    err = capsys.readouterr().err
    assert "KEY=VALUE" not in err and "given twice" not in err and err.strip(), err


@pytest.mark.parametrize("text, said", [
    ("1=Xx,2=Cl", "--type-map: type 1: 'Xx' is not an element symbol"),
    ("1=Li=Cl,2=Cl", "--type-map: type 1: 'Li=Cl' is not an element symbol"),
    ("1=li,2=Cl", "--type-map: type 1: 'li' is not an element symbol"),
    ("0=Li,1=Li,2=Cl", "--type-map: LAMMPS atom types start at 1, got 0"),
])
def test_a_type_map_to_no_element_is_refused_naming_it(tmp_path, capsys, text, said):
    """Before, 1=Xx with --mobile Cl ended in a traceback ('Xx' is not a valid Element,
    from pymatgen) and 0=Li was silently ignored; the map is refused before any run is read.
    Reference: ASE's table of element symbols (the message names the wrong one)."""
    from ase.data import chemical_symbols

    bad = text.split(",")[0].split("=", 1)[1]
    assert (bad not in chemical_symbols) == ("not an element symbol" in said)
    assert main(["analyze", str(tmp_path), "--type-map", text, "--mobile", "Cl"]) == 1
    assert said in capsys.readouterr().err
