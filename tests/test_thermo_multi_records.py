"""Where a ``thermo_style multi`` record ends. Beside a user's ``fix print`` (``msd = 0.52``: one ``Key = value``
pair, as a multi line holds three). LAMMPS prints the fix's line before each record's
separator, so a record of 12 columns (``multi`` at constant volume: its lines are full,
its end is told by the line after it) was followed by the print line, which was read as
one more pair: a column ``msd`` holding the next step's value, the next record's header
changed, and ``parse_thermo`` ended in ``AttributeError: 'NoneType' object has no attribute
'index'``. LAMMPS pads every multi key to 8 characters (``%-8s = ``, all versions), a print
line's key is not. Reference: the same run written with ``thermo_style custom`` of the
same columns at the same precision (rows equal to the bit).

A column renamed with a space (``thermo_modify colname press "My Press"``) on a record's
later line ended the record before that line: E_coul, E_long and Press left out without a
word (the header check refused such a name only on a record's first line); it is now read
as a key, and the record refused naming it."""

from __future__ import annotations

import numpy as np
import pytest

from ionmd.errors import AnalysisError
from ionmd.lammps.thermo_log import parse_thermo, require_step, thermo_steps
from ionmd.lammps.thermo_styles import multi_pairs
from lammps_runner import run_lmp

RUN = """units metal
lattice fcc 5.26
region box block 0 3 0 3 0 3
create_box 1 box
create_atoms 1 box
mass 1 39.95
pair_style lj/cut 8.0
pair_coeff 1 1 0.0104 3.4
velocity all create 300 4928 mom yes rot yes dist gaussian
timestep 0.002
fix 1 all nvt temp 300 300 0.1
variable pe equal pe
fix p all print 10 "msd = ${{pe}}"
{thermo}
thermo 10
run 40
"""
#: multi's 12 columns at constant volume, and the custom thermo of the same at its precision
MULTI = "thermo_style multi"
CUSTOM = ("thermo_style custom step etotal ke temp pe ebond eangle edihed eimp evdwl ecoul "
          "elong press\nthermo_modify format float %14.4f")
STEPS = [0, 10, 20, 30, 40]


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    base = tmp_path_factory.mktemp("multi_print")
    texts = {}
    for name, thermo in (("multi", MULTI), ("custom", CUSTOM)):
        run_lmp(RUN.format(thermo=thermo), base / name, env={"OMP_NUM_THREADS": "1"})
        texts[name] = (base / name / "log.lammps").read_text()
    assert "\nmsd = " in texts["multi"]          # the print lines are there
    return texts


def test_multi_rows_beside_print_lines_equal_the_custom_twin(logs):
    thermo, twin = parse_thermo(logs["multi"]), parse_thermo(logs["custom"])
    assert "msd" not in thermo
    assert set(thermo) - {"CPU"} == set(twin)
    assert thermo["Step"].astype(int).tolist() == STEPS
    for name in twin:
        np.testing.assert_array_equal(thermo[name], twin[name], err_msg=name)
    assert not thermo.unreadable
    steps, reader = thermo_steps(logs["multi"].splitlines(), None)
    assert sorted(set(steps)) == STEPS and reader.md_step == 40


def test_lammps_padded_pairs_are_read_and_print_lines_are_not():
    assert multi_pairs("TotEng   =        -6.6141 KinEng   =        20.7463 ") == [
        ("TotEng", "-6.6141"), ("KinEng", "20.7463")]
    assert multi_pairs("c_msd[4] =         0.5000 v_longname =   1.0") == [
        ("c_msd[4]", "0.5000"), ("v_longname", "1.0")]
    assert multi_pairs("msd = -24.5795567432102") is None
    assert multi_pairs("Li msd = 0.5") is None
    assert multi_pairs("The MSD of Li = 0.5") is None
    assert multi_pairs("E_coul   =         0.0000 My Press =    -10736.3719") == [
        ("E_coul", "0.0000"), ("My Press", "-10736.3719")]


def test_a_column_name_with_a_space_on_a_later_line_is_refused_by_name(tmp_path):
    script = RUN.format(thermo=MULTI + '\nthermo_modify colname press "My Press"')
    run_lmp(script.replace('fix p all print 10 "msd = ${pe}"\n', ""), tmp_path,
            env={"OMP_NUM_THREADS": "1"})
    text = (tmp_path / "log.lammps").read_text()
    assert "My Press =" in text.split("E_coul   =", 1)[1].splitlines()[0]   # a later line
    thermo = parse_thermo(text)
    assert thermo.unreadable and "My Press" in thermo.unreadable[0]
    with pytest.raises(AnalysisError, match="My Press.*cannot be read"):
        require_step(thermo)
