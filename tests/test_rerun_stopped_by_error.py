"""A ``rerun`` that LAMMPS stopped with an error prints no loop line: its block was taken
for a minimisation's (one kinetic energy at every row), even where the ``rerun`` command
was echoed, and lost atoms were dated "during a minimisation after the MD's row at step
20". A rerun's first row goes back to its dump's first snapshot; a minimisation goes on
from the step LAMMPS is at.

References (real ``lmp`` runs of a 108-atom LJ cell): the ``rerun`` command LAMMPS echoes
before the block under the default ``echo log``; the MD's own rows (``fix print``).
"""

from __future__ import annotations

import numpy as np
import pytest

from ionmd.lammps.lost_atoms import find_lost_atoms
from ionmd.lammps.thermo_log import ThermoBlocks, parse_thermo
from lammps_cells import lj_units_fcc_cell
from lammps_runner import run_lmp

MD = lj_units_fcc_cell() + """velocity all create 1.44 87287 loop geom
fix 1 all nve
thermo 5
fix p all print 5 "MDROW $(step)" file md_rows.txt screen no
dump d all custom 5 md.dump id type x y z
dump_modify d sort id
run 20
unfix p
undump d
"""
# an atom of the dump's last snapshot far outside a non-periodic z: lost at its row
LOSES = MD + "change_box all boundary p p f\nrerun bad.dump dump x y z box no\n"
# a dump cut inside its last snapshot: "Unexpected end of file"
TRUNCATED = MD + "rerun cut.dump dump x y z\n"
ECHO = {"log": "", "none": "echo none\n"}


def _bad_dumps(folder) -> None:
    """``bad.dump`` and ``cut.dump`` from the MD's own dump."""
    snaps = (folder / "md.dump").read_text().split("ITEM: TIMESTEP")
    lines = snaps[-1].split("\n")
    k = next(i for i, ln in enumerate(lines) if ln.startswith("1 1 "))
    lines[k] = " ".join(lines[k].split()[:4] + ["99.0"])
    (folder / "bad.dump").write_text("ITEM: TIMESTEP".join(snaps[:-1] + ["\n".join(lines)]))
    text = (folder / "md.dump").read_text()
    (folder / "cut.dump").write_text(text[:len(text) - 1500])


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    """{(case, echo): (log text, MD row steps)}."""
    first = tmp_path_factory.mktemp("rerun_md")
    run_lmp(MD, first)
    out = {}
    for case, script in (("lost", LOSES), ("truncated", TRUNCATED)):
        for echo, head in ECHO.items():
            folder = tmp_path_factory.mktemp(f"rerun_{case}_{echo}")
            for name in ("md.dump",):
                (folder / name).write_text((first / name).read_text())
            _bad_dumps(folder)
            proc = run_lmp(head + script, folder, check=False)
            assert proc.returncode != 0
            md = np.loadtxt(folder / "md_rows.txt", usecols=1).astype(int).tolist()
            out[case, echo] = ((folder / "log.lammps").read_text(), md)
    return out


def _classified(text: str) -> ThermoBlocks:
    blocks = ThermoBlocks()
    for line in text.splitlines():
        blocks.row(line)
    blocks.end()
    return blocks


def _echoed_rerun_block(text: str) -> int:
    """The number of the block that LAMMPS's echoed ``rerun`` command precedes."""
    lines = text.splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.startswith("rerun "))
    return sum(1 for ln in lines[:at] if ln.split()[:1] == ["Step"]) + 1


@pytest.mark.parametrize("case", ["lost", "truncated"])
def test_a_rerun_ended_by_an_error_is_a_rerun(logs, case):
    echoed, md = logs[case, "log"]
    assert "ERROR" in echoed and "Loop time" in echoed
    rerun_block = _echoed_rerun_block(echoed)
    assert rerun_block == 2
    for echo in ECHO:
        text = logs[case, echo][0]
        blocks = _classified(text)
        assert blocks.minimizations == set()           # was {2}
        assert blocks.reruns == {rerun_block}
        assert parse_thermo(text)["Step"].astype(int).tolist() == md


def test_atoms_lost_in_a_rerun_are_dated_at_the_md_s_last_row(logs):
    for echo in ECHO:
        text, md = logs["lost", echo]
        assert "ERROR: Lost atoms" in text
        lost = find_lost_atoms(text)
        assert not lost.in_minimization and lost.in_rerun
        assert lost.step == md[-1] == 20
        assert "rerun" in lost.when and "minimisation" not in lost.when
        assert lost.rerun_row == 15          # the last snapshot row the rerun printed
