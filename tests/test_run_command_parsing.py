"""One reader of echoed ``run`` commands (lammps.echoed_input): the thermo reader
(lammps.log.ThermoBlocks) read ``run N`` / ``run ${n}`` itself while echoed_input's
run_command took digits only. A block LAMMPS ended with an error while its atoms did not
move (one Temp) is an MD run's where a ``run`` command was echoed before it (rows kept),
else taken for a minimisation's; ``run ${n}`` (its substituted echo lost: a log cut
there) counts as ``run 10`` does."""

import pytest

from ionmd.lammps.echoed_input import is_run_command, run_command
from ionmd.lammps.thermo_log import thermo_steps

BLOCK = ["Per MPI rank memory allocation (min/avg/max) = 3.1 | 3.1 | 3.1 Mbytes",
         "   Step          Temp          PotEng    ",
         "         0   300           -10.5        ",
         "        10   300           -10.5        ",
         "ERROR: Lost atoms: original 64 current 63 (src/thermo.cpp:488)"]


def _md_step(echoed: list[str]):
    _, blocks = thermo_steps(echoed + BLOCK, None)
    return blocks.md_step


@pytest.mark.parametrize("command", ["run 10", "run ${n}", "run $n", "run v_n upto"])
def test_a_block_after_an_echoed_run_is_md(command):
    assert is_run_command(command.split())
    assert _md_step([command]) == 10


def test_a_block_without_a_run_command_is_taken_back():
    assert _md_step([]) != 10
    assert _md_step(["run_style verlet"]) != 10
    assert not is_run_command("run_style verlet".split())


@pytest.mark.parametrize("words, read", [
    ("run 1000 upto", (1000, True)), ("run 500 pre no post no", (500, False)),
    ("run ${n} upto", None), ("run", None), ("rerun dump.x dump x y z", None),
])
def test_run_command_reads_n_only_where_it_is_a_number(words, read):
    assert run_command(words.split()) == read
    assert is_run_command(words.split()) == (words.split()[:1] == ["run"]
                                             and len(words.split()) > 1)
